"""``beslut agenda``: a sammanträde's kallelse, föredragningslista and sammanträdeshandlingar.

The story, top to bottom (``build_agenda``):

1. load and check the meeting and every ärende it names (``sammantrade``); nothing is
   written if anything is wrong (exit 3, or 8 for an ärende with a stopp);
2. make sure each ärende's handlingar.pdf is current: reused when the ärende's inputs have
   the fingerprint recorded at its last build for a meeting, else built through the one
   engine (``planning.plan_arende`` / ``runner.run_plan``, which ``pipeline`` gives the faces);
3. render ``kallelse.docx`` from ``templates/docx/kallelse.docx`` and convert it to
   PDF/A-2a + PDF/UA-1 (``Converter.to_pdf``, which finishes and validates);
4. write ``sammantradeshandlingar.pdf`` (the kallelse, a clickable innehållsförteckning,
   then each point's paper and bilagor) and ``sammantradeshandlingar-offentlig.pdf`` (each
   utelämnad point replaced by one page naming the legal ground), assembled with pikepdf
   (``assemble``), after the public version's personnummer review (exit 8);
5. commit: every file moves from the run's staging folder into
   ``out/sammantraden/<namn>/`` only when all succeeded, with a manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pikepdf
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from pikepdf import Array, Dictionary, Name, String

from . import __version__
from .accessibility import PartReport, Problem
from .bundle import A4, STAMP_MARGIN, STAMP_PADDING, STAMP_SIZE, register_stamp_font, without_null_mappings
from .conformance import claim_pdfua, validate_pdf
from .content import LoadedArende, load_organisationer
from .errors import (
    BundleError,
    ConversionError,
    EnvironmentProblem,
    ReviewError,
    TemplateError,
    describe_os_error,
)
from .files import fingerprint_of, sha256_file, write_bytes, write_docx
from .jobs import REPORT_STEM, check_out_folder, paper_outputs
from .personnummer import find_personnummer
from .render import render_docx
from .runtemp import process_folder

if TYPE_CHECKING:
    from .convert import PdfConverter
from .sammantrade import SAMMANTRADEN_DIR, LoadedSammantrade, PlannedPunkt, load_sammantrade
from .templates import template_path

KALLELSE = "kallelse.docx"
"""The template of the kallelse with its föredragningslista (``templates/docx/kallelse.docx``)."""
KALLELSE_VARIABLES = frozenset({
    "organisation", "avsandare", "kallelsedatum", "datum", "tid", "plats", "ordforande", "sekreterare",
    "ledamoter", "ersattare", "punkter",
})
"""The variables the kallelse template may use; each of ``punkter`` has nummer, rubrik, arende,
diarienummer, foredragande, utelamnad, utan_handlingar and text."""

HANDLINGAR_NAME = "sammantradeshandlingar.pdf"
OFFENTLIG_NAME = "sammantradeshandlingar-offentlig.pdf"
MANIFEST_NAME = "manifest.json"
STAGING_DIR = ".beslut-arbete"
TOC_LINK = "https://sammantrade.invalid/punkt/"
"""The innehållsförteckning's links are written as these URLs and turned into links to the
point's first page when the package is put together."""


# --- the layout of out/ --------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaOutputs:
    """Where a meeting's files go: ``out/sammantraden/<namn>/``."""

    folder: Path

    @property
    def kallelse_docx(self) -> Path:
        return self.folder / "kallelse.docx"

    @property
    def kallelse_pdf(self) -> Path:
        return self.folder / "kallelse.pdf"

    @property
    def handlingar(self) -> Path:
        return self.folder / HANDLINGAR_NAME

    @property
    def offentlig(self) -> Path:
        return self.folder / OFFENTLIG_NAME

    @property
    def report(self) -> Path:
        return self.folder / f"{REPORT_STEM}.txt"

    @property
    def report_json(self) -> Path:
        return self.folder / f"{REPORT_STEM}.json"

    @property
    def manifest(self) -> Path:
        return self.folder / MANIFEST_NAME

    def files(self) -> list[Path]:
        return [self.kallelse_docx, self.kallelse_pdf, self.handlingar, self.offentlig, self.report,
                self.report_json]


def agenda_outputs(out: Path, meeting: LoadedSammantrade) -> AgendaOutputs:
    """Return where the meeting's files go."""
    return AgendaOutputs(out / SAMMANTRADEN_DIR / meeting.name)


@dataclass
class AgendaResult:
    """What ``build_agenda`` wrote, reused and built, and what it warns about."""

    files: list[Path] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    """The ärenden whose handlingar.pdf was reused (inputs unchanged)."""
    built: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pdfua: dict[str, bool] = field(default_factory=dict)
    """Per package (file name): whether it claims PDF/UA-1."""
    manifest: Path | None = None


