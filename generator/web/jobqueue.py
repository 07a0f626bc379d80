"""Builds and letter runs in the background: a bounded queue onto the warm converters.

A job runs in a server thread, not in the request, so a browser that closes mid-build
loses nothing: the page can be opened again and shows the job's state. One job per
ärende or utskick at a time (a second request gets the running job); when the queue is
full, ``submit`` raises ``QueueFull`` and the page says so instead of hanging.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import BeslutError
from .converters import ConverterPool

log = logging.getLogger("beslut.web")


class QueueFull(Exception):
    """Raised when the job queue has no room left."""


@dataclass
class Job:
    """One build or letter run and how far it has come."""

    id: str
    key: str
    """What it works on (``arende/<namn>``, ``utskick/<namn>``): one job per key at a time."""
    title: str
    state: str = "väntar"
    """``väntar``, ``pågår``, ``klar`` or ``fel``."""
    done: int = 0
    total: int = 0
    current: str = ""
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    downloads: list[tuple[str, str]] = field(default_factory=list)
    """(label, url) of what can be downloaded when the job is done."""
    back: str = "/"
    draft: bool = False
    """An UTKAST build: the review's stopp are still in it."""
    finished_at: float | None = None

    def progress(self, done: int, total: int, current: str) -> None:
        """Record progress (called by the work from the job's thread)."""
        self.done, self.total, self.current = done, total, current

    @property
    def finished(self) -> bool:
        return self.state in ("klar", "fel")

    def as_json(self) -> dict:
        """Return what the page's script needs to show the job's progress."""
        return {"state": self.state, "done": self.done, "total": self.total, "current": self.current,
                "finished": self.finished}


Work = Callable[[Job, object], None]
"""The work of a job: gets the job (to report progress and results) and a converter."""


class JobQueue:
    """A bounded queue of jobs run by as many threads as there are converters."""

    def __init__(self, pool: ConverterPool, max_waiting: int = 8, keep: int = 200):
        self.pool = pool
        self._queue: queue.Queue = queue.Queue(maxsize=max_waiting)
        self._jobs: dict[str, Job] = {}
        self._active: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._keep = keep
        self._threads = [threading.Thread(target=self._run, name=f"beslut-jobb-{i}", daemon=True)
                         for i in range(pool.size)]
        for t in self._threads:
            t.start()

    def submit(self, key: str, title: str, work: Work, back: str, draft: bool = False) -> Job:
        """Queue ``work`` for ``key``; return the job (the running one if ``key`` has one)."""
        with self._lock:
            if key in self._active:
                return self._active[key]
            job = Job(id=secrets.token_urlsafe(12), key=key, title=title, back=back, draft=draft)
            try:
                self._queue.put_nowait((job, work))
            except queue.Full:
                raise QueueFull() from None
            self._active[key] = job
            self._jobs[job.id] = job
            self._forget_old()
        return job

    def get(self, job_id: str) -> Job | None:
        """Return the job with ``job_id``, or None."""
        return self._jobs.get(job_id)

    def _forget_old(self) -> None:
        done = [j for j in self._jobs.values() if j.finished]
        for job in sorted(done, key=lambda j: j.finished_at or 0)[: max(0, len(self._jobs) - self._keep)]:
            del self._jobs[job.id]

    def _run(self) -> None:
        while True:
            job, work = self._queue.get()
            job.state = "pågår"
            try:
                with self.pool.borrow(timeout=3600) as converter:
                    work(job, converter)
                job.state = "fel" if job.error else "klar"
            except BeslutError as e:
                job.error, job.state = e.format(), "fel"
            except Exception:  # never let one job kill the worker; the page shows a Swedish message
                log.exception("jobb %s (%s) misslyckades", job.id, job.key)
                job.error, job.state = "Ett oväntat fel inträffade. Försök igen, eller kontakta IT-supporten.", "fel"
            finally:
                job.finished_at = time.time()
                with self._lock:
                    self._active.pop(job.key, None)
