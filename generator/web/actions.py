"""Every call the web application makes into the generator's library, in one place.

The page never loads, renders, converts or bundles by itself: it calls these small
functions, so the engine behind them can be re-pointed here without touching the routes.
Errors come back as the library's own ``BeslutError`` (Swedish, with file, line and
field); ``parse_problems`` turns each single error (``BeslutError.located``) into a ``Problem``.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .. import pipeline
from ..cache import BilagaCache, ByModification, folder_stamps, stamp
from ..content import (
    ARENDE_FILE,
    OVERRIDES_DIR,
    UTSKICK_FILE,
    LoadedArende,
    load_organisationer,
)
from ..content import load_arenden as load_arenden  # for the other web modules
from ..errors import BeslutError
from ..files import write_bytes as write_bytes  # for the other web modules (this is their door, issue 21)
from ..jobs import plan_papers
from ..mail import check_sender
from ..model import Organisationer
from ..outfolder import MANIFEST_NAME, UTKAST_DIR, arende_folder, move_all_legacy_output, utskick_folder
from ..outfolder import SAMMANTRADEN_DIR as SAMMANTRADEN_DIR  # for the meeting pages
from ..outfolder import sammantrade_folder as sammantrade_folder  # for the meeting pages
from ..protokollcheck import load_protokoll as load_protokoll
from ..protokollet import ENLIGT_FORSLAG as ENLIGT_FORSLAG  # for the meeting pages
from ..protokollet import PROTOKOLL_FILE as PROTOKOLL_FILE
from ..protokollet import display_name as display_name
from ..protokollet import person_key as person_key
from ..protokollscaffold import create_protokoll as create_protokoll
from ..readability import lix, lix_label
from ..review import LIX_MIN_WORDS, STOPP, VARNING, review_arende
from ..runreport import Report
from ..sammantrade import SAMMANTRADE_FILE as SAMMANTRADE_FILE  # for the meeting pages
from ..sammantrade import resolve_sammantrade_file as resolve_sammantrade_file
from ..scaffold import BILAGOR_DIR
from ..send import format_plan, plan_send
from ..templates import FOLJEBREV, template_path
from ..wording import wording_for as wording_for  # for the other web modules
from ..yamlfile import read_yaml as read_yaml  # for the other web modules

if TYPE_CHECKING:
    from ..agenda import AgendaResult
    from ..convert import PdfConverter
    from ..expediering import ExpedieringPlan
    from ..minutes import MinutesResult
    from ..sammantrade import LoadedSammantrade
    from ..smtpsettings import SmtpSettings

log = logging.getLogger("beslut.web")
T = TypeVar("T")

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
    without a place gives one Problem per line of its message.
    """
    problems = []
    for single in error.located():
        if single.file is None and single.line is None and single.field is None:
            problems += [Problem(message=line.strip()) for line in single.message.splitlines() if line.strip()]
        else:
            problems.append(Problem(message=single.message, file=rename(str(single.file)) if single.file else None,
                                    line=single.line, field=single.field))
    return problems


def load_registry(organisationer_path: Path) -> Organisationer:
    """Return the organisation registry."""
    return load_organisationer(organisationer_path)


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
             for loaded in instances for f in review_arende(loaded)]
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
    rated = {}
    for key, text in texts.items():
        value, words = lix(text)
        if words >= LIX_MIN_WORDS:
            rated[key] = f"LIX {value}, {lix_label(value)}"
    return rated


def _renamed(problems: list[Problem], copy: Path, folder: Path, shown_as: Callable[[str], str]) -> list[Problem]:
    """Return problems found in a candidate ``copy`` as if found in the real ``folder``."""
    def real(text: str) -> str:
        return text.replace(str(copy), str(folder))

    return [Problem(real(p.message), shown_as(real(p.file)) if p.file else None, p.line, p.field, p.severity)
            for p in problems]


# --- converters ----------------------------------------------------------------------------