# --- the story -----------------------------------------------------------------------------


def validate_agenda(path: Path, organisationer_path: Path) -> LoadedSammantrade:
    """Load and check a sammanträde and every ärende it names; write nothing."""
    organisationer = load_organisationer(organisationer_path)
    return load_sammantrade(path, organisationer, organisationer_path.parent)


def build_agenda(path: Path, organisationer_path: Path, out: Path, *, templates: Path | None = None,
                 converter_factory: Callable | None = None,
                 on_progress: Callable[[str], None] | None = None) -> AgendaResult:
    """Check the meeting, then write its kallelse and both sammanträdeshandlingar; return what was done."""
    meeting = validate_agenda(path, organisationer_path)
    check_out_folder(out, meeting.source.parent, organisationer_path.resolve().parent)
    template = template_path(templates, KALLELSE)
    if not template.is_file():
        raise TemplateError("mallen för kallelsen saknas. Kopiera kallelse.docx från templates/docx/ "
                            "till mallmappen.", file=template)
    outputs = agenda_outputs(out, meeting)
    result = AgendaResult()
    say = on_progress or (lambda text: None)
    if converter_factory is None:
        from .convert import Converter

        converter_factory = Converter
    previous = _read_json(outputs.manifest)
    handlingar: dict[int, Path] = {}
    fingerprints: dict[str, dict] = {}
    with ExitStack() as stack:
        staging = process_folder(out / STAGING_DIR)
        stack.callback(_remove_if_empty, staging.parent)
        stack.callback(shutil.rmtree, staging, True)
        staged = AgendaOutputs(staging)
        work = staging / "delar"
        work.mkdir()
        # Everything LibreOffice makes, first; it is stopped before the (large) assembly.
        with converter_factory() as converter:
            for planned in meeting.punkter:
                if planned.has_handlingar:
                    assert planned.loaded is not None
                    say(f"{planned.label}: {planned.rubrik}")
                    pdf, entry, reused = ensure_handlingar(planned.loaded, organisationer_path, out, templates,
                                                           converter, previous.get("ärenden", {}))
                    handlingar[planned.nummer] = pdf
                    fingerprints[_arende_key(planned.loaded)] = entry
                    (result.reused if reused else result.built).append(planned.loaded.name)
            say("Kallelse")
            render_kallelse(meeting, staged.kallelse_docx, template)
            converter.to_pdf(staged.kallelse_docx, staged.kallelse_pdf, pdfa=True,
                             when=meeting.sammantrade.kallelsedatum)
            say("Innehållsförteckning")
            parts = plan_parts(meeting, staged.kallelse_pdf, handlingar)
            make_toc(meeting, parts, staged.kallelse_docx, work / "intern", converter)
            public_parts = plan_parts(meeting, staged.kallelse_pdf, handlingar, public=True,
                                      notices=make_notices(meeting, staged.kallelse_docx, work, converter))
            make_toc(meeting, public_parts, staged.kallelse_docx, work / "offentlig", converter)
        check_public(meeting, public_parts, out / SCAN_CACHE)  # exit 8 before anything is written
        say("Sammanträdeshandlingar")
        internal = assemble(parts, staged.handlingar, title=f"Sammanträdeshandlingar: {meeting.title}")
        public = assemble(public_parts, staged.offentlig,
                          title=f"Sammanträdeshandlingar (offentlig version): {meeting.title}")
        result.pdfua = {HANDLINGAR_NAME: internal.pdfua, OFFENTLIG_NAME: public.pdfua}
        reports = part_reports(meeting, parts, handlingar, internal)
        summary = write_agenda_report(reports, internal, meeting, staged.report, staged.report_json)
        if summary:
            result.warnings.append(summary)
        result.warnings += internal.warnings
        result.files = commit(staged, outputs)
    result.manifest = write_agenda_manifest(outputs, meeting, result, fingerprints)
    return result


# --- each ärende's handlingar: reused or built ----------------------------------------------


def _arende_key(loaded: LoadedArende) -> str:
    return f"{loaded.name}/{loaded.organisation.id}"


def arende_fingerprint(loaded: LoadedArende, organisationer_path: Path, templates: Path | None) -> str:
    """Return the sha256 of everything an ärende's handlingar.pdf is made from.

    Every file in the ärende's folder (YAML, overrides, bilagor), the registry, the paper's
    template and the version of beslut: when none of these changed, neither did the output.
    """
    from .templates import BESLUTSUNDERLAG

    folder = loaded.folder.resolve()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    return fingerprint_of([(file.relative_to(folder).as_posix(), file) for file in files]
                              + [(file.name, file) for file in (organisationer_path,
                                                                template_path(templates, BESLUTSUNDERLAG))])


