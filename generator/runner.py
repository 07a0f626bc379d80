"""Running a plan: every job rendered, converted and bundled, then committed; one report.

A run has three phases, each with the parallelism that suits it:

1. **render** the .docx files: CPU-bound Python, in a pool of processes (inline for a
   few jobs);
2. **finish**: PDF conversion and handlingar.pdf, which mostly wait on LibreOffice, in a
   pool of threads that each own one warm ``Converter``;
3. **commit**: each job's files move from the run's staging folder into ``out/`` only
   when all of that job succeeded, so a failed rebuild leaves the previous package whole
   (never a new paper beside an old handlingar.pdf).

The staging folder is ``out/.beslut-arbete/<pid>-<start>-<random>/``, one per run; a run removes it when it ends, and
the next run removes one left by a run that was killed. A failure of one job is recorded
and the others go on; ``Report.exit_code`` is the one exit-code rule of every command.
"""

from __future__ import annotations

import ctypes
import errno
import multiprocessing
import os
import queue
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from pypdf import PdfReader
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import errors, outfolder
from .accessibility import check_parts, write_report
from .bundle import write_bundle
from .bundleparts import BundlePart, PartsAhead
from .cache import BilagaCache
from .errors import BeslutError, BundleError, ConversionError, EnvironmentProblem, describe_os_error
from .files import link_on_the_way, sha256_file
from .jobs import Job, LetterJob, Outputs, PaperJob, Plan, check_out_paths
from .letterbatch import convert_letters
from .letters import letter_inputs, render_letter
from .mail import write_eml
from .outfolder import STAGING_DIR, Manifest, ManifestDocument, ManifestFailure, read_manifest
from .pdfwatermark import convert_draft
from .personnummer import mask_personnummer, mask_personnummer_in
from .render import render_beslutsunderlag
from .runtemp import describe_temp_error, process_folder, run_dir

if TYPE_CHECKING:
    from .convert import PdfConverter

ConverterFactory = Callable[[], "PdfConverter"]
"""Returns a new converter (``convert.Converter`` or a pool's lent one), one per thread."""

EXIT_OK, EXIT_SOME_FAILED, EXIT_BUG = errors.EXIT_OK, errors.EXIT_SOME_FAILED, errors.EXIT_BUG


def default_workers() -> int:
    """Return how many workers a run uses: one per core, at most four."""
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class Outcome:
    """What a run produced for one recipient: its files, or why it failed."""

    recipient: str
    name: str
    outputs: Outputs
    """Where each of its files goes, by role (paper, PDF, handlingar.pdf, report, e-mail)."""
    files: list[Path] = field(default_factory=list)
    error: str | None = None
    exit_code: int = EXIT_OK
    """The failing stage's exit code (``BeslutError.exit_code``), 70 for a bug."""
    machine_stopped: bool = False
    """The failure was the machine's as a whole: a full disk or a read-only file system."""
    warnings: list[str] = field(default_factory=list)
    cleaned: list[dict] = field(default_factory=list)
    """What was removed from each PDF part of its handlingar.pdf (``sanitize``), for the manifest."""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Report:
    """The outcome of a run: every recipient's files or error, and the manifest."""

    outcomes: list[Outcome]
    manifest: Path | None = None
    removed: list[Path] = field(default_factory=list)
    """Files of an earlier run for recipients this run no longer has, removed by it."""
    notices: list[str] = field(default_factory=list)
    """What planning did that the user hears of once (``Plan.notices``: output moved)."""

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def files(self) -> list[Path]:
        return [f for o in self.outcomes for f in o.files]

    def warnings_by_text(self) -> dict[str, list[str]]:
        """Return each distinct warning with the recipients it concerns (said once, not N times)."""
        grouped: dict[str, list[str]] = {}
        for outcome in self.outcomes:
            for warning in outcome.warnings:
                grouped.setdefault(warning, []).append(outcome.recipient)
        return grouped

    @property
    def exit_code(self) -> int:
        """Return 0 when all succeeded; the stage's code when every failure shares one; else 1.

        So one corrupt bilaga gives 6 whether the ärende is single or shared, and a batch
        of letters where a few recipients failed gives 1. The machine stopping the run (a
        full disk or a read-only file system, 7) is said whatever else happened; one file
        that cannot be replaced (a folder in its place) is one recipient's failure.
        """
        codes = {o.exit_code for o in self.failed}
        if not codes:
            return EXIT_OK
        if any(o.machine_stopped for o in self.failed):
            return EnvironmentProblem.exit_code
        if len(self.failed) == len(self.outcomes) and len(codes) == 1:
            return codes.pop()
        return EXIT_SOME_FAILED