JOB, URGENT = 1, 0
"""Priorities of a converter's calls: a preview or a bilaga check goes before a build's next conversion."""


class _OwnedConverter:
    """One converter and the long-lived thread that owns it: every call runs in that thread.

    LibreOffice dies with the thread that started it (``PR_SET_PDEATHSIG`` is per thread),
    so a converter used from request threads would start LibreOffice again and again as
    those threads come and go. Here it starts, restarts and stops only in its own thread,
    which lives as long as the server. Calls wait in a priority queue: urgent ones (a
    preview) are taken before a build's next conversion, never behind a whole letter run.
    """

    def __init__(self, index: int, factory: Callable[[], PdfConverter]):
        self.converter = factory()
        self.waiting = 0
        """Calls queued or running (to lend urgent work to the least busy converter)."""
        self._calls: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name=f"beslut-omvandlare-{index}", daemon=True)
        self._thread.start()

    def call(self, priority: int, fn: Callable[[PdfConverter], T], timeout: float | None = None) -> T:
        """Run ``fn(converter)`` in the owner thread and return its result (or raise its error).

        Raise ``Busy`` if it has not started within ``timeout`` seconds (it is then dropped).
        """
        future: Future = Future()
        with self._lock:
            self.waiting += 1
        self._calls.put((priority, next(self._order), fn, future))
        try:
            return future.result(timeout)
        except FutureTimeout:
            if future.cancel():
                raise Busy() from None
            return future.result()

    def stop(self, wait: float) -> None:
        """Stop after the calls already queued (waiting up to ``wait`` s), then close the converter."""
        self._calls.put((JOB + 1, next(self._order), None, None))
        self._thread.join(wait)
        if self._thread.is_alive():  # stuck in a conversion: stop LibreOffice from here
            self.converter.__exit__(None, None, None)

    def _serve(self) -> None:
        try:
            while True:
                _, _, fn, future = self._calls.get()
                if fn is None:
                    break
                try:
                    if future.set_running_or_notify_cancel():
                        try:
                            future.set_result(fn(self.converter))
                        except BaseException as e:  # noqa: BLE001 - handed to the caller
                            future.set_exception(e)
                finally:
                    with self._lock:
                        self.waiting -= 1
        finally:
            self.converter.__exit__(None, None, None)


class ConverterPool:
    """A small, bounded set of warm LibreOffice converters shared by every request.

    Each converter lives in its own thread for the server's life (``_OwnedConverter``).
    A build borrows one for itself (``borrow``; waits up to ``timeout`` seconds, then
    ``Busy``); a preview or a bilaga check borrows with ``urgent=True``: it shares the
    least busy converter, and its conversions go before the build's next one.
    """

    def __init__(self, size: int, factory: Callable[[], PdfConverter] | None = None):
        if factory is None:
            from ..convert import Converter

            factory = Converter
        self.size = size
        self._closed = False
        self._owners = [_OwnedConverter(i, factory) for i in range(size)]
        self._free: queue.Queue = queue.Queue()
        for owner in self._owners:
            self._free.put(owner)

    @contextmanager
    def borrow(self, timeout: float = 60.0, *, urgent: bool = False) -> Iterator[PdfConverter]:
        """Yield a converter: one for this caller alone, or with ``urgent`` a shared one that goes first."""
        if urgent:
            yield LentConverter(min(self._owners, key=lambda o: o.waiting), URGENT, timeout)
            return
        try:
            owner = self._free.get(timeout=timeout)
        except queue.Empty:
            raise Busy() from None
        try:
            yield LentConverter(owner, JOB)
        finally:
            self._free.put(owner)

    def warm(self) -> None:
        """Start every converter's LibreOffice now and convert a sample (the first start takes about a second)."""
        sample = template_path(None, FOLJEBREV)
        try:
            with tempfile.TemporaryDirectory(prefix="beslut-web-warm-") as tmp:
                for owner in self._owners:
                    if not self._closed:
                        owner.call(JOB, lambda conv: conv.to_pdf(sample, Path(tmp) / "warm.pdf", pdfa=False))
        except Exception:  # noqa: BLE001 - the first real conversion reports the problem in Swedish
            log.warning("LibreOffice kunde inte värmas upp", exc_info=True)

    def close(self, wait: float = 30.0) -> None:
        """Stop every converter's LibreOffice, after waiting up to ``wait`` s for running work."""
        self._closed = True
        deadline = time.monotonic() + wait
        for owner in self._owners:
            owner.stop(max(0.0, deadline - time.monotonic()))