def ensure_handlingar(loaded: LoadedArende, organisationer_path: Path, out: Path, templates: Path | None,
                      converter, recorded: dict) -> tuple[Path, dict, bool]:
    """Return the ärende's handlingar.pdf, its manifest entry, and whether it was reused.

    It is reused when the meeting's manifest recorded the same input fingerprint for it and
    the file on disk is the one recorded (same sha256); else the ärende is built (``build``).
    """
    outputs = paper_outputs(out, loaded, pdf=True, bundle=True)
    assert outputs.bundle is not None and outputs.report_json is not None
    fingerprint = arende_fingerprint(loaded, organisationer_path, templates)
    entry = recorded.get(_arende_key(loaded), {})
    if (entry.get("fingeravtryck") == fingerprint and outputs.bundle.is_file()
            and outputs.report_json.is_file() and sha256_file(outputs.bundle) == entry.get("sha256")):
        return outputs.bundle, entry, True
    from .planning import plan_arende
    from .runner import run_plan

    plan = plan_arende(loaded.folder, organisationer_path, out,
                       only=[loaded.organisation.id] if loaded.shared else None,
                       bundle=True, templates=templates)
    report = run_plan(plan, workers=1, converter_factory=lambda: _Borrowed(converter))
    release_memory()  # pypdf's bundle of this ärende is gone; do not carry its pages into the next
    if report.failed:
        failed = report.failed[0]
        kind = {4: TemplateError, 5: ConversionError, 7: EnvironmentProblem, 8: ReviewError}.get(
            failed.exit_code, BundleError)
        raise kind(f"handlingarna till ärendet '{loaded.name}' gick inte att bygga: {failed.error}")
    entry = {"fingeravtryck": fingerprint, "handlingar": os.path.relpath(outputs.bundle, out),
             "sha256": sha256_file(outputs.bundle)}
    return outputs.bundle, entry, False


class _Borrowed:
    """The meeting's converter lent to the engine's run, which must not close it (a ``PdfConverter``)."""

    def __init__(self, converter: PdfConverter):
        self.converter = converter

    def __enter__(self) -> _Borrowed:
        return self

    def __exit__(self, *exc: object) -> None:
        pass  # the meeting closes its converter

    def start(self) -> None:
        self.converter.start()

    def to_pdf(self, src: Path, dst: Path, *, pdfa: bool = True, title: str | None = None,
               when: date | None = None) -> Path:
        return self.converter.to_pdf(src, dst, pdfa=pdfa, title=title, when=when)

    def export_pdf(self, src: Path, out: Path, *, options: tuple[str, ...] = ()) -> Path:
        return self.converter.export_pdf(src, out, options=options)


# --- the kallelse --------------------------------------------------------------------------


def kallelse_context(meeting: LoadedSammantrade) -> dict:
    """Return the kallelse template's context (``KALLELSE_VARIABLES``)."""
    s = meeting.sammantrade
    return {
        "organisation": meeting.organisation.namn,
        "avsandare": meeting.organisation.avsandare,
        "kallelsedatum": s.kallelsedatum.isoformat(),
        "datum": s.datum.isoformat(),
        "tid": s.tid,
        "plats": s.plats,
        "ordforande": s.ordforande,
        "sekreterare": s.sekreterare,
        "ledamoter": list(meeting.kallade.ledamoter),
        "ersattare": list(meeting.kallade.ersattare),
        "punkter": [
            {
                "nummer": p.nummer,
                "rubrik": p.rubrik,
                "arende": p.loaded is not None,
                "diarienummer": p.diarienummer or "-",
                "foredragande": p.punkt.foredragande,
                "utelamnad": p.utelamnad,
                "utan_handlingar": p.loaded is not None and p.punkt.handlingar == "nej",
                "text": p.punkt.text,
            }
            for p in meeting.punkter
        ],
    }


def render_kallelse(meeting: LoadedSammantrade, target: Path, template: Path) -> Path:
    """Render the kallelse with its föredragningslista into ``target``."""
    return render_docx(template, lambda markdown: kallelse_context(meeting), target,
                       title=f"Kallelse: {meeting.title}", author=meeting.sammantrade.sekreterare,
                       when=meeting.sammantrade.kallelsedatum)


