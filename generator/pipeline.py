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

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .content import (
    LoadedArende,
    LoadedUtskick,
    load_arenden,
    load_organisationer,
    load_utskick,
    select_mottagare,
)
from .jobs import Plan, check_out_folder, move_legacy_output, plan_letters, plan_papers
from .mail import check_sender
from .model import Organisation
from .review import check_publishable, review_arende
from .runner import ConverterFactory, Report, run_plan


def validate_arende(arende_path: Path, organisationer_path: Path,
                    only: list[str] | None = None) -> list[LoadedArende]:
    """Load and check an ärende, or every organisation's version of a shared one."""
    return load_arenden(arende_path, load_organisationer(organisationer_path), only)


def validate_utskick(utskick_path: Path, organisationer_path: Path,
                     till: list[str] | None = None) -> tuple[LoadedUtskick, list[Organisation]]:
    """Load and check an utskick: fields, recipients and merge fields; write nothing."""
    from .letters import check_merge_fields

    organisationer = load_organisationer(organisationer_path)
    loaded = load_utskick(utskick_path)
    check_merge_fields(loaded)
    return loaded, select_mottagare(loaded, organisationer, till)


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
    instances = validate_arende(arende_path, organisationer_path, only)
    check_out_folder(out, *_input_folders(instances[0].folder, organisationer_path, templates))
    findings = tuple(f for loaded in instances for f in review_arende(loaded))
    check_publishable(findings, utkast)
    notices = tuple(move_legacy_output(out, instances[0].name))
    plan = plan_papers(instances, out, pdf=pdf, bundle=bundle, templates=templates,
                       whole=not only, utkast=utkast, findings=findings)
    return replace(plan, notices=notices)


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
    loaded, recipients = validate_utskick(utskick_path, organisationer_path, till)
    check_out_folder(out, *_input_folders(loaded.source.parent, organisationer_path, templates))
    if eml:
        check_sender(loaded)
    notices = tuple(move_legacy_output(out, loaded.name))
    return replace(plan_letters(loaded, recipients, out, pdf=pdf, eml=eml, templates=templates), notices=notices)


def _input_folders(folder: Path, organisationer_path: Path, templates: Path | None = None) -> list[Path]:
    """Return the folders ``out`` must stay out of: the ärende's, the content folder
    (the registry's) when the ärende lies in it, and the folder of edited templates."""
    content = organisationer_path.resolve().parent
    folders = [folder, content] if folder.resolve().is_relative_to(content) else [folder]
    return folders + ([templates] if templates is not None else [])


def run(plan: Plan, *, workers: int | None = None, show_progress: bool = False,
        converter_factory: ConverterFactory | None = None,
        on_progress: Callable[[str, int, int], None] | None = None) -> Report:
    """Run ``plan``: render, convert, bundle, commit, write the manifest; return the report."""
    return run_plan(plan, workers=workers, show_progress=show_progress,
                    converter_factory=converter_factory, on_progress=on_progress)