class Busy(Exception):
    """Raised when no converter became free in time (the server is busy)."""


class LentConverter:
    """A pooled converter lent to one engine run: every call runs in the converter's own thread.

    The run may not close it (the pool owns it). A ``PdfConverter``: mypy checks that it
    forwards every method the engine calls (``export_pdf`` for the letter batches).
    """

    def __init__(self, owner: _OwnedConverter, priority: int, timeout: float | None = None):
        self._owner = owner
        self._priority = priority
        self._timeout = timeout

    def __enter__(self) -> LentConverter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass  # the pool owns the converter

    def _call(self, fn: Callable[[PdfConverter], T]) -> T:
        return self._owner.call(self._priority, fn, self._timeout)

    def start(self) -> None:
        self._call(lambda conv: conv.start())

    def to_pdf(self, src: Path, dst: Path, *, pdfa: bool = True, title: str | None = None,
               when: date | None = None) -> Path:
        return self._call(lambda conv: conv.to_pdf(src, dst, pdfa=pdfa, title=title, when=when))

    def export_pdf(self, src: Path, out: Path, *, options: tuple[str, ...] = ()) -> Path:
        return self._call(lambda conv: conv.export_pdf(src, out, options=options))


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


# --- bilagor -------------------------------------------------------------------------------


def check_bilaga(path: Path, converter: PdfConverter, out: Path) -> list[str]:
    """Check an uploaded bilaga as handlingar.pdf will: type, damage, passwords, content.

    Return Swedish warnings; raise ``BeslutError`` (the CLI's ConversionError or
    BundleError message) if the file cannot go into handlingar.pdf. A converted file stays
    in the engine's bilaga cache under ``out``, so the build reuses it.
    """
    from ..bundleparts import BundlePart, check_pdf

    pdf = path
    if path.suffix.lower() != ".pdf":
        pdf = BilagaCache(out).pdf_for(path, lambda src, dst: converter.to_pdf(src, dst, pdfa=False))
    return check_pdf(BundlePart(pdf=pdf, bookmark=path.name, label=None, stamp=None, source=path))


def accepted_suffixes() -> tuple[str, ...]:
    """Return the file types a bilaga may have (the converter's list)."""
    from ..convert import ACCEPTED

    return ACCEPTED


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
    with tempfile.TemporaryDirectory(prefix="beslut-web-preview-") as tmp:
        preview_out = Path(tmp)
        (out / ".cache").mkdir(parents=True, exist_ok=True)
        (preview_out / ".cache").symlink_to((out / ".cache").resolve())  # reuse converted bilagor
        plan = plan_papers([loaded], preview_out, pdf=True, bundle=handlingar, templates=templates)
        report = _run(plan, converter)
        if report.failed:
            return None, report_problems(report)
        made = report.outcomes[0].outputs
        shown = made.bundle if handlingar else made.pdf
        assert shown is not None, "the plan asked for this PDF"
        return shown.read_bytes(), []


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


def output_folder(folder: Path, out: Path) -> Path:
    """Return where the ärende or utskick in ``folder`` writes its documents (as the CLI does).

    ``out/arenden/<ärende>/`` (a draft in its ``utkast/``) or ``out/utskick/<utskick>/``
    (``outfolder.arende_folder`` and ``utskick_folder``, as jobs.py).
    """
    return arende_folder(out, folder.name) if is_arende_folder(folder) else utskick_folder(out, folder.name)


