"""The whole story of each command, stage by stage: validate -> render -> PDF -> bundle.

Each function here is what one ``beslut`` command does, callable from Python without
click. Stages live in their own modules; this one only strings them together:
``content`` (YAML -> model) -> ``context``/``render`` (model -> .docx) -> ``convert``
(.docx -> PDF) -> ``bundle`` (PDFs -> handlingar.pdf). Many recipients (a shared ärende,
a följebrev batch) go through ``batch``, which runs the same stages per organisation.
"""

from __future__ import annotations

import tempfile
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path

from . import batch
from .content import (
    LoadedArende,
    load_arenden,
    load_organisationer,
    load_utskick,
    select_mottagare,
)
from .context import number_bilagor
from .errors import BundleError, ConversionError
from .render import TEMPLATE_DIR, output_name, render_beslutsunderlag

BUNDLE_NAME = "handlingar.pdf"


@dataclass
class Result:
    """What a command produced: the files written and any warnings for the user."""

    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def validate_all(arende_path: Path, organisationer_path: Path, only: list[str] | None = None) -> list[LoadedArende]:
    """Load and check an ärende, or every organisation's version of a shared one."""
    return load_arenden(arende_path, load_organisationer(organisationer_path), only)


def output_dir(loaded: LoadedArende, out: Path) -> Path:
    """Return the ärende's folder in ``out``: ``out/<ärende>/`` or ``out/<ärende>/<org-id>/``."""
    return out / loaded.out_name


def render(
    loaded: LoadedArende,
    out: Path,
    *,
    pdf: bool = False,
    converter=None,
    template_dir: Path = TEMPLATE_DIR,
) -> Result:
    """Write the .docx (and with ``pdf`` its PDF/A beside it) into the ärende's out folder."""
    target = output_dir(loaded, out) / output_name(loaded)
    result = Result(files=[render_beslutsunderlag(loaded, target, template_dir)])
    if pdf:
        with _converter(converter) as conv:
            result.files.append(conv.to_pdf(target, target.with_suffix(".pdf"), pdfa=True))
    return result


def bundle(loaded: LoadedArende, out: Path, *, converter=None, template_dir: Path = TEMPLATE_DIR) -> Result:
    """Write the paper and its PDF, then ``handlingar.pdf``: the paper and every bilaga."""
    with _converter(converter) as conv:
        result = render(loaded, out, pdf=True, converter=conv, template_dir=template_dir)
        target, warnings = write_handlingar(loaded, result.files[-1], out, conv)
    result.files.append(target)
    result.warnings += warnings
    return result


def write_handlingar(loaded: LoadedArende, paper_pdf: Path, out: Path, converter) -> tuple[Path, list[str]]:
    """Write ``handlingar.pdf``: the paper's PDF, then every bilaga, converted if need be."""
    from .bundle import BundlePart, write_bundle

    parts = [BundlePart(pdf=paper_pdf, bookmark=loaded.organisation.dokumenttyp, label=None, stamp=None)]
    with tempfile.TemporaryDirectory(prefix="beslut-bilagor-") as tmp:
        for bilaga in number_bilagor(loaded):
            source = loaded.arende.folder / bilaga.fil
            parts.append(
                BundlePart(
                    pdf=_bilaga_pdf(converter, source, Path(tmp), bilaga),
                    bookmark=bilaga.rubrik,
                    label=f"Bilaga {bilaga.nummer}:",
                    stamp=f"Bilaga {bilaga.nummer}",
                    source=source,
                    nummer=bilaga.nummer,
                )
            )
        target = output_dir(loaded, out) / BUNDLE_NAME
        warnings = write_bundle(parts, target, title=loaded.arende.rubrik)
    return target, warnings


def _bilaga_pdf(converter, source: Path, tmp: Path, bilaga) -> Path:
    """Return ``source`` as a PDF, converting it into ``tmp`` if it is not one already."""
    if source.suffix.lower() == ".pdf":
        return source
    try:
        return converter.to_pdf(source, tmp / f"bilaga-{bilaga.nummer}.pdf", pdfa=False)
    except ConversionError as e:
        raise BundleError(
            f"bilaga {bilaga.nummer} ('{bilaga.titel}') gick inte att göra om till PDF: "
            f"{e.message}",
            file=source,
        ) from e


def _converter(converter):
    """Return a context that yields ``converter``, or a new warm one that is closed after."""
    if converter is not None:
        return nullcontext(converter)
    from .convert import Converter

    return Converter()


# --- följebrev: one letter per recipient -------------------------------------------------