EXAMPLE_CONTEXT = {
    "organisation": "Exempelnämnden", "avsandare": "Exempelförvaltningen", "kallelsedatum": "2023-10-17",
    "datum": "2023-10-24", "tid": "16.00", "plats": "Rum 1", "ordforande": "Anna Exempel",
    "sekreterare": "Per Exempel", "ledamoter": ["Anna Exempel"], "ersattare": ["Bo Exempel"],
    "punkter": [{"nummer": 1, "rubrik": "Ett ärende", "arende": True, "diarienummer": "1/23",
                 "foredragande": "Anna Exempel", "utelamnad": "OSL 19 kap. 3 §", "utan_handlingar": False,
                 "text": None}],
}
"""A kallelse's context for ``beslut templates``' trial render of an edited template."""


# --- documents made from the kallelse: innehållsförteckning and notices ---------------------


def plain_document(kallelse_docx: Path, title: str):
    """Return the rendered kallelse emptied of its body: its styles, header and footer kept."""
    doc = Document(str(kallelse_docx))
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    doc.core_properties.title = title
    for section in doc.sections:  # the footer names the document: not "kallelse" here
        for paragraph in section.footer.paragraphs:
            for run in paragraph.runs:
                run.text = run.text.replace(", kallelse ", ", sammanträdeshandlingar ")
    return doc


def add_link(paragraph, text: str, url: str) -> None:
    """Append ``text`` to ``paragraph`` as a hyperlink to ``url``, in the Hyperlink style."""
    rel = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = paragraph.add_run(text)
    run.style = "Hyperlink"
    link.append(run._r)
    paragraph._p.append(link)


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


TOC_WIDTHS = (1.6, 12.4, 2.0)
"""The innehållsförteckning's columns in cm: Punkt, Ärendemening, Sida (16 cm between the margins)."""


def render_toc(meeting: LoadedSammantrade, entries: list[tuple[PlannedPunkt, int | None]], kallelse_docx: Path,
               target: Path) -> Path:
    """Write the innehållsförteckning: point, ärendemening (a link) and page, as a Word table."""
    doc = plain_document(kallelse_docx, f"Innehåll: {meeting.title}")
    doc.add_paragraph("Innehåll", style="Heading 1")
    doc.add_paragraph(f"Sammanträdeshandlingar, {meeting.title}.")
    table = doc.add_table(rows=1, cols=3)
    table.style = "Tabell"
    header = table.rows[0]
    trpr = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    trpr.append(repeat)
    for cell, text in zip(header.cells, ("Punkt", "Ärendemening", "Sida"), strict=True):
        cell.paragraphs[0].style = "Tabelltext"
        cell.paragraphs[0].add_run(text).bold = True
    for planned, page in entries:
        row = table.add_row()
        cells = row.cells
        for cell in cells:
            cell.paragraphs[0].style = "Tabelltext"
        cells[0].paragraphs[0].add_run(str(planned.nummer))
        if page is not None:
            add_link(cells[1].paragraphs[0], planned.rubrik, f"{TOC_LINK}{planned.nummer}")
            cells[2].paragraphs[0].add_run(str(page))
        else:
            cells[1].paragraphs[0].add_run(planned.rubrik)
            cells[2].paragraphs[0].add_run("–")
    table.autofit = False
    for column, width in zip(table.columns, TOC_WIDTHS, strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)
    doc.add_paragraph().paragraph_format.space_after = Pt(0)
    write_docx(doc, target)
    return target


# --- the package: parts, pages, stamps -----------------------------------------------------


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


@dataclass
class Package:
    """What ``assemble`` made: whether it claims PDF/UA-1 and why not."""

    pdfua: bool
    failures: list[tuple[str, str]]
    tagged: bool
    warnings: list[str] = field(default_factory=list)


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
            for start, prefix in _inner_labels(pdfs[index]):
                if start > 0 and prefix:
                    ranges.append((part.first + start, f"{part.stamp} {prefix}"))
    return ranges


def _inner_labels(pdf: pikepdf.Pdf) -> list[tuple[int, str]]:
    """Return the (first page, prefix) ranges of a handlingar.pdf's own page labels ("Bilaga 1:")."""
    labels = pdf.Root.get("/PageLabels")
    if labels is None:
        return []
    found = []
    for key, value in pikepdf.NumberTree(labels).items():
        prefix = value.get("/P")
        found.append((int(key), str(prefix) if prefix is not None else ""))
    return found


