"""The web page's work around the library's front door: problems, form checks, previews, builds.

The page never loads, renders, converts or bundles by itself: it calls ``generator.pipeline``
(here and in the page modules). What this module adds is the page's own: each error as a
``Problem`` (``parse_problems`` turns each single error, ``BeslutError.located``, into
one), checking and previewing a form before it is saved (a temporary ``candidate_folder``),
and runs on a pooled converter that report their progress to a job's page.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import pipeline
from ..errors import BeslutError
from ..pipeline import ARENDE_FILE, OVERRIDES_DIR, STOPP, VARNING, LoadedArende
from .config import scrub

if TYPE_CHECKING:
    from ..pipeline import PdfConverter, Report

# --- validation messages -------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One validation message: where it is (file, line, field) and what to do."""

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None
    """The field as the CLI names it: ``handläggare.e-post``, ``förslag_till_beslut[2]``."""
    severity: str = "fel"
    """``fel`` (the ärende cannot be read), or the review's ``stopp`` or ``varning``."""

    @property
    def text(self) -> str:
        """Return the message as the CLI prints it, file and line in front."""
        where = [w for w in (self.file, f"rad {self.line}" if self.line else None,
                             f"fält '{self.field}'" if self.field else None) if w]
        return f"{', '.join(where)}: {self.message}" if where else self.message


def parse_problems(error: BeslutError, rename: Callable[[str], str] = str) -> list[Problem]:
    """Return one Problem per single error in ``error`` (``BeslutError.located``).

    ``rename`` maps the file names (e.g. a temporary copy back to the user's file). An error
    without a place gives one Problem per line of its message. A server path in a message
    (another file named in it) is shown as the pages show paths (``config.scrub``).
    """
    problems = []
    for single in error.located():
        message = scrub(single.message)
        if single.file is None and single.line is None and single.field is None:
            problems += [Problem(message=line.strip()) for line in message.splitlines() if line.strip()]
        else:
            problems.append(Problem(message=message, file=rename(str(single.file)) if single.file else None,
                                    line=single.line, field=single.field))
    return problems


def validate_arende(folder: Path, organisationer_path: Path) -> tuple[list[LoadedArende], list[Problem]]:
    """Load and check the ärende in ``folder`` as the CLI's validate does.

    Return its instances (one per organisation for a shared ärende) and no problems, or
    no instances and the problems.
    """
    try:
        return pipeline.validate_arende(folder, organisationer_path), []
    except BeslutError as e:
        return [], parse_problems(e)


@contextmanager
def candidate_folder(folder: Path, texts: dict[str, str]) -> Iterator[Path]:
    """Yield a temporary copy of the ärende ``folder`` with some YAML files replaced.

    ``texts`` maps a file's path relative to the folder (``arende.yaml``,
    ``organisationer/gota-lejon.yaml``) to its new text. Everything else (bilagor) is
    hard-linked where the file system allows (copied where not), so checking a form is
    cheap and writes nothing into the content folder. Not symlinked: a bilaga must be a
    file inside its ärende, and the check refuses symlinks that lead out.
    """
    with tempfile.TemporaryDirectory(prefix="beslut-web-") as tmp:
        copy = Path(tmp) / folder.name
        copy.mkdir()
        for entry in folder.iterdir():
            if entry.name in (ARENDE_FILE, OVERRIDES_DIR) or entry.is_symlink():
                continue
            if entry.is_dir():
                shutil.copytree(entry, copy / entry.name, copy_function=_link_or_copy, symlinks=True)
            elif entry.is_file():
                _link_or_copy(entry, copy / entry.name)
        overrides = sorted((folder / OVERRIDES_DIR).glob("*.yaml"))
        for name in [ARENDE_FILE] + [f"{OVERRIDES_DIR}/{p.name}" for p in overrides]:
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            text = texts.get(name)
            (copy / name).write_text(text if text is not None else (folder / name).read_text(encoding="utf-8"),
                                     encoding="utf-8")
        yield copy


