"""Running a plan: every job rendered, converted and bundled, then committed; one report.

A run has three phases, each with the parallelism that suits it, and each a room:

1. **render** the .docx files: CPU-bound Python, in a pool of processes (inline for a
   few jobs): here;
2. **finish**: PDF conversion and handlingar.pdf, which mostly wait on LibreOffice, in a
   pool of threads that each own one warm ``Converter``: ``runfinish``;
3. **commit**: each job's files move from the run's staging folder into ``out/`` only
   when all of that job succeeded, so a failed rebuild leaves the previous package whole
   (never a new paper beside an old handlingar.pdf): ``runcommit``.

``run_plan`` runs them in order with a progress bar, then writes the manifest (here, for
now). A failure of one job is recorded and the others go on (``runreport.record``);
``runreport.Report.exit_code`` is the one exit-code rule of every command.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from pypdf import PdfReader
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import outfolder
from .cache import BilagaCache
from .files import sha256_file
from .jobs import Job, LetterJob, PaperJob, Plan, check_out_paths
from .letters import letter_inputs, render_letter
from .outfolder import Manifest, ManifestDocument, ManifestFailure, read_manifest
from .personnummer import mask_personnummer, mask_personnummer_in
from .render import render_beslutsunderlag
from .runcommit import commit, remove_staging, staged, start_staging
from .runfinish import ConverterFactory, Finishers, finish_all, read_bilagor_ahead
from .runreport import Outcome, Report, record


def default_workers() -> int:
    """Return how many workers a run uses: one per core, at most four."""
    return max(1, min(4, os.cpu_count() or 1))


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
    outcomes = {job.org_id: Outcome(org_id=job.org_id, name=job.name, outputs=job.outputs,
                                       warnings=list(job.warnings))
                for job in plan.jobs}
    jobs = {job.org_id: job for job in plan.jobs}
    staging = start_staging(plan.out)
    try:
        with ExitStack() as stack:
            # Worker processes are forked here, before the progress bar starts its thread.
            rendered = _start_renders(plan.jobs, staging, plan.out, workers, stack)
            # LibreOffice starts while the .docx files render (about 1 s saved on a cold start).
            finishers = stack.enter_context(Finishers(min(workers, len(plan.jobs)), converter_factory)) \
                if plan.needs_converter else None
            cache = BilagaCache(plan.out)
            ahead = read_bilagor_ahead(plan, cache) if finishers is not None else None
            with _progress(show_progress) as progress:
                advance = _advancer(progress, "docx", "Skapar Word-filer", len(plan.jobs), on_progress)
                for org_id, work in rendered:
                    record(outcomes[org_id], work)
                    advance()
                if finishers is not None:  # the plan needs a converter
                    todo = [o for o in outcomes.values() if o.ok]
                    advance = _advancer(progress, "pdf", "Skapar PDF", len(todo), on_progress)
                    finish_all(todo, jobs, staging, plan.out, cache, finishers, advance, ahead)
        for org_id, outcome in outcomes.items():
            if outcome.ok:
                record(outcome, partial(commit, jobs[org_id], staging, plan.out))
    finally:
        remove_staging(staging)
    for outcome in outcomes.values():  # name the file where the user will look for it, not where it was staged
        if outcome.error:
            outcome.error = outcome.error.replace(f"{staging}{os.sep}", f"{plan.out}{os.sep}")
    report = Report(outcomes=[outcomes[job.org_id] for job in plan.jobs], notices=list(plan.notices))
    report.removed = _remove_stale(plan, report)
    write_manifest(plan, report, inputs)
    return report


# --- the render phase ----------------------------------------------------------------------


def render_job(job: Job, docx: Path) -> None:
    """Render the .docx of ``job`` into ``docx`` (runs in a worker process)."""
    if isinstance(job, PaperJob):
        render_beslutsunderlag(job.loaded, job.bilagor, docx, job.template, utkast=job.utkast)
    else:
        render_letter(job.utskick, job.organisation, docx, job.template)


def _render_one(job: Job, staging: Path, out: Path) -> list[Path]:
    render_job(job, staged(job.outputs.docx, staging, out))
    return [job.outputs.docx]


def _start_renders(jobs: tuple[Job, ...], staging: Path, out: Path, workers: int, stack: ExitStack):
    """Start rendering every job; yield (recipient, a function returning its files)."""
    if workers == 1 or len(jobs) < 4:
        return ((job.org_id, lambda job=job: _render_one(job, staging, out)) for job in jobs)
    pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers, initializer=_ignore_interrupts))
    futures = {pool.submit(_render_one, job, staging, out): job.org_id for job in jobs}
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
    current = {o.org_id for o in report.outcomes}
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
                fingerprints[job.org_id] = letter_inputs(job.utskick, job.organisation, job.template)
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
    current = {o.org_id for o in report.outcomes}
    kept = [] if plan.whole else [
        e for e in _previous_manifest(plan).documents if e.org_id not in current
    ]
    allowed = plan.allowed_personnummer
    documents = kept + [
        ManifestDocument(
            file=os.path.relpath(file, base),
            org_id=outcome.org_id,
            org_name=mask_personnummer(outcome.name, allowed),
            pages=_pages(file),
            sha256=sha256_file(file),
            fingerprint=inputs.get(outcome.org_id),
        )
        for outcome in report.outcomes
        for file in outcome.files
    ]
    # no personnummer the review would stop (a draft may have them) but those the ärende allows:
    # see personnummer.mask_personnummer
    manifest = Manifest(
        title=mask_personnummer(plan.title, allowed),
        org_count=len(report.outcomes),
        succeeded=len(report.outcomes) - len(report.failed),
        failed=len(report.failed),
        documents=tuple(documents),
        failures=tuple(ManifestFailure(mask_personnummer(o.org_id, allowed),
                                       mask_personnummer(o.name, allowed),
                                       mask_personnummer_in(o.error, allowed)) for o in report.failed),
        warnings=tuple(mask_personnummer_in({"mottagare": o.org_id, "varning": w}, allowed)
                       for o in report.outcomes for w in o.warnings),
        cleaned=tuple(mask_personnummer_in({"mottagare": o.org_id, **c}, allowed)
                      for o in report.outcomes for c in o.cleaned),
    )
    report.manifest = outfolder.write_manifest(plan.folder, manifest)
    return report.manifest


def _pages(file: Path) -> int | None:
    """Return the page count of a PDF, or None for other files (a .docx has no fixed pages)."""
    if file.suffix.lower() != ".pdf":
        return None
    return len(PdfReader(file).pages)
