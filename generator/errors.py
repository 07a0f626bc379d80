"""Errors the generator raises: one base class, one subclass per stage.

Every message is Swedish and written for the handläggare: it names the file, the field
(where there is one) and what to do. ``cli/shell.py`` turns them into a message and an exit code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class BeslutError(Exception):
    """Base class of every error a user should see as a message, not a traceback."""

    exit_code = 1
    """Process exit code for this kind of error (click itself uses 2 for bad usage)."""

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
        parts: Sequence[BeslutError] = (),
    ):
        self.message = message
        self.file = Path(file) if file is not None else None
        self.line = line
        self.field = field
        self.parts = list(parts)
        """The errors this one reports together (e.g. every field of a file), if any."""
        super().__init__(self.format())

    def located(self) -> list[BeslutError]:
        """Return the single errors this one is made of, each with its own file, line and field.

        For tools that show each problem where it belongs (the web page puts it at its field)
        rather than re-reading the text of ``format``.
        """
        return [single for part in self.parts for single in part.located()] if self.parts else [self]

    def format(self) -> str:
        """Return the message with the file and field in front, as shown to the user."""
        return with_location(self.message, self.file, self.line, self.field)


def format_location(file: Path | str | None = None, line: int | None = None, field: str | None = None) -> str:
    """Return where a problem is, as every message says it: ``fil, rad 12, fält 'rubrik'``.

    The one formatter of a location (errors, the review's findings, the web page's
    problems): the parts that are known, in this order; "" when none is.
    """
    where = []
    if file is not None and str(file):
        where.append(str(file))
    if line:
        where.append(f"rad {line}")
    if field:
        where.append(f"fält '{field}'")
    return ", ".join(where)


def with_location(message: str, file: Path | str | None = None, line: int | None = None,
                  field: str | None = None) -> str:
    """Return ``message`` with its location in front (``format_location``): ``fil, rad 12: …``."""
    where = format_location(file, line, field)
    return f"{where}: {message}" if where else message


class UsageProblem(BeslutError):
    """Raised when the command line asks for something impossible (exit 2, as click's own)."""

    exit_code = 2


class ContentError(BeslutError):
    """Raised when YAML content (an ärende, a registry, an utskick) is invalid."""

    exit_code = 3


class TemplateError(BeslutError):
    """Raised when a Word template is missing, broken or uses unknown variables."""

    exit_code = 4


class ConversionError(BeslutError):
    """Raised when LibreOffice is missing or fails to convert a document to PDF."""

    exit_code = 5


class BundleError(BeslutError):
    """Raised when a bilaga cannot go into the bundle (missing, broken, encrypted …)."""

    exit_code = 6


class ReviewError(BeslutError):
    """Raised when a final (not draft) document would be written despite stopp-findings."""

    exit_code = 8


class EnvironmentProblem(BeslutError):
    """Raised when the machine stops a run: a folder that cannot be written, a full disk …"""

    exit_code = 7


def describe_os_error(error: OSError) -> str:
    """Return what an OSError means for the user, in Swedish, with what to do."""
    import errno

    reasons = {
        errno.EACCES: "behörighet saknas. Välj en mapp du får skriva i (--out) eller be IT om behörighet.",
        errno.EPERM: "behörighet saknas. Välj en mapp du får skriva i (--out) eller be IT om behörighet.",
        errno.EROFS: "mappen går bara att läsa. Välj en annan mapp med --out.",
        errno.ENOSPC: "disken är full. Frigör utrymme eller välj en annan mapp med --out.",
        errno.EDQUOT: "diskkvoten är slut. Frigör utrymme eller välj en annan mapp med --out.",
        errno.EISDIR: "det finns en mapp med samma namn. Flytta eller byt namn på mappen.",
        errno.ENOTDIR: "en del av sökvägen är en fil, inte en mapp. Välj en annan mapp med --out.",
        errno.EEXIST: "det finns redan en fil med det namnet där en mapp behövs.",
    }
    return reasons.get(error.errno or 0, f"systemfel ({error.strerror or error}).")


class SendError(BeslutError):
    """Raised when letters cannot be e-mailed: SMTP settings, missing letters, the server."""

    exit_code = 9


EXIT_OK, EXIT_SOME_FAILED, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 70, 130
"""Exit codes that are no error of ours: done; some recipients of a run failed (they are
listed); a bug in beslut; interrupted (Ctrl-C). Each ``BeslutError`` carries its own."""
