"""The whole story of each command: load and check, plan, run.

Each function here is what one ``beslut`` command does, callable from Python (the CLI,
the web page, tests) without click:

    content (YAML -> model) -> jobs (plan) -> runner (.docx -> PDF -> handlingar.pdf)

Loading checks everything that can be checked before anything is written; planning
decides every output path and name once; running produces, commits and reports. A single
ärende, a shared ärende and a följebrev batch all take this one road and give one kind of
``Report``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .arendefields import form_fields, key_order, sub_order
from .content import (
    LoadedArende,
    LoadedUtskick,
    find_registry,
    is_utskick,
    load_arenden,
    load_organisationer,
)
from .runtemp import describe_temp_error, run_dir

# Only what ``beslut`` needs to start is imported here (content is needed to find the
# registry while the command line is read); the engine (jobs, runner, review, mail and what
# they load) is imported by the functions that use it, so that a command that converts can
# start LibreOffice first (``early_converter``) and let it start while the rest loads.
if TYPE_CHECKING:
    from .agenda import AgendaResult
    from .convert import Converter
    from .findings import Finding
    from .jobs import Plan
    from .minutes import MinutesResult
    from .model import Organisation
    from .protokollet import LoadedProtokoll
    from .runfinish import ConverterFactory
    from .runreport import Report
    from .sammantrade import LoadedSammantrade
    from .smtpsettings import SmtpSettings

__all__ = [
    # find the content
    "find_registry", "is_utskick", "is_sammantrade", "load_organisationer",
    # validate
    "validate_arende", "validate_utskick", "validate_sammantrade", "dokumenttyp",
    # review
    "review_arenden", "ReviewedArende", "count_stopp", "readability", "review_json", "SammantradeReview",
    "review_sammantrade",
    # plan and run papers, bundles and letters
    "plan_arende", "plan_utskick", "run", "early_converter",
    # sammanträden
    "build_agenda", "build_minutes",
    # templates
    "TemplateCheck", "check_templates",
    # new content
    "create_arende", "create_sammantrade", "create_protokoll",
    # send
    "Mailing", "plan_mailing", "load_smtp_settings", "count_to_send",
    # the run's temporary folder
    "run_dir", "describe_temp_error",
    # the ärende's fields as the model declares them: the edit form's fields and key order
    "form_fields", "key_order", "sub_order",
]
"""The front door: what each face (the CLI, the web page) may call. See the README."""


def validate_arende(arende_path: Path, organisationer_path: Path,
                    only: list[str] | None = None) -> list[LoadedArende]:
    """Load and check an ärende, or every organisation's version of a shared one."""
    return load_arenden(arende_path, load_organisationer(organisationer_path), only)


def validate_utskick(utskick_path: Path, organisationer_path: Path,
                     till: list[str] | None = None) -> tuple[LoadedUtskick, list[Organisation]]:
    """Load and check an utskick: fields, recipients and merge fields; write nothing."""
    from .letters import validate_utskick as _validate_utskick

    return _validate_utskick(utskick_path, organisationer_path, till)


def plan_arende(
    arende_path: Path,
    organisationer_path: Path,
    out: Path,
    *,
    only: list[str] | None = None,
    pdf: bool = False,
    bundle: bool = False,
    templates: Path | None = None,
    utkast: bool = False,
) -> Plan:
    """Load, check and review an ärende (single or shared), then plan its papers.

    ``pdf`` adds each paper's PDF/A, ``bundle`` also handlingar.pdf; ``only`` limits a
    shared ärende to some organisations; ``templates`` is a folder of edited templates.
    A stopp-finding of the review refuses the plan (``ReviewError``) unless ``utkast``,
    which marks every page UTKAST instead, in the ärende's ``utkast/`` folder. Output an
    earlier version wrote to ``out/<ärende>/`` is moved first (``move_legacy_output``).
    """
    from .planning import plan_arende as _plan_arende

    return _plan_arende(arende_path, organisationer_path, out, only=only, pdf=pdf, bundle=bundle,
                        templates=templates, utkast=utkast)


def plan_utskick(
    utskick_path: Path,
    organisationer_path: Path,
    out: Path,
    *,
    till: list[str] | None = None,
    pdf: bool = False,
    eml: bool = False,
    templates: Path | None = None,
) -> Plan:
    """Load and check an utskick (recipients, merge fields), then plan one letter each.

    With ``eml`` (needs ``pdf``) each letter also gets its e-mail, ``<id>.eml``; the
    utskick must then name its sender (``avsändare_e-post``).
    """
    from .planning import plan_utskick as _plan_utskick

    return _plan_utskick(utskick_path, organisationer_path, out, till=till, pdf=pdf, eml=eml, templates=templates)


