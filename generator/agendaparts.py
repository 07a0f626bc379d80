"""The parts of sammantradeshandlingar.pdf and their pages, before the package is put together.

A package is a list of ``Part``: the kallelse, the innehållsförteckning, then each point's
handlingar.pdf (in the public version, the notice page of an utelämnad point) in agenda
order (``plan_parts``). ``make_toc`` makes the innehållsförteckning until its own page
count settles, so every part knows its first page; ``page_labels`` gives the package's
page-label ranges, a point's own "Bilaga N:" labels (``inner_labels``) included.
``agendapdf`` assembles the parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pikepdf

from .errors import BundleError
from .kallelsedocx import render_toc
from .sammantrade import LoadedSammantrade, PlannedPunkt


@dataclass
class Part:
    """One document of the package: the kallelse, the innehållsförteckning or a point's pages."""

    pdf: Path | None
    """None for the innehållsförteckning until it is made."""
    title: str
    """The bookmark (and tag Part title): "Kallelse", "Punkt 4. Information om …"."""
    stamp: str
    """The stamp's lead: "Kallelse", "Innehåll", "Punkt 4"."""
    label: str
    """The page label prefix: "Kallelse:", "Punkt 4:"."""
    punkt: PlannedPunkt | None = None
    notice: bool = False
    """True for the public version's page that replaces an utelämnad point."""
    pages: int = 0
    first: int = 0
    """Its first page (0-based) in the package."""


def plan_parts(meeting: LoadedSammantrade, kallelse_pdf: Path, handlingar: dict[int, Path], *,
               public: bool = False, notices: dict[int, Path] | None = None) -> list[Part]:
    """Return the package's parts in order: kallelse, innehåll, each point with pages."""
    parts = [Part(kallelse_pdf, "Kallelse och föredragningslista", "Kallelse", "Kallelse:"),
             Part(None, "Innehåll", "Innehåll", "Innehåll:")]
    for planned in meeting.punkter:
        if planned.nummer not in handlingar:
            continue
        title = f"{planned.nummer}. {planned.rubrik}"
        if public and planned.utelamnad:
            assert notices is not None
            parts.append(Part(notices[planned.nummer], f"{title} (handlingar utelämnade)", planned.label,
                              f"{planned.label}:", planned, notice=True))
        else:
            parts.append(Part(handlingar[planned.nummer], title, planned.label, f"{planned.label}:", planned))
    for part in parts:
        if part.pdf is not None:
            with pikepdf.open(part.pdf) as pdf:
                part.pages = len(pdf.pages)
    return parts




def make_toc(meeting: LoadedSammantrade, parts: list[Part], kallelse_docx: Path, work: Path,
             converter) -> None:
    """Make the innehållsförteckning (``parts[1]``), again until its page count settles.

    Its page numbers depend on its own length; afterwards every part knows its first page.
    """
    work.mkdir(parents=True, exist_ok=True)
    toc = parts[1]
    toc_pages = 1
    for _ in range(4):
        toc.pages = toc_pages
        _number_parts(parts)
        first_page = {part.punkt.nummer: part.first + 1 for part in parts if part.punkt is not None}
        entries = [(p, first_page.get(p.nummer)) for p in meeting.punkter if p.loaded is not None]
        docx = render_toc(meeting, entries, kallelse_docx, work / "innehall.docx")
        toc.pdf = converter.to_pdf(docx, work / "innehall.pdf", pdfa=True, when=meeting.sammantrade.kallelsedatum)
        with pikepdf.open(toc.pdf) as pdf:
            toc_pages = len(pdf.pages)
        if toc_pages == toc.pages:
            return
    raise BundleError("innehållsförteckningen fick inget fast sidantal. Det är ett fel i beslut; rapportera det.")


def _number_parts(parts: list[Part]) -> None:
    first = 0
    for part in parts:
        part.first = first
        first += part.pages


def page_labels(parts: list[Part], pdfs: dict[int, pikepdf.Pdf]) -> list[tuple[int, str]]:
    """Return (first page, prefix) of each page-label range: per part, and per bilaga inside a point."""
    ranges = []
    for index, part in enumerate(parts):
        ranges.append((part.first, part.label))
        if part.punkt is not None and not part.notice:
            for start, prefix in inner_labels(pdfs[index]):
                if start > 0 and prefix:
                    ranges.append((part.first + start, f"{part.stamp} {prefix}"))
    return ranges


def inner_labels(pdf: pikepdf.Pdf) -> list[tuple[int, str]]:
    """Return the (first page, prefix) ranges of a handlingar.pdf's own page labels ("Bilaga 1:")."""
    labels = pdf.Root.get("/PageLabels")
    if labels is None:
        return []
    found = []
    for key, value in pikepdf.NumberTree(labels).items():
        prefix = value.get("/P")
        found.append((int(key), str(prefix) if prefix is not None else ""))
    return found