def run_plan(
    plan: Plan,
    *,
    workers: int | None = None,
    show_progress: bool = False,
    converter_factory: ConverterFactory | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> Report:
    """Run every job of ``plan``, commit what succeeded, write the manifest; return the report.

    ``converter_factory`` returns a new ``Converter`` (one per thread); by default a warm
    LibreOffice of our own. ``on_progress(stage, done, total)`` is called as jobs finish a
    stage ("docx", then "pdf"), e.g. for a progress bar in the web page.
    """
    check_out_paths(plan)  # before anything is written: no link in out/ leads into what the user wrote
    inputs = letter_fingerprints(plan)  # before rendering: an input changed during the run makes the letter stale
    workers = workers or default_workers()
    outcomes = {job.recipient: Outcome(recipient=job.recipient, name=job.name, outputs=job.outputs,
                                       warnings=list(job.warnings))
                for job in plan.jobs}
    jobs = {job.recipient: job for job in plan.jobs}
    staging = _start_staging(plan.out)
    try:
        with ExitStack() as stack:
            # Worker processes are forked here, before the progress bar starts its thread.
            rendered = _start_renders(plan.jobs, staging, plan.out, workers, stack)
            # LibreOffice starts while the .docx files render (about 1 s saved on a cold start).
            finishers = stack.enter_context(_Finishers(min(workers, len(plan.jobs)), converter_factory)) \
                if plan.needs_converter else None
            cache = BilagaCache(plan.out)
            ahead = _read_bilagor_ahead(plan, cache) if finishers is not None else None
            with _progress(show_progress) as progress:
                advance = _advancer(progress, "docx", "Skapar Word-filer", len(plan.jobs), on_progress)
                for recipient, work in rendered:
                    _record(outcomes[recipient], work)
                    advance()
                if finishers is not None:  # the plan needs a converter
                    todo = [o for o in outcomes.values() if o.ok]
                    advance = _advancer(progress, "pdf", "Skapar PDF", len(todo), on_progress)
                    _finish_all(todo, jobs, staging, plan.out, cache, finishers, advance, ahead)
        for recipient, outcome in outcomes.items():
            if outcome.ok:
                _record(outcome, partial(_commit, jobs[recipient], staging, plan.out))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_if_empty(staging.parent)
    for outcome in outcomes.values():  # name the file where the user will look for it, not where it was staged
        if outcome.error:
            outcome.error = outcome.error.replace(f"{staging}{os.sep}", f"{plan.out}{os.sep}")
    report = Report(outcomes=[outcomes[job.recipient] for job in plan.jobs], notices=list(plan.notices))
    report.removed = _remove_stale(plan, report)
    write_manifest(plan, report, inputs)
    return report


# --- the three phases ----------------------------------------------------------------------


def render_job(job: Job, docx: Path) -> None:
    """Render the .docx of ``job`` into ``docx`` (runs in a worker process)."""
    if isinstance(job, PaperJob):
        render_beslutsunderlag(job.loaded, job.bilagor, docx, job.template, utkast=job.utkast)
    else:
        render_letter(job.utskick, job.organisation, docx, job.template)


def finish_job(job: Job, staging: Path, out: Path, converter: PdfConverter, cache: BilagaCache,
               ahead: PartsAhead | None = None) -> list[str]:
    """Convert ``job``'s .docx to PDF/A and, for a paper with a bundle, write handlingar.pdf.

    Return the Swedish warnings for the user. ``ahead`` has bilagor read already.
    """
    docx, pdf = _staged(job.outputs.docx, staging, out), _staged(job.outputs.pdf, staging, out)
    if isinstance(job, PaperJob) and job.utkast:
        convert_draft(converter, docx, pdf)  # the watermark stamped diagonally, not LibreOffice's
    else:
        converter.to_pdf(docx, pdf, pdfa=True)
    if isinstance(job, LetterJob):
        _write_letter_eml(job, staging, out)
        return []
    if job.outputs.bundle is None:
        return []
    parts = [BundlePart(pdf=pdf, bookmark=job.bookmark, label=None, stamp=None)]
    parts += [_bundle_part(bilaga, _bilaga_pdf(bilaga, converter, cache)) for bilaga in job.bilagor]
    warnings = write_bundle(parts, _staged(job.outputs.bundle, staging, out), title=job.title, ahead=ahead)
    if job.outputs.report is not None:
        summary = write_report(
            check_parts(parts, warnings.failures, cache), pdfua=warnings.pdfua, title=job.title,
            bundle_failures=warnings.failures,
            text_path=_staged(job.outputs.report, staging, out),
            json_path=_staged(job.outputs.report_json, staging, out))
        if summary:
            warnings.append(summary)
    return warnings


def _write_letter_eml(job: LetterJob, staging: Path, out: Path) -> None:
    """Write the letter's e-mail, its PDF attached, if the job has one."""
    if job.outputs.eml is not None:
        write_eml(job.utskick, job.organisation, _staged(job.outputs.pdf, staging, out),
                  _staged(job.outputs.eml, staging, out))


def _bundle_part(bilaga, pdf: Path) -> BundlePart:
    return BundlePart(pdf=pdf, bookmark=bilaga.rubrik, label=bilaga.page_label, stamp=bilaga.name,
                      source=bilaga.source, nummer=bilaga.nummer)


def _read_bilagor_ahead(plan: Plan, cache: BilagaCache) -> PartsAhead | None:
    """Start reading the bilagor of a single paper's bundle that need no LibreOffice.

    While LibreOffice starts, Python has nothing else to do: the PDF bilagor and those
    converted before (``cache``) are checked, cleaned and parsed then (``PartsAhead``).
    Only for a plan of one paper: a shared ärende's many papers would hold every
    bilaga of every paper in memory.
    """
    if len(plan.jobs) != 1 or not isinstance(plan.jobs[0], PaperJob) or plan.jobs[0].outputs.bundle is None:
        return None
    parts = []
    for bilaga in plan.jobs[0].bilagor:
        pdf = bilaga.source if bilaga.source.suffix.lower() == ".pdf" else cache.converted(bilaga.source)
        if pdf is not None:
            parts.append(_bundle_part(bilaga, pdf))
    return PartsAhead(parts) if parts else None


def _bilaga_pdf(bilaga, converter: PdfConverter, cache: BilagaCache) -> Path:
    """Return the bilaga as a PDF: itself, or converted once per content (``cache``)."""
    if bilaga.source.suffix.lower() == ".pdf":
        return bilaga.source
    try:
        return cache.pdf_for(bilaga.source, lambda src, dst: converter.to_pdf(src, dst, pdfa=False))
    except ConversionError as e:
        raise BundleError(
            f"{bilaga.name.lower()} ('{bilaga.titel}') gick inte att göra om till PDF: {e.message}",
            file=bilaga.source,
        ) from e


def _commit(job: Job, staging: Path, out: Path) -> list[Path]:
    """Move the job's staged files into ``out/``; return the final paths."""
    files = job.outputs.files()
    for final in files:
        link = link_on_the_way(out, final)
        if link is not None:  # made while the run ran: never write through it
            raise EnvironmentProblem("en del av sökvägen har blivit en symbolisk länk under körningen, så "
                                     "filen skrevs inte. Ta bort länken och kör igen.", file=link)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(_staged(final, staging, out), final)
        except OSError as e:
            raise EnvironmentProblem(f"filen kan inte skrivas: {describe_os_error(e)}", file=final) from e
    return files


def _staged(final: Path | None, staging: Path, out: Path) -> Path:
    """Return where ``final`` (a path under ``out``) is written during the run."""
    assert final is not None
    return staging / final.relative_to(out)


def _render_one(job: Job, staging: Path, out: Path) -> list[Path]:
    render_job(job, _staged(job.outputs.docx, staging, out))
    return [job.outputs.docx]


def _start_renders(jobs: tuple[Job, ...], staging: Path, out: Path, workers: int, stack: ExitStack):
    """Start rendering every job; yield (recipient, a function returning its files)."""
    if workers == 1 or len(jobs) < 4:
        return ((job.recipient, lambda job=job: _render_one(job, staging, out)) for job in jobs)
    pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers, initializer=_ignore_interrupts))
    futures = {pool.submit(_render_one, job, staging, out): job.recipient for job in jobs}
    return ((futures[f], f.result) for f in as_completed(futures))


