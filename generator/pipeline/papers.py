"""The front door's papers: load and check, plan, run, preview, and the converters they use.

Each function here is what one ``beslut`` command (or one action of the web page) does
with an ärende's paper, an utskick's letters or a bilaga, callable from Python without
click:

    content (YAML -> model) -> jobs (plan) -> runner (.docx -> PDF -> handlingar.pdf)

Loading checks everything that can be checked before anything is written; planning
decides every output path and name once; running produces, commits and reports. A single
ärende, a shared ärende and a följebrev batch all take this one road and give one kind of
``Report``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..content import LoadedArende, LoadedUtskick, load_arenden, load_organisationer

# Only what ``beslut`` needs to start is imported here (content is needed to find the
# registry while the command line is read); the engine (jobs, runner, review, mail and what
# they load) is imported by the functions that use it, so that a command that converts can
# start LibreOffice first (``early_converter``) and let it start while the rest loads.
if TYPE_CHECKING:
    from ..convert import Converter, PdfConverter
    from ..jobs import Plan
    from ..model import Organisation
    from ..runfinish import ConverterFactory
    from ..runreport import Report


def validate_arende(arende_path: Path, organisationer_path: Path,
                    org_ids: list[str] | None = None) -> list[LoadedArende]:
    """Load and check an ärende, or every organisation's version of a shared one."""
    return load_arenden(arende_path, load_organisationer(organisationer_path), org_ids)


def validate_utskick(utskick_path: Path, organisationer_path: Path,
                     org_ids: list[str] | None = None) -> tuple[LoadedUtskick, list[Organisation]]:
    """Load and check an utskick: fields, recipients and merge fields; write nothing."""
    from ..letters import validate_utskick as _validate_utskick

    return _validate_utskick(utskick_path, organisationer_path, org_ids)


def plan_arende(
    arende_path: Path,
    organisationer_path: Path,
    out: Path,
    *,
    org_ids: list[str] | None = None,
    pdf: bool = False,
    bundle: bool = False,
    templates: Path | None = None,
    utkast: bool = False,
) -> Plan:
    """Load, check and review an ärende, then plan its papers: ``planning.plan_arende`` (documented there)."""
    from ..planning import plan_arende as _plan_arende

    return _plan_arende(arende_path, organisationer_path, out, org_ids=org_ids, pdf=pdf, bundle=bundle,
                        templates=templates, utkast=utkast)


def plan_utskick(
    utskick_path: Path,
    organisationer_path: Path,
    out: Path,
    *,
    org_ids: list[str] | None = None,
    pdf: bool = False,
    eml: bool = False,
    templates: Path | None = None,
) -> Plan:
    """Load and check an utskick, then plan one letter each: ``planning.plan_utskick`` (documented there)."""
    from ..planning import plan_utskick as _plan_utskick

    return _plan_utskick(utskick_path, organisationer_path, out, org_ids=org_ids, pdf=pdf, eml=eml, templates=templates)


def run(plan: Plan, *, workers: int | None = None, show_progress: bool = False,
        converter_factory: ConverterFactory | None = None,
        on_progress: Callable[[str, int, int], None] | None = None) -> Report:
    """Run ``plan``: render, convert, bundle, commit, write the manifest; return the report."""
    from ..runner import run_plan

    return run_plan(plan, workers=workers, show_progress=show_progress,
                    converter_factory=converter_factory, on_progress=on_progress)


def dokumenttyp(organisation: Organisation) -> str:
    """Return what the organisation's paper is called, in lower case (beslutsunderlag, tjänsteutlåtande)."""
    from ..wording import wording_for

    return wording_for(organisation)["dokumenttyp"].lower()


def check_sender(loaded: LoadedUtskick) -> None:
    """Refuse (``ContentError``) an utskick that names no sender (``avsändare_e-post``): its letters get no .eml."""
    from ..mail import check_sender as _check_sender

    _check_sender(loaded)