def run(plan: Plan, *, workers: int | None = None, show_progress: bool = False,
        converter_factory: ConverterFactory | None = None,
        on_progress: Callable[[str, int, int], None] | None = None) -> Report:
    """Run ``plan``: render, convert, bundle, commit, write the manifest; return the report."""
    from .runner import run_plan

    return run_plan(plan, workers=workers, show_progress=show_progress,
                    converter_factory=converter_factory, on_progress=on_progress)


# --- The CLI's front door (issue 21): one function per thing a command does --------------
# Each imports the modules it needs when it is called, so importing this module (and so
# starting ``beslut``) stays cheap.


def is_sammantrade(path: Path) -> bool:
    """Return True if ``path`` is a sammanträde (its folder or its sammantrade.yaml)."""
    from .sammantrade import is_sammantrade as _is_sammantrade

    return _is_sammantrade(path)


def dokumenttyp(organisation: Organisation) -> str:
    """Return what the organisation's paper is called, in lower case (beslutsunderlag, tjänsteutlåtande)."""
    from .wording import wording_for

    return wording_for(organisation)["dokumenttyp"].lower()


def validate_sammantrade(path: Path, organisationer_path: Path) -> LoadedSammantrade:
    """Load and check a sammanträde as ``build_agenda`` does before writing; write nothing."""
    from .agenda import validate_agenda

    return validate_agenda(path, organisationer_path)


ReviewedArende = tuple[LoadedArende, list["Finding"]]
"""One ärende (one organisation's version) and its review findings."""


def count_stopp(findings: list[Finding] | tuple[Finding, ...]) -> int:
    """Return how many of ``findings`` are stopp (the rest are varningar)."""
    from .findings import STOPP

    return sum(f.severity == STOPP for f in findings)


def review_arenden(arende_path: Path, organisationer_path: Path,
                   only: list[str] | None = None) -> list[ReviewedArende]:
    """Load and review an ärende (each organisation's version of a shared one); write nothing."""
    from .review import review_arende

    return [(loaded, review_arende(loaded)) for loaded in validate_arende(arende_path, organisationer_path, only)]


def readability(loaded: LoadedArende) -> dict[str, tuple[int, str]]:
    """Return the LIX and its label of each text of an ärende, by field name."""
    from .review import readability as _readability

    return _readability(loaded)


def review_json(reviewed: list[ReviewedArende]) -> dict[str, Any]:
    """Return reviewed ärenden as the JSON ``beslut review --json`` prints."""
    from .review import review_json as _review_json

    return _review_json(reviewed)


@dataclass
class SammantradeReview:
    """A sammanträde reviewed: its ärenden and, when it has one, its protokoll."""

    meeting: LoadedSammantrade
    reviewed: list[ReviewedArende]
    protokoll: LoadedProtokoll | None = None
    protokoll_findings: list[Finding] = field(default_factory=list)

    @property
    def stopp(self) -> int:
        """Return how many findings (ärenden and protokoll) are stopp."""
        return sum(count_stopp(f) for _, f in self.reviewed) + count_stopp(self.protokoll_findings)

    def as_json(self) -> dict[str, Any]:
        """Return the review as ``beslut review --json`` prints it."""
        data = review_json(self.reviewed)
        if self.protokoll is not None:
            found = self.protokoll_findings
            stopp = count_stopp(found)
            data["protokoll"] = {"källa": str(self.protokoll.source), "fynd": [f.as_json() for f in found]}
            data["stopp"] += stopp
            data["varningar"] += len(found) - stopp
        return data


def review_sammantrade(path: Path, organisationer_path: Path) -> SammantradeReview:
    """Review every ärende of a sammanträde and, when it has one, its protokoll; write nothing."""
    from .minutes import review_protokoll
    from .protokollcheck import load_protokoll
    from .protokollet import has_protokoll
    from .review import review_arende

    meeting = validate_sammantrade(path, organisationer_path)
    reviewed = [(p.loaded, review_arende(p.loaded)) for p in meeting.punkter if p.loaded is not None]
    protokoll = load_protokoll(path, organisationer_path) if has_protokoll(meeting.source) else None
    found = review_protokoll(protokoll) if protokoll is not None else []
    return SammantradeReview(meeting, reviewed, protokoll, found)


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

    from .convert import Converter

    first = Converter()
    first.launch()
    handed = threading.Lock()

    def converters() -> Converter:
        return first if handed.acquire(blocking=False) else Converter()

    try:
        yield converters
    finally:
        first.close()


