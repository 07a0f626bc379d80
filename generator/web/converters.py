"""The web server's LibreOffice converters: a small pool, each owned by one long-lived thread.

Every request that converts (a build, a preview, a bilaga check) borrows a converter from
the ``ConverterPool`` the server starts with; previews and bilaga checks go before a
build's next conversion, never behind a whole letter run.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .. import pipeline

if TYPE_CHECKING:
    from ..pipeline import PdfConverter

log = logging.getLogger("beslut.web")
T = TypeVar("T")


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
            factory = pipeline.new_converter
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
        try:
            for owner in self._owners:
                if not self._closed:
                    owner.call(JOB, pipeline.warm_up)
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
