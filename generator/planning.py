"""Load, check and plan an ärende or an utskick: the planning half of ``pipeline``.

``pipeline`` (the front door) gives these to the faces; modules of the front-door stage
that build on them (``agenda``) call them here, so that nothing imports ``pipeline`` back.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .content import load_arenden, load_organisationer
from .jobs import Plan, plan_letters, plan_papers
from .letters import validate_utskick
from .mail import check_sender
from .outfolder import check_out_folder, move_legacy_output
from .review import check_publishable, review_arende


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
    """Load, check and review an ärende (single or shared), then plan its papers.

    ``pdf`` adds each paper's PDF/A, ``bundle`` also handlingar.pdf; ``org_ids`` limits a
    shared ärende to some organisations; ``templates`` is a folder of edited templates.
    A stopp-finding of the review refuses the plan (``ReviewError``) unless ``utkast``,
    which marks every page UTKAST instead, in the ärende's ``utkast/`` folder. Output an
    earlier version wrote to ``out/<ärende>/`` is moved first (``move_legacy_output``).
    """
    instances = load_arenden(arende_path, load_organisationer(organisationer_path), org_ids)
    check_out_folder(out, *_input_folders(instances[0].folder, organisationer_path, templates))
    findings = tuple(f for loaded in instances for f in review_arende(loaded))
    check_publishable(findings, utkast)
    notices = tuple(move_legacy_output(out, instances[0].name))
    plan = plan_papers(instances, out, pdf=pdf, bundle=bundle, templates=templates,
                       whole=not org_ids, utkast=utkast, findings=findings)
    return replace(plan, notices=notices)


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
    """Load and check an utskick (recipients, merge fields), then plan one letter each.

    With ``eml`` (needs ``pdf``) each letter also gets its e-mail, ``<id>.eml``; the
    utskick must then name its sender (``avsändare_e-post``).
    """
    loaded, recipients = validate_utskick(utskick_path, organisationer_path, org_ids)
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