def build_agenda(path: Path, organisationer_path: Path, out: Path, *, templates: Path | None = None,
                 converter_factory: Callable | None = None,
                 on_progress: Callable[[str], None] | None = None) -> AgendaResult:
    """Check a sammanträde, then write its kallelse and sammanträdeshandlingar (``beslut agenda``)."""
    from .agenda import build_agenda as _build_agenda

    return _build_agenda(path, organisationer_path, out, templates=templates,
                         converter_factory=converter_factory, on_progress=on_progress)


def build_minutes(path: Path, organisationer_path: Path, out: Path, *, templates: Path | None = None,
                  converter_factory: Callable | None = None,
                  on_progress: Callable[[str], None] | None = None) -> MinutesResult:
    """Check a protokoll, then write it and every protokollsutdrag (``beslut minutes``)."""
    from .minutes import build_minutes as _build_minutes

    return _build_minutes(path, organisationer_path, out, templates=templates,
                          converter_factory=converter_factory, on_progress=on_progress)


@dataclass
class TemplateCheck:
    """Word templates checked: each file with what cleaning removes from it, and the folder's warnings."""

    files: list[tuple[Path, list[str]]]
    warnings: list[str]


def check_templates(folder: Path | None) -> TemplateCheck:
    """Check the templates in ``folder`` (None: the shipped ones); raise ``TemplateError`` on an error."""
    from .templatefile import cleaning_warnings
    from .templates import check_template_dir, template_warnings

    files = [(path, list(cleaning_warnings(path))) for path in check_template_dir(folder)]
    return TemplateCheck(files, template_warnings(folder))


def create_arende(folder: Path, org_ids: list[str], organisationer_path: Path) -> list[Path]:
    """Write a new ärende to fill in (shared when several organisations); return the files written."""
    from .scaffold import create_arende as _create_arende

    return _create_arende(folder, org_ids, load_organisationer(organisationer_path))


def create_sammantrade(folder: Path, org_id: str, organisationer_path: Path) -> list[Path]:
    """Write a new sammanträde (sammantrade.yaml with the usual punkter); return the files written."""
    from .scaffold import create_sammantrade as _create_sammantrade

    return list(_create_sammantrade(folder, org_id, load_organisationer(organisationer_path)))


def create_protokoll(folder: Path, organisationer_path: Path) -> Path:
    """Write protokoll.yaml in the sammanträde ``folder``, each ärende's förslag filled in; return it."""
    from .protokollscaffold import create_protokoll as _create_protokoll

    return _create_protokoll(folder, organisationer_path)


@dataclass
class Mailing:
    """What ``beslut send`` sends (följebrev or protokollsutdrag) and how to show and send it.

    ``format_plan(plan, settings, problem)`` gives the lines of the dry run,
    ``send(plan, settings, on_attempt=...)`` sends and returns a report,
    ``format_attempt(delivery)`` one line per attempt, ``format_report(report)`` the
    summary's lines and error lines.
    """

    plan: Any
    format_plan: Callable[..., list[str]]
    send: Callable[..., Any]
    format_attempt: Callable[[Any], str]
    format_report: Callable[[Any], tuple[list[str], list[str]]]
    notices: tuple[str, ...] = ()
    """What planning did that the user should hear of once (earlier output moved: ``move_legacy_output``)."""


def plan_mailing(path: Path, organisationer_path: Path, out: Path, *, till: list[str] | None = None,
                 igen: bool = False, templates: Path | None = None) -> Mailing:
    """Plan sending an utskick's letters, or a sammanträde's protokollsutdrag; send nothing."""
    if is_sammantrade(path):
        from . import expediering

        utdrag = expediering.plan_expediering(path, organisationer_path, out, till=till, igen=igen)
        return Mailing(utdrag, expediering.format_plan, expediering.run_expediering, expediering.format_attempt,
                       expediering.format_report)
    from . import send as mailing

    plan = mailing.plan_send(path, organisationer_path, out, till=till, igen=igen, templates=templates)
    return Mailing(plan, mailing.format_plan, mailing.run_send, mailing.format_attempt, mailing.format_report,
                   tuple(plan.notices))


def load_smtp_settings(config: Path | None = None, **overrides: Any) -> tuple[SmtpSettings, list[str]]:
    """Return the mail server's settings (environment, then ``config``) and warnings about them."""
    from .smtpsettings import load_smtp_settings as _load_smtp_settings

    return _load_smtp_settings(config, **overrides)


def count_to_send(mailing: Mailing) -> str:
    """Return how many messages ``mailing`` would send, in Swedish ("3 meddelanden")."""
    from . import send as mailing_module

    return mailing_module.count_messages(len(mailing.plan.having(mailing_module.SKICKA)))
