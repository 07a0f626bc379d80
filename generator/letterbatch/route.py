"""The whole route of a batch: the first letter alone (the proof), the rest composed, converted once, split.

``convert_letters`` is what ``runner`` calls. A batch of ``batch`` letters is composed
(``compose``), converted once on the warm LibreOffice (``PdfConverter.export_pdf``) and
split (``split``); each part is finished like a letter converted alone
(``generator.convert.finish_converted``) in a second thread while LibreOffice converts the next
batch. The first letter's part must be the letter converted alone (``proof``), or the
route is dropped and every letter is converted alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pikepdf

from .compose import CannotCompose, compose_letters, letter_title
from .proof import difference
from .split import letter_pages, split_letters

if TYPE_CHECKING:
    from ..convert import PdfConverter

BATCH_LETTERS = 40
"""Letters composed into one document: LibreOffice's memory and time stay those of a 120-page document."""

BATCH_OPTIONS = ("ExportBookmarksToPDFDestination=true",)
"""Export filter options of the composed document: Word bookmarks become named destinations."""


@dataclass
class BatchResult:
    """What ``convert_letters`` did: the letters that failed, how many were composed, and why not more."""

    failed: dict[Path, Exception]
    composed: int = 0
    reason: str | None = None
    """Why the composed route was not taken (or not for all letters), for benchmarks and tests."""


def convert_letters(converter: PdfConverter, letters: list[tuple[Path, Path]], workdir: Path,
                    on_done: Callable[[Path], None] | None = None, batch: int | None = None) -> BatchResult:
    """Convert letters ((docx, pdf) pairs from one template) to PDF/A, as ``Converter.to_pdf`` would, fast.

    The first letter is converted alone: it gives the page count and the proof (see the
    package docstring). Then the letters are composed ``batch`` at a time (by default a
    quarter of them, 8 to ``BATCH_LETTERS``), each batch converted once and split. Letters
    that come out longer or shorter than the first are composed again, with their own page
    count; a letter the composed route cannot do exactly is converted alone. ``on_done(docx)`` is called as
    each letter's PDF is written (from another thread while the next batch converts). The
    result lists the letters that failed, with their error (a ``ConversionError`` as
    ``to_pdf`` raises it).
    """
    size = batch or min(BATCH_LETTERS, max(8, -(-len(letters) // 4)))
    route = _Route(converter, letters, Path(workdir), on_done or (lambda docx: None), size)
    if route.alone(0) and len(letters) > 1:
        route.compose_all()
    for index in range(len(letters)):
        if index not in route.finished and letters[index][0] not in route.result.failed:
            route.alone(index)
    return route.result


class _Route:
    """One call of ``convert_letters``: the letters, which are finished, and whether the route is proven."""

    def __init__(self, converter: PdfConverter, letters: list[tuple[Path, Path]], work: Path,
                 done: Callable[[Path], None], batch: int):
        self.converter = converter
        self.letters = letters
        self.work = work
        self.done = done
        self.batch = batch
        self.result = BatchResult({})
        self.finished: set[int] = set()
        self.proven = threading.Event()

    def alone(self, index: int) -> bool:
        """Convert letter ``index`` alone; return whether it worked (its error goes into the result)."""
        docx, pdf = self.letters[index]
        try:
            self.converter.to_pdf(docx, pdf, pdfa=True)
        except Exception as e:  # noqa: BLE001 (handed to the caller per letter)
            self.result.failed[docx] = e
            return False
        self.finished.add(index)
        self.done(docx)
        return True

    def compose_all(self) -> None:
        """Take every letter the composed route: all with the first one's page count, then the others by theirs.

        Any failure leaves the letters not finished to be converted alone, and says why in the result.
        """
        self.work.mkdir(parents=True, exist_ok=True)
        letters = self.letters
        try:
            with pikepdf.open(letters[0][1]) as made:
                pages = len(made.pages)
            others = self.run(self.batches_of(list(range(len(letters))), pages))
            # Letters of another length, composed again with their own page count.
            by_count: dict[int, list[int]] = {}
            for index, count in sorted(others.items()):
                by_count.setdefault(count, []).append(index)
            self.run([b for count, indices in by_count.items() if len(indices) > 1
                      for b in self.batches_of(indices, count)])
            if len(self.finished) < len(letters):
                self.result.reason = f"{len(letters) - len(self.finished)} brev fick ett annat sidantal"
        except Exception as e:  # noqa: BLE001 -- each letter left is converted alone, with its own error
            self.result.reason = f"{type(e).__name__}: {e}"

    def batches_of(self, indices: list[int], pages: int) -> list[tuple[list[int], int]]:
        """Return ``indices`` in groups of at most ``batch``, each with the page count ``pages``."""
        return [(indices[i:i + self.batch], pages) for i in range(0, len(indices), self.batch)]

    def run(self, batches: list[tuple[list[int], int]]) -> dict[int, int]:
        """Prepare and finish ``batches`` of (letters, page count); return the other page counts seen.

        LibreOffice converts the next batch (in this thread, which owns the converter)
        while the parts of the last one are finished in another.
        """
        others: dict[int, int] = {}
        with ThreadPoolExecutor(max_workers=1) as behind:
            finishing = None
            for group, pages in batches:
                parts, other = self.prepare(group, pages)
                others.update(other)
                if finishing is not None:
                    finishing.result()
                finishing = behind.submit(self.finish, parts)
            if finishing is not None:
                finishing.result()
        return others

    def prepare(self, group: list[int], pages: int) -> tuple[list[tuple[int, Path]], dict[int, int]]:
        """Compose, convert and split the letters ``group`` of ``pages`` pages each.

        Return the (letter, part) pairs that came out with ``pages`` pages, and the page
        count of each letter that did not (its "Sida X (Y)" said ``pages``).
        """
        work = self.work
        composed, made_pdf = work / f"brev-{group[0]}.docx", work / f"brev-{group[0]}.pdf"
        compose_letters([self.letters[i][0] for i in group], composed, pages)
        self.converter.export_pdf(composed, made_pdf, options=BATCH_OPTIONS)
        with pikepdf.open(made_pdf) as composed_pdf:
            found = letter_pages(composed_pdf, len(group))
        right = [(p, work / f"del-{group[p.index]}.pdf") for p in found if p.count == pages]
        split_letters(made_pdf, right)
        composed.unlink()
        made_pdf.unlink()
        return [(group[p.index], part) for p, part in right], \
            {group[p.index]: p.count for p in found if p.count != pages}

    def finish(self, parts: list[tuple[int, Path]]) -> None:
        """Finish each part like a letter converted alone; the first letter's part is the proof."""
        from ..convert import finish_converted

        for index, part in parts:
            docx, pdf = self.letters[index]
            if index == 0:
                proof = self.work / "prov.pdf"
                finish_converted(part, proof, src=docx, conform=True, title=letter_title(docx))
                if (found_difference := difference(pdf, proof)) is not None:
                    raise CannotCompose(f"första brevet blev inte detsamma som ensamt: {found_difference}")
                self.proven.set()
            elif not self.proven.is_set():
                raise CannotCompose("första brevet fick ett annat sidantal")
            else:
                finish_converted(part, pdf, src=docx, conform=True, title=letter_title(docx))
                self.finished.add(index)
                self.result.composed += 1
                self.done(docx)
            part.unlink()
