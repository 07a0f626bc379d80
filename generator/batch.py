"""Batches: one document (or package) per organisation, with progress, manifest and summary.

A batch runs in two phases, each with the parallelism that suits it:

1. ``render``: the .docx files, CPU-bound Python, in a pool of processes;
2. ``finish``: PDF conversion and bundling, which mostly waits on LibreOffice, in a
   pool of threads that each own one warm ``Converter``.

A failure for one recipient is recorded and the batch goes on; the manifest lists every
output (recipient, file, pages, sha256) and every failure with its reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

from pypdf import PdfReader
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .errors import BeslutError
from .files import write_bytes

MANIFEST_NAME = "manifest.json"


def default_workers() -> int:
    """Return how many workers a batch uses: one per core, at most four."""
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class Outcome:
    """What a batch produced for one recipient: its files, or why it failed."""

    recipient: str
    name: str
    files: list[Path] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class BatchReport:
    """The outcomes of a whole batch, in recipient order."""

    outcomes: list[Outcome]
    manifest: Path | None = None

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def files(self) -> list[Path]:
        return [f for o in self.outcomes for f in o.files]


RenderFn = Callable[[str], list[Path]]
"""Render the documents of one recipient (by id); must be picklable (module-level)."""

FinishFn = Callable[[str, list[Path], object], tuple[list[Path], list[str]]]
"""Finish one recipient with a Converter: return its extra files and warnings."""


def run_batch(
    recipients: list[tuple[str, str]],
    render: RenderFn,
    finish: FinishFn | None = None,
    *,
    workers: int | None = None,
    show_progress: bool = True,
) -> BatchReport:
    """Run ``render`` (and then ``finish``) for each (id, name) in ``recipients``."""
    workers = workers or default_workers()
    outcomes = {rid: Outcome(recipient=rid, name=name) for rid, name in recipients}
    with ExitStack() as stack:
        # The worker processes are forked here, before the progress bar starts its thread.
        rendered = _start_renders(outcomes, render, workers, stack)
        with _progress(show_progress) as progress:
            task = progress.add_task("Skapar Word-filer", total=len(outcomes))
            for outcome, work in rendered:
                _record(outcome, work)
                progress.advance(task)
            if finish is not None:
                todo = [o for o in outcomes.values() if o.ok]
                task = progress.add_task("Skapar PDF", total=len(todo))
                _finish_all(todo, finish, workers, lambda: progress.advance(task))
    return BatchReport(outcomes=[outcomes[rid] for rid, _ in recipients])


def _start_renders(outcomes: dict[str, Outcome], render: RenderFn, workers: int, stack: ExitStack):
    """Start rendering every recipient; yield (outcome, a function returning its files)."""
    if workers == 1 or len(outcomes) < 4:
        return ((o, partial(render, o.recipient)) for o in outcomes.values())
    pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers))
    futures = {pool.submit(render, rid): outcome for rid, outcome in outcomes.items()}
    return ((futures[f], f.result) for f in as_completed(futures))


def _finish_all(todo: list[Outcome], finish: FinishFn, workers: int, advance) -> None:
    from .convert import Converter

    local = threading.local()
    with ExitStack() as stack, ThreadPoolExecutor(max_workers=workers) as pool:
        lock = threading.Lock()

        def converter():
            if not hasattr(local, "converter"):
                with lock:
                    local.converter = stack.enter_context(Converter())
            return local.converter

        def job(outcome: Outcome):
            def work():
                files, warnings = finish(outcome.recipient, list(outcome.files), converter())
                outcome.warnings += warnings
                return outcome.files + files

            _record(outcome, work)
            advance()

        for future in [pool.submit(job, o) for o in todo]:
            future.result()


def _record(outcome: Outcome, work: Callable[[], list[Path]]) -> None:
    """Run ``work``; store its files in ``outcome``, or its Swedish error message."""
    try:
        outcome.files = work()
    except BeslutError as e:
        outcome.error = e.format()
    except Exception as e:  # one recipient's unexpected failure must not stop the batch
        outcome.error = f"oväntat fel: {type(e).__name__}: {e}"


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


def write_manifest(report: BatchReport, path: Path, *, title: str) -> Path:
    """Write the run's manifest (JSON): every output with pages and sha256, every failure."""
    base = path.parent
    documents = []
    for outcome in report.outcomes:
        for file in outcome.files:
            documents.append({
                "mottagare": outcome.recipient,
                "namn": outcome.name,
                "fil": os.path.relpath(file, base),
                "sidor": _pages(file),
                "sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
            })
    manifest = {
        "titel": title,
        "antal_mottagare": len(report.outcomes),
        "lyckade": len(report.outcomes) - len(report.failed),
        "misslyckade": len(report.failed),
        "dokument": documents,
        "fel": [{"mottagare": o.recipient, "namn": o.name, "orsak": o.error} for o in report.failed],
    }
    write_bytes(path, (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    report.manifest = path
    return path


def _pages(file: Path) -> int | None:
    """Return the page count of a PDF, or None for other files (a .docx has no fixed pages)."""
    if file.suffix.lower() != ".pdf":
        return None
    return len(PdfReader(file).pages)
