"""Errors the generator raises: one base class, one subclass per stage.

Every message is Swedish and written for the handläggare: it names the file, the field
(where there is one) and what to do. ``cli.py`` turns them into a message and an exit code.
"""

from __future__ import annotations

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
    ):
        self.message = message
        self.file = Path(file) if file is not None else None
        self.line = line
        self.field = field
        super().__init__(self.format())

    def format(self) -> str:
        """Return the message with the file and field in front, as shown to the user."""
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.line:
            where.append(f"rad {self.line}")
        if self.field:
            where.append(f"fält '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


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


class SendError(BeslutError):
    """Raised when letters cannot be e-mailed: SMTP settings, missing letters, the server."""

    exit_code = 7