def letters(
    utskick_path: Path,
    organisationer_path: Path,
    out: Path,
    *,
    till: list[str] | None = None,
    pdf: bool = False,
    eml: bool = False,
    workers: int | None = None,
    show_progress: bool = True,
    template_dir: Path = TEMPLATE_DIR,
) -> batch.BatchReport:
    """Write one följebrev per recipient into ``out/<utskick>/``, plus a manifest.

    With ``eml`` (needs ``pdf``) each letter also gets ``<id>.eml``: the e-mail carrying it.

    Everything that can be checked for all recipients at once (the utskick, the registry,
    the recipients, the merge fields) is checked before any letter is written.
    """
    loaded, recipients = validate_utskick(utskick_path, organisationer_path, till)
    if eml:
        from .mail import check_sender

        check_sender(loaded)
    render = partial(_render_letter, loaded.source, organisationer_path, out, template_dir)
    report = batch.run_batch(
        [(org.id, org.namn) for org in recipients],
        render,
        partial(_convert_letter, loaded.source, organisationer_path, eml) if pdf else None,
        workers=workers,
        show_progress=show_progress,
    )
    batch.write_manifest(report, out / loaded.name / batch.MANIFEST_NAME, title=loaded.utskick.rubrik)
    return report


def validate_utskick(utskick_path: Path, organisationer_path: Path, till: list[str] | None = None):
    """Load and check an utskick: fields, recipients and merge fields; write nothing."""
    from .letters import check_merge_fields

    organisationer = load_organisationer(organisationer_path)
    loaded = load_utskick(utskick_path)
    check_merge_fields(loaded)
    return loaded, select_mottagare(loaded, organisationer, till)


@lru_cache(maxsize=4)
def _load_for_batch(utskick_path: Path, organisationer_path: Path):
    """Return the utskick and registry, loaded once per process of a batch."""
    return load_utskick(utskick_path), load_organisationer(organisationer_path)


def _render_letter(utskick_path: Path, organisationer_path: Path, out: Path, template_dir: Path, org_id: str) -> list[Path]:
    """Render one recipient's letter (runs in a worker process)."""
    from .letters import letter_path, render_letter

    loaded, organisationer = _load_for_batch(utskick_path, organisationer_path)
    org = organisationer.find(org_id)
    return [render_letter(loaded, org, letter_path(loaded, org, out), template_dir)]


def _convert_letter(utskick_path: Path, organisationer_path: Path, eml: bool, org_id: str, files: list[Path],
                    converter) -> tuple[list[Path], list[str]]:
    """Convert one recipient's letter to PDF/A beside its .docx (and with ``eml`` its e-mail)."""
    docx = files[0]
    pdf = converter.to_pdf(docx, docx.with_suffix(".pdf"), pdfa=True)
    if not eml:
        return [pdf], []
    from .mail import write_letter_eml

    loaded, organisationer = _load_for_batch(utskick_path, organisationer_path)
    emls, warnings = write_letter_eml(loaded, organisationer.find(org_id), pdf)
    return [pdf, *emls], warnings


# --- a shared ärende: one paper (and bundle) per organisation ------------------------------


def run_shared(
    arende_path: Path,
    organisationer_path: Path,
    out: Path,
    *,
    only: list[str] | None = None,
    pdf: bool = False,
    with_bundle: bool = False,
    workers: int | None = None,
    show_progress: bool = True,
    template_dir: Path = TEMPLATE_DIR,
) -> batch.BatchReport:
    """Render a shared ärende for each of its organisations (and PDF, and handlingar.pdf).

    Every instance is validated before anything is written; a later failure for one
    organisation is recorded in the manifest and the others go on.
    """
    instances = load_arenden(arende_path, load_organisationer(organisationer_path), only)
    args = (arende_path, organisationer_path, out, template_dir)
    finish = partial(_finish_instance, *args, with_bundle) if (pdf or with_bundle) else None
    report = batch.run_batch(
        [(i.organisation.id, i.organisation.namn) for i in instances],
        partial(_render_instance, *args),
        finish,
        workers=workers,
        show_progress=show_progress,
    )
    folder = out / instances[0].out_name.parent
    batch.write_manifest(report, folder / batch.MANIFEST_NAME, title=instances[0].arende.rubrik)
    return report


@lru_cache(maxsize=4)
def _instances(arende_path: Path, organisationer_path: Path) -> dict[str, LoadedArende]:
    """Return the instances of a shared ärende by organisation id, loaded once per process."""
    loaded = load_arenden(arende_path, load_organisationer(organisationer_path))
    return {i.organisation.id: i for i in loaded}


def _render_instance(arende_path: Path, organisationer_path: Path, out: Path, template_dir: Path,
                     org_id: str) -> list[Path]:
    """Render one organisation's paper (runs in a worker process)."""
    loaded = _instances(arende_path, organisationer_path)[org_id]
    return render(loaded, out, template_dir=template_dir).files


def _finish_instance(arende_path: Path, organisationer_path: Path, out: Path, template_dir: Path,
                     with_bundle: bool, org_id: str, files: list[Path], converter) -> tuple[list[Path], list[str]]:
    """Convert one organisation's paper to PDF/A and, if asked, write its handlingar.pdf."""
    loaded = _instances(arende_path, organisationer_path)[org_id]
    docx = files[0]
    paper_pdf = converter.to_pdf(docx, docx.with_suffix(".pdf"), pdfa=True)
    if not with_bundle:
        return [paper_pdf], []
    target, warnings = write_handlingar(loaded, paper_pdf, out, converter)
    return [paper_pdf, target], warnings
