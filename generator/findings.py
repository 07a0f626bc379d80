"""What the review finds and where: a ``Finding``, the ärende's text fields, their file and line.

``review`` runs the checks; this room holds what they share: the two severities (stopp,
varning), the ``Finding`` a check returns (and the CLI prints, and ``--json`` writes),
the ärende's texts with their YAML paths (``text_fields``), and ``Locator``, which
finds the file and line of a value, down to a place inside a multi-line text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .arendefields import iter_texts
from .content import LoadedArende
from .errors import format_location, with_location
from .yamlfile import Loc, YamlDocument

STOPP = "stopp"
VARNING = "varning"


@dataclass(frozen=True)
class Finding:
    """One thing to fix or look at: severity, a stable code, the field and where it is."""

    severity: str
    """"stopp" (blocks a final document) or "varning"."""
    code: str
    """A short stable id for tools: "personnummer", "bilaga-saknas", "platshallare" …"""
    field: str
    """The YAML key path as the user reads it: ``dimensioner.social``, ``bilagor[2]``."""
    message: str
    file: Path | None = None
    line: int | None = None

    @property
    def where(self) -> str:
        """Return the finding's file and line (``errors.format_location``): ``fil, rad 12``."""
        return format_location(self.file, self.line)

    def located(self, *, with_field: bool = True) -> str:
        """Return the message with its file, line and field in front (``errors.with_location``)."""
        return with_location(self.message, self.file, self.line, self.field if with_field else None)

    def format(self) -> str:
        """Return the finding on one line, as the CLI prints it."""
        return f"{self.severity}  {self.located()}"

    def as_json(self) -> dict:
        """Return the finding as a JSON object with Swedish keys."""
        return {
            "nivå": self.severity,
            "kod": self.code,
            "fält": self.field,
            "fil": str(self.file) if self.file else None,
            "rad": self.line,
            "meddelande": self.message,
        }


@dataclass(frozen=True)
class TextField:
    """One piece of text in the ärende: its name for the user, its YAML path and value."""

    name: str
    loc: Loc
    text: str
    prose: bool
    """True for the paper's running text (not names, titles, phone numbers)."""


# --- where things are ----------------------------------------------------------------------


def text_fields(loaded: LoadedArende) -> list[TextField]:
    """Return every text of the ärende with its YAML path, in the order of the paper (``arendefields``)."""
    return [TextField(t.name, t.loc, t.text, t.spec.prose) for t in iter_texts(loaded.arende)]


class Locator:
    """Finds the file and line of a value, and of a place inside a multi-line value."""

    _BLOCK = re.compile(r"(?:^|[:-])\s*[|>][+-]?\d*\s*(?:#.*)?$")

    def __init__(self, loaded: LoadedArende):
        self.doc: YamlDocument | None = loaded.doc
        self.source = loaded.source
        self._lines: dict[Path, list[str]] = {}

    def at(self, loc: Loc, text: str = "", offset: int = 0) -> tuple[Path, int | None]:
        """Return the file and line of ``loc``, or of character ``offset`` of its ``text``."""
        if self.doc is None:
            return self.source, None
        file, line = self.doc.file_of(loc), self.doc.line_of(loc)
        if line is None or not offset:
            return file, line
        newlines = text[:offset].count("\n")
        source = self._source_lines(file)
        if line <= len(source) and self._BLOCK.search(source[line - 1].rstrip()):
            return file, line + 1 + newlines  # a | or > block starts on the next line
        return file, line + newlines

    def _source_lines(self, file: Path) -> list[str]:
        if file not in self._lines:
            try:
                self._lines[file] = file.read_text(encoding="utf-8").splitlines()
            except OSError:
                self._lines[file] = []
        return self._lines[file]

    def finding(self, severity: str, code: str, field: TextField | str, loc: Loc, message: str,
                offset: int = 0) -> Finding:
        """Return a Finding at ``loc`` (and ``offset`` into the field's text)."""
        text = field.text if isinstance(field, TextField) else ""
        name = field.name if isinstance(field, TextField) else field
        file, line = self.at(loc, text, offset)
        return Finding(severity, code, name, message, file, line)
