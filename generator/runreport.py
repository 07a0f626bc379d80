"""What a run produced: each recipient's ``Outcome`` (files, or why it failed) and the run's ``Report``.

``record`` runs one piece of a recipient's work and keeps its files or its Swedish error
and exit code, so one recipient's failure never stops the others; ``Report.exit_code`` is
the one exit-code rule of every command (``runner.run_plan`` returns a ``Report``).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import errors
from .errors import BeslutError, EnvironmentProblem, describe_os_error
from .jobs import Outputs
from .runtemp import describe_temp_error

EXIT_OK, EXIT_SOME_FAILED, EXIT_BUG = errors.EXIT_OK, errors.EXIT_SOME_FAILED, errors.EXIT_BUG


@dataclass
class Outcome:
    """What a run produced for one recipient: its files, or why it failed."""

    org_id: str
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
                grouped.setdefault(warning, []).append(outcome.org_id)
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

def record(outcome: Outcome, work: Callable[[], list[Path]]) -> None:
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