def assemble(parts: list[Part], target: Path, *, title: str, language: str = "sv-SE") -> Package:
    """Write the parts into one PDF with pikepdf: pages, structure, outline, labels, stamps, links.

    qpdf copies each part's pages and structure elements as foreign objects and reads stream
    data only when the file is written, so memory grows with the objects, not the content.
    Each part keeps its own bookmarks under its point's; every page gets a "Punkt N · sida X av Y"
    stamp beside the "Bilaga N" stamp it may have. PDF/UA-1 is claimed only when the validator
    passes the result (``conformance.claim_pdfua``).
    """
    untagged = write_assembled(parts, target, title=title, language=language)
    tagged = not untagged
    release_memory()  # qpdf's objects are freed; give the pages back before the validator reads the file
    failures = claim_pdfua(target, title=title) if tagged else [("untagged", "delar saknar taggar")]
    release_memory()
    warnings = []
    if not tagged:
        warnings.append(f"{target.name} blir inte taggad, eftersom någon del saknar taggar ({'; '.join(untagged)}).")
    return Package(pdfua=tagged and not failures, failures=failures, tagged=tagged, warnings=warnings)


def write_assembled(parts: list[Part], target: Path, *, title: str, language: str) -> list[str]:
    """Write the assembled PDF (``assemble``); return the titles of the parts without tags.

    Every pikepdf object lives in this function, so all of qpdf's memory is free on return.
    """
    with ExitStack() as stack:
        out = stack.enter_context(pikepdf.new())
        sources: dict[int, pikepdf.Pdf] = {}
        for index, part in enumerate(parts):
            assert part.pdf is not None
            sources[index] = stack.enter_context(pikepdf.open(part.pdf))
        untagged = [part.title for i, part in enumerate(parts) if "/StructTreeRoot" not in sources[i].Root]
        tagged = not untagged
        structure = _Structure(out) if tagged else None
        for index, part in enumerate(parts):
            src = sources[index]
            part.first = len(out.pages)
            out.pages.extend(src.pages)
            part.pages = len(src.pages)
            if structure is not None:
                structure.add(src, part.first, part.pages, part.title)
        if structure is not None:
            structure.finish(language)
        else:
            for page in out.pages:
                if "/StructParents" in page.obj:
                    del page.obj["/StructParents"]
        _write_outline(out, parts, sources)
        _write_page_labels(out, page_labels(parts, sources))
        _link_toc(out, parts)
        Stamper(out, parts, sources).stamp_all()
        out.Root.Lang = String(language)
        out.Root.MarkInfo = Dictionary(Marked=tagged)
        out.Root.PageMode = Name.UseOutlines
        out.docinfo[Name.Title] = title
        out.docinfo[Name.Producer] = f"beslut {__version__}"
        with atomic_target(target) as tmp:
            out.save(tmp, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                     compress_streams=True)
    return untagged


def release_memory() -> None:
    """Return freed heap memory to the system (glibc's ``malloc_trim``; nothing elsewhere).

    qpdf and the validator free what they used, but glibc keeps the pages in its arenas: a
    package of 2,000 pages left the process 220 MiB larger than before, which then stood
    under the next step's peak. Trimmed, it is back within a few MiB.
    """
    import ctypes

    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


