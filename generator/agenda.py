"""``beslut agenda``: a sammanträde's kallelse, föredragningslista and sammanträdeshandlingar.

The story, top to bottom (``build_agenda``):

1. load and check the meeting and every ärende it names (``sammantrade``); nothing is
   written if anything is wrong (exit 3, or 8 for an ärende with a stopp);
2. make sure each ärende's handlingar.pdf is current: reused when the ärende's inputs have
   the fingerprint recorded at its last build for a meeting, else built through the one
   engine (``planning.plan_arende`` / ``runner.run_plan``, which ``pipeline`` gives the faces);
3. render ``kallelse.docx`` from ``templates/docx/kallelse.docx`` (``kallelsedocx``) and
   convert it to PDF/A-2a + PDF/UA-1 (``Converter.to_pdf``, which finishes and validates);
4. write ``sammantradeshandlingar.pdf`` (the kallelse, a clickable innehållsförteckning,
   then each point's paper and bilagor) and ``sammantradeshandlingar-offentlig.pdf`` (each
   utelämnad point replaced by one page naming the legal ground): the parts planned in
   ``agendaparts``, assembled with pikepdf (``agendapdf.assemble``), after the public
   version's personnummer review (``agendapublic.check_public``, exit 8);
5. commit: every file moves from the run's staging folder into
   ``out/sammantraden/<namn>/`` only when all succeeded, with a manifest.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pikepdf

from .accessibility import PartReport, Problem
from .agendaparts import Part, make_toc, plan_parts
from .agendapdf import Package, assemble, release_memory
from .agendapublic import check_public, make_notices
from .conformance import validate_pdf
from .content import LoadedArende, load_organisationer
from .errors import (
    BundleError,
    ConversionError,
    EnvironmentProblem,
    ReviewError,
    TemplateError,
    describe_os_error,
)
from .files import fingerprint_of, sha256_file, write_bytes
from .jobs import paper_outputs
from .kallelsedocx import render_kallelse
from .meetingfiles import HANDLINGAR_NAME, OFFENTLIG_NAME, MeetingFiles
from .outfolder import (
    PERSONNUMMER_CACHE,
    REPORT_STEM,
    STAGING_DIR,
    check_out_folder,
    read_sammantrade_manifest,
    sammantrade_folder,
    write_manifest_json,
)
from .planning import plan_arende
from .runner import run_plan
from .runtemp import process_folder
from .sammantrade import LoadedSammantrade, load_sammantrade
from .templates import BESLUTSUNDERLAG, KALLELSE, template_path

if TYPE_CHECKING:
    from .convert import PdfConverter

def agenda_outputs(out: Path, meeting: LoadedSammantrade) -> MeetingFiles:
    """Return where the meeting's files go: ``out/sammantraden/<namn>/``."""
    return MeetingFiles(sammantrade_folder(out, meeting.name))


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
    previous = read_sammantrade_manifest(outputs.folder)
    handlingar: dict[int, Path] = {}
    fingerprints: dict[str, dict] = {}
    with ExitStack() as stack:
        staging = process_folder(out / STAGING_DIR)
        stack.callback(_remove_if_empty, staging.parent)
        stack.callback(shutil.rmtree, staging, True)
        staged = MeetingFiles(staging)
        work = staging / "delar"
        work.mkdir()
        # Everything LibreOffice makes, first; it is stopped before the (large) assembly.
        with converter_factory() as converter:
            for planned in meeting.punkter:
                if planned.has_handlingar:
                    assert planned.loaded is not None
                    say(f"{planned.label}: {planned.rubrik}")
                    pdf, entry, reused = ensure_handlingar(planned.loaded, organisationer_path, out, templates,
                                                           converter, previous.arenden)
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
        check_public(meeting, public_parts, out / PERSONNUMMER_CACHE)  # exit 8 before anything is written
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
    plan = plan_arende(loaded.folder, organisationer_path, out,
                       org_ids=[loaded.organisation.id] if loaded.shared else None,
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


def commit(staged: MeetingFiles, outputs: MeetingFiles) -> list[Path]:
    """Move the staged files into place, all of them or (on an error) as many as could."""
    files = []
    for source, final in zip(staged.agenda_files(), outputs.agenda_files(), strict=True):
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, final)
        except OSError as e:
            raise EnvironmentProblem(f"filen kan inte skrivas: {describe_os_error(e)}", file=final) from e
        files.append(final)
    return files


def write_agenda_manifest(outputs: MeetingFiles, meeting: LoadedSammantrade, result: AgendaResult,
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
    return write_manifest_json(outputs.manifest, manifest)


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