@dataclass(frozen=True)
class Built:
    """One recipient's last run in an output folder: when its files were written, and whether it failed."""

    when: float | None
    """The newest modification time of its files (seconds), None if it has none."""
    failed: bool = False
    """Its last run failed (its earlier files, if any, are kept)."""


def built_by_recipient(folder: Path) -> dict[str, Built]:
    """Return each recipient's last run in the output ``folder``, from its manifest.json."""
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        documents, failures = list(manifest.get("dokument", [])), list(manifest.get("fel", []))
    except (OSError, ValueError, AttributeError, TypeError):
        return {}
    times: dict[str, list[float]] = {}
    for entry in documents:
        if not isinstance(entry, dict) or not isinstance(entry.get("fil"), str):
            continue
        try:
            times.setdefault(str(entry.get("mottagare")), []).append((folder / entry["fil"]).stat().st_mtime)
        except OSError:
            continue
    failed = {str(f.get("mottagare")) for f in failures if isinstance(f, dict)}
    return {who: Built(max(times[who]) if times.get(who) else None, who in failed)
            for who in dict.fromkeys([*times, *failed])}


def arende_builds(folder: Path, out: Path) -> tuple[dict[str, Built], dict[str, Built]]:
    """Return the ärende's last final build and last draft, each by organisation id."""
    final = output_folder(folder, out)
    return built_by_recipient(final), built_by_recipient(final / UTKAST_DIR)


def review_counts(loaded: LoadedArende) -> tuple[int, int]:
    """Return how many stopp and varningar the review finds in one organisation's version."""
    findings = review_arende(loaded)
    return sum(f.severity == STOPP for f in findings), sum(f.severity == VARNING for f in findings)


def arende_stamps(folder: Path, organisationer_path: Path, out: Path) -> tuple:
    """Return the stamps of what the ärende's check, review and builds come from (for ``ByModification``).

    Its YAML files, bilagor and override files, the registry, and the manifests of its
    last final build and last draft.
    """
    built = output_folder(folder, out)
    return (folder_stamps(folder, OVERRIDES_DIR, BILAGOR_DIR), stamp(organisationer_path),
            stamp(built / MANIFEST_NAME), stamp(built / UTKAST_DIR / MANIFEST_NAME))


def utskick_stamps(folder: Path, organisationer_path: Path, out: Path) -> tuple:
    """Return the stamps of what the utskick's check and letters come from (for ``ByModification``)."""
    return folder_stamps(folder), stamp(organisationer_path), stamp(output_folder(folder, out) / MANIFEST_NAME)


Listing = ByModification
"""Values of the start page kept until their files change (``cache.ByModification``)."""


def move_legacy_output(out: Path) -> list[str]:
    """Move every ``out/<name>/`` of an earlier version to ``out/arenden/`` or ``out/utskick/``; say so."""
    return move_all_legacy_output(out)


