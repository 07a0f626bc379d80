"""The public version of sammantradeshandlingar.pdf: notice pages and the personnummer review.

In ``sammantradeshandlingar-offentlig.pdf`` each utelämnad point is one page naming the
point, its diarienummer and the legal ground (``make_notices``, made like the
innehållsförteckning). Before anything is committed, ``check_public`` searches the text of
every page of every public part for personnummer and samordningsnummer
(``personnummer.find_personnummer``) and stops the command (exit 8) on a hit.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pikepdf

from .agendaparts import Part, inner_labels
from .errors import EnvironmentProblem, ReviewError
from .files import sha256_file, write_bytes, write_docx
from .kallelsedocx import plain_document
from .personnummer import find_personnummer
from .sammantrade import LoadedSammantrade


def make_notices(meeting: LoadedSammantrade, kallelse_docx: Path, work: Path, converter) -> dict[int, Path]:
    """Return, per utelämnad point, a one-page PDF saying what was left out and on which ground."""
    notices = {}
    for planned in meeting.punkter:
        if not (planned.has_handlingar and planned.utelamnad):
            continue
        doc = plain_document(kallelse_docx, f"{planned.label}: handlingar utelämnade")
        doc.add_paragraph(f"{planned.nummer}. {planned.rubrik}", style="Heading 1")
        doc.add_paragraph(f"Diarienummer {planned.diarienummer or '-'}")
        doc.add_paragraph(
            f"Handlingarna till punkt {planned.nummer} är utelämnade i den offentliga versionen av "
            f"sammanträdeshandlingarna enligt {planned.utelamnad}.")
        doc.add_paragraph(
            f"Den som vill ta del av handlingarna kan begära det hos {meeting.organisation.avsandare}. "
            "En begäran prövas enligt offentlighets- och sekretesslagen.")
        docx = work / f"utelamnad-{planned.nummer}.docx"
        write_docx(doc, docx)
        notices[planned.nummer] = converter.to_pdf(docx, docx.with_suffix(".pdf"), pdfa=True,
                                                   when=meeting.sammantrade.kallelsedatum)
    return notices



def page_texts(pdf: Path) -> list[str]:
    """Return the text of each page of ``pdf`` (poppler's pdftotext)."""
    try:
        done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True,
                              timeout=600)
    except (OSError, subprocess.SubprocessError) as e:
        raise EnvironmentProblem(f"texten i PDF-filen gick inte att läsa för granskningen ({e}). "
                                 "Kontrollera att poppler-utils är installerat.", file=pdf) from e
    pages = done.stdout.decode("utf-8", "replace").split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


SCAN_KEY = "beslut-personnummer-v1"
"""Part of every key: change it when ``personnummer.find_personnummer`` or the text extraction changes."""


def scan_pdf(pdf: Path, cache: Path | None = None) -> list[tuple[int, str, str]]:
    """Return (page index, kind, masked number) for every personnummer in the text of ``pdf``.

    Kept in ``cache`` by the file's sha256, so an unchanged (reused) ärende's handlingar.pdf
    is read once; only masked numbers are kept.
    """
    key = hashlib.sha256(f"{SCAN_KEY}\n{sha256_file(pdf)}".encode()).hexdigest()
    kept = cache / f"{key}.json" if cache is not None else None
    if kept is not None and kept.is_file():
        try:
            return [(int(n), str(kind), str(masked)) for n, kind, masked in json.loads(kept.read_text())]
        except (OSError, ValueError, TypeError):
            pass
    found = [(n, kind, match.group(0)[:-4] + "XXXX")
             for n, text in enumerate(page_texts(pdf)) for match, kind in find_personnummer(text)]
    if kept is not None:
        write_bytes(kept, json.dumps(found).encode())
    return found


def check_public(meeting: LoadedSammantrade, parts: list[Part], cache: Path | None = None) -> None:
    """Stop (ReviewError, exit 8) on a personnummer or samordningsnummer in any public part.

    Every page of every part is searched, bilagor included; utelämnade points are not in the
    public version (their notice page is). The message names the page of the public version
    and where it is in its point. The parts are read two at a time (pdftotext, one per core).
    """
    from concurrent.futures import ThreadPoolExecutor

    readable = [part for part in parts if part.pdf is not None]
    with ThreadPoolExecutor(max_workers=2) as pool:
        scanned = list(pool.map(lambda part: scan_pdf(part.pdf, cache), readable))
    found = []
    for part, hits in zip(readable, scanned, strict=True):
        assert part.pdf is not None
        labels = sorted(_labels_of(part.pdf)) if part.punkt is not None and not part.notice else []
        for n, kind, masked in hits:
            current = next((prefix for start, prefix in reversed(labels) if start <= n), "")
            where = f"{part.stamp}" + (f", {current.rstrip(':')}" if current.startswith("Bilaga") else "")
            found.append(f"sida {part.first + n + 1} ({where}, sida {n + 1} av {part.pages}): {kind} {masked}")
    if found:
        raise ReviewError(
            "den offentliga versionen av sammanträdeshandlingarna innehåller personnummer och får inte "
            "publiceras:\n" + "\n".join(f"  {line}" for line in found) + "\nTa bort uppgiften ur "
            "handlingen, eller markera punkten 'utelämnad: <lagrum>' i sammanträdet om handlingarna inte "
            "ska vara offentliga.", file=meeting.source)


def _labels_of(pdf_path: Path) -> list[tuple[int, str]]:
    with pikepdf.open(pdf_path) as pdf:
        return inner_labels(pdf)