def _ignore_interrupts() -> None:
    """Let Ctrl-C reach only the main process, which reports it once; die with the main process.

    PR_SET_PDEATHSIG has the kernel SIGKILL the worker when the thread that started it ends
    (the thread calling ``run_plan``, which outlives the pool), the whole process with it,
    SIGKILL included; the check of the parent covers one that died before the request.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:
        os._exit(1)


_PR_SET_PDEATHSIG = 1
"""From <linux/prctl.h>."""


def _finish_all(todo: list[Outcome], jobs: dict[str, Job], staging: Path, out: Path,
                cache: BilagaCache, finishers: _Finishers, advance, ahead: PartsAhead | None) -> None:
    def finish(outcome: Outcome, converter):
        def work():
            warnings = finish_job(jobs[outcome.recipient], staging, out, converter, cache, ahead)
            outcome.warnings += warnings
            outcome.cleaned += getattr(warnings, "cleaned", [])
            return outcome.files

        _record(outcome, work)
        advance()

    letters = [o for o in todo if _in_letter_batch(jobs[o.recipient])] if len(todo) >= MIN_LETTER_BATCH else []
    batched = {o.recipient for o in letters}
    work = [lambda converter, o=o: finish(o, converter) for o in todo if o.recipient not in batched]
    for chunk in (letters[i::finishers.count] for i in range(finishers.count)):
        if chunk:
            work.append(lambda converter, chunk=chunk: _finish_letters(chunk, jobs, staging, out, converter, advance))
    finishers.run(work)


MIN_LETTER_BATCH = 4
"""Fewer letters than this are converted one by one (composing them would gain nothing)."""


def _in_letter_batch(job: Job) -> bool:
    return isinstance(job, LetterJob) and job.outputs.pdf is not None


def _finish_letters(letters: list[Outcome], jobs: dict[str, Job], staging: Path, out: Path, converter: PdfConverter,
                    advance) -> None:
    """Convert letters to PDF/A in one go (``letterbatch``), then finish and record each one."""
    staged: dict[Path, tuple[Outcome, LetterJob]] = {}
    for outcome in letters:
        job = jobs[outcome.recipient]
        assert isinstance(job, LetterJob)
        staged[_staged(job.outputs.docx, staging, out)] = (outcome, job)

    def finish(docx: Path, error: Exception | None = None) -> None:
        outcome, job = staged[docx]

        def work():
            if error is not None:
                raise error
            _write_letter_eml(job, staging, out)
            return outcome.files

        _record(outcome, work)
        advance()

    with tempfile.TemporaryDirectory(prefix="brev-", dir=run_dir()) as work:
        result = convert_letters(converter, [(docx, _staged(job.outputs.pdf, staging, out))
                                             for docx, (_, job) in staged.items()], Path(work), finish)
    for docx, error in result.failed.items():
        finish(docx, error)


class _Finishers:
    """Threads that each own one converter, started before the .docx files are rendered.

    Each thread makes its converter, starts LibreOffice at once (so it warms up while
    the render phase runs), then runs the work it is given with that converter; the
    converter is closed by the thread that started it (LibreOffice dies with that thread).
    """

    def __init__(self, count: int, factory: ConverterFactory | None):
        if factory is None:
            from .convert import Converter

            factory = Converter
        self._factory: ConverterFactory = factory
        self._queue: queue.Queue = queue.Queue()
        self._threads = [threading.Thread(target=self._serve, daemon=True) for _ in range(max(1, count))]
        self.count = len(self._threads)
        """How many threads (and converters) there are."""

    def __enter__(self) -> _Finishers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        while True:  # interrupted: what has not started is not started
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[1].set()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()

    def run(self, work: list[Callable]) -> None:
        """Run every ``work(converter)`` on the threads; return when all are done."""
        done = [threading.Event() for _ in work]
        for item, event in zip(work, done, strict=True):
            self._queue.put((item, event))
        for event in done:
            event.wait()

    def _serve(self) -> None:
        with ExitStack() as stack:
            converter = None
            try:
                converter = stack.enter_context(self._factory())
                converter.start()
            except Exception:  # noqa: BLE001 -- the first job meets the same problem and reports it
                pass
            while (item := self._queue.get()) is not None:
                work, event = item
                try:
                    if converter is None:
                        converter = stack.enter_context(self._factory())
                    work(converter)
                except Exception:  # noqa: BLE001 -- work records its own errors (``_record``)
                    pass
                finally:
                    event.set()


def _record(outcome: Outcome, work: Callable[[], list[Path]]) -> None:
    """Run ``work``; store its files in ``outcome``, or its Swedish error and exit code."""
    try:
        outcome.files = work()
    except BeslutError as e:
        outcome.files, outcome.error, outcome.exit_code = [], e.format(), e.exit_code
        outcome.machine_stopped = _machine_wide(e) or _machine_wide(e.__cause__)
    except OSError as e:  # the machine stopped it: a full disk (out/ or TMPDIR), a read-only folder
        where = f"{e.filename}: " if e.filename else ""
        outcome.error = describe_temp_error(e) or f"{where}filen kan inte skrivas: {describe_os_error(e)}"
        outcome.files, outcome.exit_code = [], EnvironmentProblem.exit_code
        outcome.machine_stopped = _machine_wide(e)
    except Exception as e:  # one recipient's unexpected failure must not stop the others
        outcome.error = (f"oväntat fel i beslut ({type(e).__name__}: {e}). Det är ett programfel: "
                         "rapportera det till förvaltarna av beslut.")
        outcome.files, outcome.exit_code = [], EXIT_BUG


def _machine_wide(error: BaseException | None) -> bool:
    """Return True for a failure of the machine as a whole: a full disk or a read-only file system."""
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


def _advancer(progress: Progress, stage: str, description: str, total: int, on_progress):
    """Return a function that counts one job done, on the bar and to ``on_progress``."""
    task = progress.add_task(description, total=total)
    done = 0
    lock = threading.Lock()
    if on_progress is not None:
        on_progress(stage, 0, total)

    def advance() -> None:
        nonlocal done
        with lock:
            done += 1
            progress.advance(task)
            if on_progress is not None:
                on_progress(stage, done, total)

    return advance


def _progress(show: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not show,
        transient=False,
    )


# --- staging --------------------------------------------------------------------------------


def _start_staging(out: Path) -> Path:
    """Return this run's new staging folder; remove those of runs that were killed.

    Runs in one process (the web page builds while it previews) each get their own folder
    (``runtemp.process_folder``, the same naming and cleaning as the run's temporary folder).
    """
    return process_folder(out / STAGING_DIR)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


# --- manifest -------------------------------------------------------------------------------


def _previous_manifest(plan: Plan) -> Manifest:
    try:
        return read_manifest(plan.folder)
    except (OSError, ValueError):
        return Manifest()


def _remove_stale(plan: Plan, report: Report) -> list[Path]:
    """Remove files an earlier run made for recipients a whole plan no longer has.

    Only files that the earlier manifest lists are removed, and only for recipients that
    are not in this plan (a recipient that failed now keeps its earlier files).
    """
    if not plan.whole:
        return []
    current = {o.recipient for o in report.outcomes}
    removed = []
    for entry in _previous_manifest(plan).documents:
        if entry.org_id in current:
            continue
        path = (plan.folder / entry.file).resolve()
        if path.is_file() and path.is_relative_to(plan.folder.resolve()):
            path.unlink()
            removed.append(path)
    return removed


def letter_fingerprints(plan: Plan) -> dict[str, str]:
    """Return each letter's input fingerprint (``letters.letter_inputs``) by recipient.

    A letter whose inputs cannot be read gets none: ``beslut send`` then finds it out of date.
    """
    fingerprints = {}
    for job in plan.jobs:
        if isinstance(job, LetterJob):
            try:
                fingerprints[job.recipient] = letter_inputs(job.utskick, job.organisation, job.template)
            except OSError:
                continue
    return fingerprints


def write_manifest(plan: Plan, report: Report, inputs: dict[str, str] | None = None) -> Path:
    """Write the run's manifest (JSON): every output with pages and sha256, every failure.

    Each letter's files carry its input fingerprint (``fingeravtryck``, from ``inputs`` or
    computed now), which ``send.check_letters`` compares instead of rendering the letter again.
    A plan limited to some organisations keeps the other organisations' entries.
    """
    inputs = letter_fingerprints(plan) if inputs is None else inputs
    base = plan.folder
    current = {o.recipient for o in report.outcomes}
    kept = [] if plan.whole else [
        e for e in _previous_manifest(plan).documents if e.org_id not in current
    ]
    documents = kept + [
        ManifestDocument(
            file=os.path.relpath(file, base),
            org_id=outcome.recipient,
            org_name=mask_personnummer(outcome.name),
            pages=_pages(file),
            sha256=sha256_file(file),
            fingerprint=inputs.get(outcome.recipient),
        )
        for outcome in report.outcomes
        for file in outcome.files
    ]
    # no personnummer the review would stop (a draft may have them): see personnummer.mask_personnummer
    manifest = Manifest(
        title=mask_personnummer(plan.title),
        org_count=len(report.outcomes),
        succeeded=len(report.outcomes) - len(report.failed),
        failed=len(report.failed),
        documents=tuple(documents),
        failures=tuple(ManifestFailure(mask_personnummer(o.recipient), mask_personnummer(o.name),
                                       mask_personnummer_in(o.error)) for o in report.failed),
        warnings=tuple(mask_personnummer_in({"mottagare": o.recipient, "varning": w})
                       for o in report.outcomes for w in o.warnings),
        cleaned=tuple(mask_personnummer_in({"mottagare": o.recipient, **c})
                      for o in report.outcomes for c in o.cleaned),
    )
    report.manifest = outfolder.write_manifest(plan.folder, manifest)
    return report.manifest


def _pages(file: Path) -> int | None:
    """Return the page count of a PDF, or None for other files (a .docx has no fixed pages)."""
    if file.suffix.lower() != ".pdf":
        return None
    return len(PdfReader(file).pages)