@contextmanager
def atomic_target(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``, moved over it when the block succeeds."""
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class _Structure:
    """The package's structure tree: one Document, a Part per part with that part's elements."""

    def __init__(self, pdf: pikepdf.Pdf):
        self.pdf = pdf
        self.root = pdf.make_indirect(Dictionary(Type=Name.StructTreeRoot))
        self.document = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, P=self.root,
                                                     K=Array()))
        self.root.K = Array([self.document])
        self.parent_tree: dict[int, pikepdf.Object] = {}
        self.role_map = Dictionary()
        self.class_map = Dictionary()
        self.next_key = 0

    def add(self, src: pikepdf.Pdf, first: int, count: int, title: str) -> None:
        """Copy ``src``'s structure tree under a new Part; renumber its pages' parent-tree keys."""
        copied = self.pdf.copy_foreign(src.Root.StructTreeRoot)
        part = self.pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Part, P=self.document,
                                                 T=String(title), K=Array()))
        self.document.K.append(part)
        for kid in _as_list(copied.get("/K")):
            if isinstance(kid, Dictionary) and kid.get("/S") == Name.Document:
                for inner in _as_list(kid.get("/K")):
                    self._adopt(part, inner)
            else:
                self._adopt(part, kid)
        offset = self.next_key
        top = -1
        if "/ParentTree" in copied:
            for key, value in pikepdf.NumberTree(copied.ParentTree).items():
                self.parent_tree[int(key) + offset] = value
                top = max(top, int(key))
        for page in self.pdf.pages[first:first + count]:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + offset
            for annot in page.obj.get("/Annots", Array()):
                if isinstance(annot, Dictionary) and "/StructParent" in annot:
                    annot.StructParent = int(annot.StructParent) + offset
            page.obj.Tabs = Name.S
        self.next_key = offset + top + 1
        for role, value in copied.get("/RoleMap", Dictionary()).items():
            if Name(role) != value:
                self.role_map[role] = value
        for klass, value in copied.get("/ClassMap", Dictionary()).items():
            self.class_map[klass] = value

    def _adopt(self, part: Dictionary, kid) -> None:
        if isinstance(kid, Dictionary):
            kid.P = part
            part.K.append(kid)

    def finish(self, language: str) -> None:
        tree = pikepdf.NumberTree.new(self.pdf)
        for key in sorted(self.parent_tree):
            tree[key] = self.parent_tree[key]
        self.root.ParentTree = tree.obj
        self.root.ParentTreeNextKey = self.next_key
        if len(self.role_map):
            self.root.RoleMap = self.role_map
        if len(self.class_map):
            self.root.ClassMap = self.class_map
        self.document.Lang = String(language)
        self.pdf.Root.StructTreeRoot = self.root


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, Array):
        return list(value)
    return [value]


def _write_outline(out: pikepdf.Pdf, parts: list[Part], sources: dict[int, pikepdf.Pdf]) -> None:
    """Bookmarks: each part, and under a point its paper and "Bilaga N" from its own outline."""
    with out.open_outline() as outline:
        for index, part in enumerate(parts):
            item = pikepdf.OutlineItem(part.title, part.first)
            if part.punkt is not None and not part.notice:
                src = sources[index]
                numbers = {page.objgen: n for n, page in enumerate(src.pages)}
                with src.open_outline() as inner:
                    for child in inner.root:
                        page = _destination_page(child, numbers)
                        if page is not None:
                            item.children.append(pikepdf.OutlineItem(child.title, part.first + page))
            outline.root.append(item)


def _destination_page(item, numbers: dict) -> int | None:
    dest = item.destination
    if dest is None and item.action is not None:
        dest = item.action.get("/D")
    if isinstance(dest, Array) and len(dest) and isinstance(dest[0], Dictionary):
        return numbers.get(dest[0].objgen)
    return None


def _write_page_labels(out: pikepdf.Pdf, ranges: list[tuple[int, str]]) -> None:
    nums = Array()
    for start, prefix in sorted(ranges):
        nums.append(start)
        nums.append(Dictionary(S=Name.D, P=String(prefix), St=1))
    out.Root.PageLabels = Dictionary(Nums=nums)


def _link_toc(out: pikepdf.Pdf, parts: list[Part]) -> None:
    """Turn the innehållsförteckning's placeholder URLs into links to each point's first page."""
    toc = parts[1]
    first = {part.punkt.nummer: part for part in parts if part.punkt is not None}
    for page in out.pages[toc.first:toc.first + toc.pages]:
        for annot in page.obj.get("/Annots", Array()):
            action = annot.get("/A")
            uri = str(action.get("/URI", "")) if isinstance(action, Dictionary) else ""
            if not uri.startswith(TOC_LINK):
                continue
            target = first[int(uri.removeprefix(TOC_LINK))]
            annot.A = Dictionary(S=Name.GoTo, D=Array([out.pages[target.first].obj, Name.Fit]))
            annot.Contents = String(f"Gå till {target.title}, sida {target.first + 1}")


class Stamper:
    """Draws "Punkt N · sida X av Y" at the top of every page, left of a "Bilaga N" stamp.

    The texts come from one reportlab document (one font subset for them all); each page
    gets the drawing as a pagination artifact in a content stream of its own, placed by the
    page's visible box and /Rotate (as ``bundle.stamp_page`` places "Bilaga N").
    """

    def __init__(self, out: pikepdf.Pdf, parts: list[Part], sources: dict[int, pikepdf.Pdf]):
        self.out = out
        self.texts: list[str] = []
        self.bilaga: list[str | None] = []
        for index, part in enumerate(parts):
            labels = dict(_inner_labels(sources[index])) if part.punkt is not None and not part.notice else {}
            current = None
            for n in range(part.pages):
                prefix = labels.get(n, current)
                current = prefix
                self.texts.append(f"{part.stamp} · sida {n + 1} av {part.pages}")
                self.bilaga.append(prefix.rstrip(":") if prefix and prefix.startswith("Bilaga") else None)

    def stamp_all(self) -> None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfgen import canvas

        font = register_stamp_font()
        face = pdfmetrics.getFont(font).face  # type: ignore[attr-defined]
        descent = face.descent * STAMP_SIZE / 1000
        ascent = face.ascent * STAMP_SIZE / 1000
        height = ascent - descent + 2 * STAMP_PADDING
        buffer = io.BytesIO()
        c = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
        widths = []
        for text in self.texts:
            width = pdfmetrics.stringWidth(text, font, STAMP_SIZE) + 2 * STAMP_PADDING
            widths.append(width)
            c.addLiteral("/Artifact <</Type /Pagination /Subtype /Header>> BDC")
            c.setFillColorRGB(1, 1, 1)
            c.setStrokeColorRGB(0.35, 0.35, 0.35)
            c.setLineWidth(0.5)
            c.rect(0, 0, width, height, stroke=1, fill=1)
            c.setFillColorRGB(0, 0, 0)
            c.setFont(font, STAMP_SIZE)
            c.drawString(STAMP_PADDING, STAMP_PADDING - descent, text)
            c.addLiteral("EMC")
            c.showPage()
        c.save()
        with pikepdf.open(io.BytesIO(buffer.getvalue())) as overlay:
            fonts: dict[str, pikepdf.Object] = {}
            for n, (page, drawing) in enumerate(zip(self.out.pages, overlay.pages, strict=True)):
                resources = drawing.obj.Resources.get("/Font", Dictionary())
                for name, font_obj in resources.items():
                    if name not in fonts:
                        copied = self.out.copy_foreign(font_obj)
                        unicode = copied.get("/ToUnicode")
                        if unicode is not None:
                            unicode.write(without_null_mappings(unicode.read_bytes()))
                        fonts[name] = copied
                content = drawing.obj.Contents.read_bytes()
                for name in resources.keys():
                    content = content.replace(f"{name} ".encode(), f"/BStamp{name[1:]} ".encode())
                bilaga = self.bilaga[n]
                shift = 0.0
                if bilaga:
                    shift = pdfmetrics.stringWidth(bilaga, font, STAMP_SIZE) + 2 * STAMP_PADDING + 6
                self._place(page, content, widths[n], height, shift,
                            {f"/BStamp{name[1:]}": fonts[name] for name in resources.keys()})

    def _place(self, page, content: bytes, width: float, height: float, shift: float, fonts: dict) -> None:
        left, bottom, right, top = _visible_box(page)
        rotation = (round(int(page.obj.get("/Rotate", 0)) / 90) * 90) % 360
        origin = {0: (left, bottom), 90: (right, bottom), 180: (right, top), 270: (left, top)}[rotation]
        w, h = right - left, top - bottom
        visual_w, visual_h = (w, h) if rotation in (0, 180) else (h, w)
        x = visual_w - STAMP_MARGIN - shift - width
        y = visual_h - STAMP_MARGIN - height
        cos, sin = {0: (1, 0), 90: (0, 1), 180: (-1, 0), 270: (0, -1)}[rotation]
        matrix = f"{cos} {sin} {-sin} {cos} {origin[0]:.3f} {origin[1]:.3f} cm 1 0 0 1 {x:.3f} {y:.3f} cm\n"
        resources = page.obj.get("/Resources")
        if not isinstance(resources, Dictionary):
            resources = page.obj.Resources = Dictionary()
        font_dict = resources.get("/Font")
        if not isinstance(font_dict, Dictionary):
            font_dict = resources.Font = Dictionary()
        for name, font_obj in fonts.items():
            font_dict[name] = font_obj
        page.contents_add(pikepdf.Stream(self.out, b"q\n"), prepend=True)
        page.contents_add(pikepdf.Stream(self.out, b"\nQ\nq\n" + matrix.encode() + content + b"\nQ\n"))


def _visible_box(page) -> tuple[float, float, float, float]:
    boxes = []
    for key in ("/CropBox", "/MediaBox"):
        box = page.obj.get(key, page.obj.get("/MediaBox"))
        xs = sorted((float(box[0]), float(box[2])))
        ys = sorted((float(box[1]), float(box[3])))
        boxes.append((xs[0], ys[0], xs[1], ys[1]))
    (l1, b1, r1, t1), (l2, b2, r2, t2) = boxes
    visible = (max(l1, l2), max(b1, b2), min(r1, r2), min(t1, t2))
    return visible if visible[0] < visible[2] and visible[1] < visible[3] else boxes[1]


# --- the public version's review -----------------------------------------------------------


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


SCAN_CACHE = Path(".cache") / "personnummer"
"""Where the public review keeps what it found per part, by the part's sha256 (in ``out/``)."""
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
        return _inner_labels(pdf)


# --- the tillgänglighetsrapport, the commit and the manifest --------------------------------


def part_reports(meeting: LoadedSammantrade, parts: list[Part], handlingar: dict[int, Path],
                 package: Package) -> list[PartReport]:
    """Return the accessibility of every part: the kallelse and innehåll checked now, each
    point's parts as its own build's tillgänglighetsrapport.json said."""
    reports = []
    for part in parts:
        if part.punkt is None:
            assert part.pdf is not None
            failures = validate_pdf(part.pdf, "ua1")
            problems = [Problem(regel=rule, text=message, atgard="rapportera det till förvaltarna av beslut")
                        for rule, message in failures[:5]]
            reports.append(PartReport(del_=part.title, kort=part.stamp, fil=part.pdf.name, problem=problems))
            continue
        data = _read_json(handlingar[part.punkt.nummer].with_name(f"{REPORT_STEM}.json"))
        for entry in data.get("delar", []):
            problems = [Problem(**p) for p in entry.get("problem", [])]
            reports.append(PartReport(del_=f"{part.stamp}: {entry.get('del', '')}", kort=part.stamp,
                                      fil=str(entry.get("fil", "")), problem=problems))
    return reports


def write_agenda_report(reports: list[PartReport], package: Package, meeting: LoadedSammantrade,
                        text_path: Path, json_path: Path) -> str:
    """Write the one tillgänglighetsrapport of the package; return a one-line summary ("" if it passes)."""
    lines = [f"Tillgänglighetsrapport för {HANDLINGAR_NAME}", f"Sammanträde: {meeting.title}", ""]
    lines.append(f"{HANDLINGAR_NAME} uppfyller PDF/UA-1 (tillgänglig PDF) enligt kontrollen och är märkt som "
                 "tillgänglig." if package.pdfua else
                 f"{HANDLINGAR_NAME} uppfyller inte PDF/UA-1 (tillgänglig PDF) och är därför inte märkt som "
                 "tillgänglig. Rätta det som står nedan i ärendena och bygg igen.")
    failing = [r for r in reports if not r.ok]
    for report in failing:
        lines += ["", f"{report.del_} (filen {report.fil}):"]
        lines += [f"  {p.text} — {p.atgard}." for p in report.problem]
    if not package.pdfua and not failing:
        lines += ["", "Varje del uppfyller kraven för sig, men helheten gör det inte:"]
        lines += [f"  {rule}: {message}" for rule, message in package.failures[:20]]
    passing = [r.del_ for r in reports if r.ok]
    if passing:
        lines += ["", "Uppfyller kraven: " + "; ".join(passing) + "."]
    lines += ["", "Kontrollerat med page-validation, profilen PDF/UA-1, del för del och för helheten."]
    write_bytes(text_path, ("\n".join(lines) + "\n").encode("utf-8"))
    data = {"dokument": HANDLINGAR_NAME, "sammantrade": meeting.title, "uppfyller_pdfua": package.pdfua,
            "delar": [r.as_dict() for r in reports],
            "regler_handlingar": [{"regel": r, "meddelande": m} for r, m in package.failures]}
    write_bytes(json_path, (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    if package.pdfua:
        return ""
    names = sorted({r.kort for r in failing})
    return (f"{HANDLINGAR_NAME} uppfyller inte PDF/UA-1" + (f" (problem i {', '.join(names)})" if names else "")
            + f". Se {text_path.name}.")


def commit(staged: AgendaOutputs, outputs: AgendaOutputs) -> list[Path]:
    """Move the staged files into place, all of them or (on an error) as many as could."""
    files = []
    for source, final in zip(staged.files(), outputs.files(), strict=True):
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, final)
        except OSError as e:
            raise EnvironmentProblem(f"filen kan inte skrivas: {describe_os_error(e)}", file=final) from e
        files.append(final)
    return files


def write_agenda_manifest(outputs: AgendaOutputs, meeting: LoadedSammantrade, result: AgendaResult,
                          fingerprints: dict[str, dict]) -> Path:
    """Write the meeting's manifest: every file with pages and sha256, and each ärende's fingerprint."""
    documents = []
    for file in result.files:
        pages = None
        if file.suffix == ".pdf":
            with pikepdf.open(file) as pdf:
                pages = len(pdf.pages)
        documents.append({"fil": file.name, "sidor": pages, "sha256": sha256_file(file)})
    manifest = {
        "titel": meeting.title,
        "sammantrade": str(meeting.source),
        "dokument": documents,
        "pdfua": result.pdfua,
        "ärenden": fingerprints,
        "återanvända": result.reused,
        "byggda": result.built,
        "varningar": result.warnings,
    }
    write_bytes(outputs.manifest, (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return outputs.manifest


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