def zip_folder(folder: Path) -> bytes:
    """Return every file under ``folder`` (documents and manifest) as a zip."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts):
                zf.write(path, Path(folder.name) / path.relative_to(folder))
    return buf.getvalue()


# --- letters -------------------------------------------------------------------------------


def validate_utskick(folder: Path, organisationer_path: Path, till: list[str] | None = None, *, eml: bool = False):
    """Return the loaded utskick and its recipients; raise ContentError as the CLI would.

    With ``eml`` the utskick must also name its sender (``avsändare_e-post``).
    """
    loaded, recipients = pipeline.validate_utskick(folder, organisationer_path, till)
    if eml:
        check_sender(loaded)
    return loaded, recipients


def run_letters(folder: Path, organisationer_path: Path, out: Path, till: list[str] | None, *, pdf: bool,
                converter: PdfConverter, eml: bool = False, templates: Path | None = None,
                progress: Progress = lambda done, total, what: None) -> Report:
    """Write one följebrev per recipient (its PDF/A, its .eml) and the manifest, reporting progress.

    Everything is checked before the first letter is written; one recipient's failure is
    recorded in the manifest and the others go on. ``eml`` needs ``pdf``.
    """
    plan = pipeline.plan_utskick(folder, organisationer_path, out, till=till, pdf=pdf, eml=eml, templates=templates)
    return _run(plan, converter, progress)


def send_dry_run(folder: Path, organisationer_path: Path, out: Path, templates: Path | None = None) -> list[str]:
    """Return what ``beslut send`` (without ``--skarpt``) would print for the utskick; send nothing.

    The SMTP settings are not read: the web server neither holds nor needs them (sending
    is done from the command line). Raises SendError when letters are missing or out of
    date, ContentError when the utskick is wrong.
    """
    plan = plan_send(folder, organisationer_path, out, templates=templates)
    return [line for line in format_plan(plan, None, None) if not line.startswith("Server:")]


# --- new ärende ----------------------------------------------------------------------------


def create_arende(folder: Path, org_ids: list[str], organisationer_path: Path) -> list[Path]:
    """Create a new ärende folder with its arende.yaml (and override files), as the CLI does."""
    from ..scaffold import create_arende as scaffold_arende

    return scaffold_arende(folder, org_ids, load_organisationer(organisationer_path))


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
        for path in [tmp / ARENDE_FILE, *sorted((tmp / "organisationer").glob("*.yaml"))]:
            if path.is_file():
                data = load_data(path.read_text(encoding="utf-8"), path)
                if data.pop("bilagor", None) is not None:
                    path.write_text(dump_data(data), encoding="utf-8")
    tmp.rename(target)


def is_utskick_folder(folder: Path) -> bool:
    """Return True if ``folder`` holds an utskick."""
    return (folder / UTSKICK_FILE).is_file()


def is_arende_folder(folder: Path) -> bool:
    """Return True if ``folder`` holds an ärende."""
    return (folder / ARENDE_FILE).is_file()


# --- sammanträden and protokoll: the library's meeting functions, loaded when first used ---------------


def validate_agenda(path: Path, organisationer_path: Path) -> LoadedSammantrade:
    """``agenda.validate_agenda``: load and check a sammanträde and every ärende it names."""
    from ..agenda import validate_agenda as validate

    return validate(path, organisationer_path)


def build_agenda(path: Path, organisationer_path: Path, out: Path, *, templates: Path | None = None,
                 converter_factory: Callable | None = None,
                 on_progress: Callable[[str], None] | None = None) -> AgendaResult:
    """``agenda.build_agenda``: write the kallelse and both sammanträdeshandlingar."""
    from ..agenda import build_agenda as build

    return build(path, organisationer_path, out, templates=templates, converter_factory=converter_factory,
                 on_progress=on_progress)


def create_sammantrade(folder: Path, org_id: str, organisationer: Organisationer) -> list[Path]:
    """``scaffold.create_sammantrade``: write a new sammanträde folder."""
    from ..scaffold import create_sammantrade as create

    return create(folder, org_id, organisationer)


def plan_expediering(path: Path, organisationer_path: Path, out: Path) -> ExpedieringPlan:
    """``expediering.plan_expediering``: who gets which protokollsutdrag now."""
    from ..expediering import plan_expediering as plan

    return plan(path, organisationer_path, out)


def format_expediering(plan: ExpedieringPlan, settings: SmtpSettings | None, settings_problem: str | None) -> list[str]:
    """``expediering.format_plan``: the expediering's plan as the lines shown (a dry run)."""
    from ..expediering import format_plan as lines

    return lines(plan, settings, settings_problem)


def build_minutes(path: Path, organisationer_path: Path, out: Path, *, templates: Path | None = None,
                  converter_factory: Callable | None = None,
                  on_progress: Callable[[str], None] | None = None) -> MinutesResult:
    """``minutes.build_minutes``: write the protokoll and every utdrag (.docx and PDF)."""
    from ..minutes import build_minutes as build

    return build(path, organisationer_path, out, templates=templates, converter_factory=converter_factory,
                 on_progress=on_progress)