def _link_or_copy(src, dst) -> None:
    """Hard-link ``src`` to ``dst``, or copy it across file systems."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def review_problems(instances: list[LoadedArende]) -> list[Problem]:
    """Return the review's findings (``beslut review``) for an ärende's instances, stopp first.

    A finding in the shared text of a shared ärende is found once per organisation and
    returned once.
    """
    found = [Problem(f.message, str(f.file) if f.file else None, f.line, f.field, f.severity)
             for loaded in instances for f in pipeline.review_findings(loaded)]
    return sorted(dict.fromkeys(found), key=lambda p: p.severity != STOPP)


def check_arende(folder: Path, organisationer_path: Path,
                 org_id: str | None = None) -> tuple[list[Problem], list[Problem]]:
    """Return the ärende's validation problems and, when it has none, the review's findings.

    ``org_id`` limits the review to one organisation's version of a shared ärende.
    """
    instances, problems = validate_arende(folder, organisationer_path)
    return problems, review_problems([i for i in instances if i.organisation.id == org_id] or instances)


def check_candidate(folder: Path, texts: dict[str, str], organisationer_path: Path,
                    shown_as: Callable[[str], str], org_id: str | None = None) -> tuple[list[Problem], list[Problem]]:
    """Check and review the ärende as it would be with ``texts`` saved; write nothing.

    Return (validation problems, review findings of ``org_id``'s version, or of all).
    ``shown_as`` turns a path of the real folder into the name shown to the user.
    """
    with candidate_folder(folder, texts) as copy:
        problems, findings = check_arende(copy, organisationer_path, org_id)
        return _renamed(problems, copy, folder, shown_as), _renamed(findings, copy, folder, shown_as)


def readability_of(texts: dict[str, str]) -> dict[str, str]:
    """Return "LIX 42, medelsvår" for each text with enough words to rate (the review's rule)."""
    rated = {key: pipeline.rate_readability(text) for key, text in texts.items()}
    return {key: rating for key, rating in rated.items() if rating is not None}


def _renamed(problems: list[Problem], copy: Path, folder: Path, shown_as: Callable[[str], str]) -> list[Problem]:
    """Return problems found in a candidate ``copy`` as if found in the real ``folder``."""
    def real(text: str) -> str:
        return text.replace(str(copy), str(folder))

    return [Problem(real(p.message), shown_as(real(p.file)) if p.file else None, p.line, p.field, p.severity)
            for p in problems]


Progress = Callable[[int, int, str], None]
"""``progress(done, total, what)``: how far a job has come, for its page."""

STAGES = {"docx": "Skapar Word-filer", "pdf": "Skapar PDF"}
"""The engine's stages (``on_progress``) as the job page names them."""


def _run(plan, converter: PdfConverter, progress: Progress | None = None) -> Report:
    """Run an engine plan with a pooled converter, reporting progress.

    Runs may overlap (each stages in its own folder); the job queue keeps one per ärende.
    """
    on_progress = None if progress is None else stage_progress(progress, 2 if plan.needs_converter else 1)
    return pipeline.run(plan, workers=1, converter_factory=lambda: converter, on_progress=on_progress)


def stage_progress(progress: Progress, stages: int) -> Callable[[str, int, int], None]:
    """Return a progress callback for ``runner.run_plan`` (stage, done, total): one bar over all stages.

    The bar counts every job once per stage (Word, then PDF); the text names the stage:
    "Skapar PDF: 2 av 5 klara".
    """
    first_total = [0]

    def on_progress(stage: str, done: int, total: int) -> None:
        index = list(STAGES).index(stage) if stage in STAGES else 0
        if index == 0:
            first_total[0] = total
        per_stage = first_total[0] or total
        progress(index * per_stage + done, stages * per_stage, f"{STAGES.get(stage, stage)}: {done} av {total} klara")

    return on_progress


def report_problems(report: Report) -> list[Problem]:
    """Return a run's failures as problems (one per failed recipient)."""
    return [p for o in report.failed for p in parse_problems(BeslutError(o.error or ""))]


# --- preview and build ---------------------------------------------------------------------


def preview_candidate(folder: Path, converter: PdfConverter, texts: dict[str, str], organisationer_path: Path,
                      org_id: str | None, out: Path, handlingar: bool, templates: Path | None,
                      shown_as: Callable[[str], str]) -> tuple[bytes | None, list[Problem]]:
    """Return the preview PDF of the ärende as it would be with ``texts`` saved, or its problems.

    ``org_id`` picks one organisation of a shared ärende (default: the first). Nothing is
    written under ``out`` except converted bilagor in the engine's cache.
    """
    with candidate_folder(folder, texts) as copy:
        instances, problems = validate_arende(copy, organisationer_path)
        if not problems:
            loaded = next((i for i in instances if i.organisation.id == org_id), instances[0])
            pdf, problems = preview_pdf(loaded, converter, out, handlingar=handlingar, templates=templates)
            if pdf is not None:
                return pdf, []
        return None, _renamed(problems, copy, folder, shown_as)


def preview_pdf(loaded: LoadedArende, converter: PdfConverter, out: Path, *, handlingar: bool = False,
                templates: Path | None = None) -> tuple[bytes | None, list[Problem]]:
    """Return the PDF of the paper (or of handlingar.pdf) for ``loaded``, or the problems."""
    pdf, report = pipeline.preview_paper(loaded, converter, out, bundle=handlingar, templates=templates)
    return (pdf, []) if pdf is not None else (None, report_problems(report))


def build_arende(folder: Path, organisationer_path: Path, out: Path, converter: PdfConverter, *,
                 templates: Path | None = None, utkast: bool = False,
                 progress: Progress = lambda done, total, what: None) -> Report:
    """Write .docx, PDF/A and handlingar.pdf for the ärende (each organisation's, if shared).

    A stopp-finding of the review refuses the build (``ReviewError``) unless ``utkast``,
    which marks every page of the paper UTKAST. One organisation's failure is recorded in
    the report and manifest; the others go on.
    """
    plan = pipeline.plan_arende(folder, organisationer_path, out, pdf=True, bundle=True, templates=templates,
                                utkast=utkast)
    return _run(plan, converter, progress)


def review_counts(loaded: LoadedArende) -> tuple[int, int]:
    """Return how many stopp and varningar the review finds in one organisation's version."""
    findings = pipeline.review_findings(loaded)
    return sum(f.severity == STOPP for f in findings), sum(f.severity == VARNING for f in findings)


def zip_folder(folder: Path, *, leave_out: Path | None = None, name: str | None = None) -> bytes:
    """Return every file under ``folder`` (documents and manifest) as a zip, in a folder ``name``.

    Files under ``leave_out`` (a folder inside ``folder``: the final papers' zip leaves the
    drafts out) and hidden ones (the bilaga cache) are not in it.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if (path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
                    and not (leave_out is not None and path.is_relative_to(leave_out))):
                zf.write(path, Path(name or folder.name) / path.relative_to(folder))
    return buf.getvalue()


# --- letters -------------------------------------------------------------------------------


def validate_utskick(folder: Path, organisationer_path: Path, org_ids: list[str] | None = None, *, eml: bool = False):
    """Return the loaded utskick and its recipients; raise ContentError as the CLI would.

    With ``eml`` the utskick must also name its sender (``avsändare_e-post``).
    """
    loaded, recipients = pipeline.validate_utskick(folder, organisationer_path, org_ids)
    if eml:
        pipeline.check_sender(loaded)
    return loaded, recipients


def run_letters(folder: Path, organisationer_path: Path, out: Path, org_ids: list[str] | None, *, pdf: bool,
                converter: PdfConverter, eml: bool = False, templates: Path | None = None,
                progress: Progress = lambda done, total, what: None) -> Report:
    """Write one följebrev per recipient (its PDF/A, its .eml) and the manifest, reporting progress.

    Everything is checked before the first letter is written; one recipient's failure is
    recorded in the manifest and the others go on. ``eml`` needs ``pdf``.
    """
    plan = pipeline.plan_utskick(folder, organisationer_path, out, org_ids=org_ids, pdf=pdf, eml=eml,
                                 templates=templates)
    return _run(plan, converter, progress)


def send_dry_run(folder: Path, organisationer_path: Path, out: Path, templates: Path | None = None) -> list[str]:
    """Return what ``beslut send`` (without ``--skarpt``) would print for the utskick; send nothing.

    The SMTP settings are not read: the web server neither holds nor needs them (sending
    is done from the command line). Raises SendError when letters are missing or out of
    date, ContentError when the utskick is wrong.
    """
    mailing = pipeline.plan_mailing(folder, organisationer_path, out, templates=templates)
    return [line for line in mailing.format_plan(mailing.plan, None, None) if not line.startswith("Server:")]


# --- new ärende ----------------------------------------------------------------------------


def copy_arende(source: Path, target: Path, with_bilagor: bool) -> None:
    """Copy the ärende ``source`` to the new folder ``target``: its YAML files, and its bilagor if asked.

    Without bilagor, the copy's files list none. Nothing of ``out`` is copied.
    """
    from .forms import dump_data, load_data

    ignore = shutil.ignore_patterns(".*", "bilagor") if not with_bilagor else shutil.ignore_patterns(".*")
    tmp = target.with_name(f".{target.name}.kopia")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp, ignore=ignore)
    if not with_bilagor:
        for path in [tmp / ARENDE_FILE, *sorted((tmp / OVERRIDES_DIR).glob("*.yaml"))]:
            if path.is_file():
                data = load_data(path.read_text(encoding="utf-8"), path)
                if data.pop("bilagor", None) is not None:
                    path.write_text(dump_data(data), encoding="utf-8")
    tmp.rename(target)