def preview_paper(loaded: LoadedArende, converter: PdfConverter, out: Path, *, bundle: bool = False,
                  templates: Path | None = None) -> tuple[bytes | None, Report]:
    """Make one organisation's paper as a PDF (or, with ``bundle``, its handlingar.pdf) to look at.

    Return its bytes (None when the run failed) and the run's report. It is made in a
    temporary folder; nothing is written under ``out`` except converted bilagor, in the
    bilaga cache the real build reuses.
    """
    import tempfile

    from ..jobs import plan_papers
    from .outputs import share_bilaga_cache

    with tempfile.TemporaryDirectory(prefix="beslut-web-preview-") as tmp:
        preview_out = Path(tmp)
        share_bilaga_cache(out, preview_out)
        plan = plan_papers([loaded], preview_out, pdf=True, bundle=bundle, templates=templates)
        report = run(plan, workers=1, converter_factory=lambda: converter)
        if report.failed:
            return None, report
        made = report.outcomes[0].outputs
        shown = made.bundle if bundle else made.pdf
        assert shown is not None, "the plan asked for this PDF"
        return shown.read_bytes(), report


def new_converter() -> Converter:
    """Return a converter (LibreOffice, started by its first conversion or by ``start``); close it when done."""
    from ..convert import Converter

    return Converter()


def warm_up(converter: PdfConverter) -> None:
    """Start ``converter``'s LibreOffice and convert a shipped template once (the first start takes a second)."""
    import tempfile

    from ..templates import FOLJEBREV, template_path

    with tempfile.TemporaryDirectory(prefix="beslut-web-warm-") as tmp:
        converter.to_pdf(template_path(None, FOLJEBREV), Path(tmp) / "warm.pdf", pdfa=False)


@contextmanager
def early_converter(needed: bool) -> Iterator[Callable[[], Converter] | None]:
    """Yield a converter factory for the run whose first LibreOffice is already starting (or None).

    LibreOffice takes more than a second to start. Started here, at the start of the
    command and in the main thread (LibreOffice dies with the thread that started it, and
    this one lives as long as the command), it starts while the engine loads and the
    content is read. The run's first converter is that one, the others are new; it is
    stopped when the command ends, whether the run used it or not.
    """
    if not needed:
        yield None
        return
    import threading

    first = new_converter()
    first.launch()
    handed = threading.Lock()

    def converters() -> Converter:
        return first if handed.acquire(blocking=False) else new_converter()

    try:
        yield converters
    finally:
        first.close()


@dataclass
class TemplateCheck:
    """Word templates checked: each file with what cleaning removes from it, and the folder's warnings."""

    files: list[tuple[Path, list[str]]]
    warnings: list[str]


def check_templates(folder: Path | None) -> TemplateCheck:
    """Check the templates in ``folder`` (None: the shipped ones); raise ``TemplateError`` on an error."""
    from ..templatefile import cleaning_warnings
    from ..templates import check_template_dir, template_warnings

    files = [(path, list(cleaning_warnings(path))) for path in check_template_dir(folder)]
    return TemplateCheck(files, template_warnings(folder))


def create_arende(folder: Path, org_ids: list[str], organisationer_path: Path) -> list[Path]:
    """Write a new ärende to fill in (shared when several organisations); return the files written."""
    from ..scaffold import create_arende as _create_arende

    return _create_arende(folder, org_ids, load_organisationer(organisationer_path))




def accepted_suffixes() -> tuple[str, ...]:
    """Return the file types a bilaga may have (what the converter takes, and PDF)."""
    from ..convert import ACCEPTED

    return ACCEPTED


def check_bilaga(path: Path, converter: PdfConverter, out: Path) -> list[str]:
    """Check a bilaga as handlingar.pdf will: type, damage, passwords, content.

    Return Swedish warnings; raise ``BeslutError`` (the ConversionError or BundleError
    message) if the file cannot go into handlingar.pdf. A converted file stays in the
    bilaga cache under ``out``, so the build reuses it.
    """
    from ..bundleparts import BundlePart, check_pdf
    from ..cache import BilagaCache

    pdf = path
    if path.suffix.lower() != ".pdf":
        pdf = BilagaCache(out).pdf_for(path, lambda src, dst: converter.to_pdf(src, dst, pdfa=False))
    return check_pdf(BundlePart(pdf=pdf, bookmark=path.name, label=None, stamp=None, source=path))
