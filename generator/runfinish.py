"""A run's second phase, finishing: each job's PDF/A, e-mail and handlingar.pdf, on warm converters.

After the .docx files are rendered, ``finish_all`` gives the jobs to ``Finishers``: threads
that each own one ``Converter`` (started while the render phase runs, so LibreOffice is warm
when the first .docx is ready). A paper is converted (a draft with its watermark drawn on,
``pdfwatermark.convert_draft``) and, with a bundle, its bilagor converted once per content
(``cache``) and bound into handlingar.pdf with its tillgänglighetsrapport (``finish_job``);
four or more letters are converted together (``letterbatch.convert_letters``), each with
its e-mail. Every job writes into the run's staging folder (``runcommit.staged``) and records
its files or error in its ``runreport.Outcome``.
"""

from __future__ import annotations

import queue
import tempfile
import threading
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from .accessibility import check_parts, write_report
from .bundle import write_bundle
from .bundleparts import BundlePart, PartsAhead
from .cache import BilagaCache
from .errors import BundleError, ConversionError
from .jobs import Job, LetterJob, PaperJob, Plan
from .letterbatch import convert_letters
from .mail import write_eml
from .pdfwatermark import convert_draft
from .runcommit import staged
from .runreport import Outcome, record
from .runtemp import run_dir

if TYPE_CHECKING:
    from .convert import PdfConverter

ConverterFactory = Callable[[], "PdfConverter"]
"""Returns a new converter (``convert.Converter`` or a pool's lent one), one per thread."""


def finish_job(job: Job, staging: Path, out: Path, converter: PdfConverter, cache: BilagaCache,
               ahead: PartsAhead | None = None) -> list[str]:
    """Convert ``job``'s .docx to PDF/A and, for a paper with a bundle, write handlingar.pdf.

    Return the Swedish warnings for the user. ``ahead`` has bilagor read already.
    """
    docx, pdf = staged(job.outputs.docx, staging, out), staged(job.outputs.pdf, staging, out)
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
    warnings = write_bundle(parts, staged(job.outputs.bundle, staging, out), title=job.title, ahead=ahead)
    if job.outputs.report is not None:
        summary = write_report(
            check_parts(parts, warnings.failures, cache), pdfua=warnings.pdfua, title=job.title,
            bundle_failures=warnings.failures, allowed=job.allowed_personnummer,
            text_path=staged(job.outputs.report, staging, out),
            json_path=staged(job.outputs.report_json, staging, out))
        if summary:
            warnings.append(summary)
    return warnings


def _write_letter_eml(job: LetterJob, staging: Path, out: Path) -> None:
    """Write the letter's e-mail, its PDF attached, if the job has one."""
    if job.outputs.eml is not None:
        write_eml(job.utskick, job.organisation, staged(job.outputs.pdf, staging, out),
                  staged(job.outputs.eml, staging, out))


def _bundle_part(bilaga, pdf: Path) -> BundlePart:
    return BundlePart(pdf=pdf, bookmark=bilaga.rubrik, label=bilaga.page_label, stamp=bilaga.name,
                      source=bilaga.source, nummer=bilaga.nummer)


def read_bilagor_ahead(plan: Plan, cache: BilagaCache) -> PartsAhead | None:
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


def finish_all(todo: list[Outcome], jobs: dict[str, Job], staging: Path, out: Path,
               cache: BilagaCache, finishers: Finishers, advance, ahead: PartsAhead | None) -> None:
    """Finish every outcome of ``todo`` on ``finishers``, four or more letters in batches; ``advance()`` each."""
    def finish(outcome: Outcome, converter):
        def work():
            warnings = finish_job(jobs[outcome.org_id], staging, out, converter, cache, ahead)
            outcome.warnings += warnings
            outcome.cleaned += getattr(warnings, "cleaned", [])
            return outcome.files

        record(outcome, work)
        advance()

    letters = [o for o in todo if _in_letter_batch(jobs[o.org_id])] if len(todo) >= MIN_LETTER_BATCH else []
    batched = {o.org_id for o in letters}
    work = [lambda converter, o=o: finish(o, converter) for o in todo if o.org_id not in batched]
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
    by_docx: dict[Path, tuple[Outcome, LetterJob]] = {}
    for outcome in letters:
        job = jobs[outcome.org_id]
        assert isinstance(job, LetterJob)
        by_docx[staged(job.outputs.docx, staging, out)] = (outcome, job)

    def finish(docx: Path, error: Exception | None = None) -> None:
        outcome, job = by_docx[docx]

        def work():
            if error is not None:
                raise error
            _write_letter_eml(job, staging, out)
            return outcome.files

        record(outcome, work)
        advance()

    with tempfile.TemporaryDirectory(prefix="brev-", dir=run_dir()) as work:
        result = convert_letters(converter, [(docx, staged(job.outputs.pdf, staging, out))
                                             for docx, (_, job) in by_docx.items()], Path(work), finish)
    for docx, error in result.failed.items():
        finish(docx, error)


class Finishers:
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

    def __enter__(self) -> Finishers:
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
                except Exception:  # noqa: BLE001 -- work records its own errors (``runreport.record``)
                    pass
                finally:
                    event.set()
