"""The front door's review: what ``beslut review`` finds in an ärende, a sammanträde and a protokoll.

Stopp-findings refuse a final build; varningar are shown. The findings' severities and the
readability scale are content (imported here); the review itself is imported when called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..content import LoadedArende
from ..findings import STOPP
from ..readability import lix, lix_label
from ..review import LIX_MIN_WORDS
from .meetings import validate_sammantrade
from .papers import validate_arende

if TYPE_CHECKING:
    from ..findings import Finding
    from ..protokollet import LoadedProtokoll
    from ..sammantrade import LoadedSammantrade

ReviewedArende = tuple[LoadedArende, list["Finding"]]
"""One ärende (one organisation's version) and its review findings."""


def count_stopp(findings: list[Finding] | tuple[Finding, ...]) -> int:
    """Return how many of ``findings`` are stopp (the rest are varningar)."""
    return sum(f.severity == STOPP for f in findings)


def review_arenden(arende_path: Path, organisationer_path: Path,
                   org_ids: list[str] | None = None) -> list[ReviewedArende]:
    """Load and review an ärende (each organisation's version of a shared one); write nothing."""
    from ..review import review_arende

    return [(loaded, review_arende(loaded)) for loaded in validate_arende(arende_path, organisationer_path, org_ids)]


def review_findings(loaded: LoadedArende) -> list[Finding]:
    """Return the review's findings (stopp and varningar) for one organisation's version of an ärende."""
    from ..review import review_arende

    return review_arende(loaded)


def rate_readability(text: str) -> str | None:
    """Return "LIX 42, medelsvår" for a text with enough words to rate (the review's rule), else None."""
    value, words = lix(text)
    return f"LIX {value}, {lix_label(value)}" if words >= LIX_MIN_WORDS else None


def readability(loaded: LoadedArende) -> dict[str, tuple[int, str]]:
    """Return the LIX and its label of each text of an ärende, by field name."""
    from ..review import readability as _readability

    return _readability(loaded)


def review_json(reviewed: list[ReviewedArende]) -> dict[str, Any]:
    """Return reviewed ärenden as the JSON ``beslut review --json`` prints."""
    from ..review import review_json as _review_json

    return _review_json(reviewed)


@dataclass
class SammantradeReview:
    """A sammanträde reviewed: its ärenden and, when it has one, its protokoll."""

    meeting: LoadedSammantrade
    reviewed: list[ReviewedArende]
    protokoll: LoadedProtokoll | None = None
    protokoll_findings: list[Finding] = field(default_factory=list)

    @property
    def stopp(self) -> int:
        """Return how many findings (ärenden and protokoll) are stopp."""
        return sum(count_stopp(f) for _, f in self.reviewed) + count_stopp(self.protokoll_findings)

    def as_json(self) -> dict[str, Any]:
        """Return the review as ``beslut review --json`` prints it."""
        data = review_json(self.reviewed)
        if self.protokoll is not None:
            found = self.protokoll_findings
            stopp = count_stopp(found)
            data["protokoll"] = {"källa": str(self.protokoll.source), "fynd": [f.as_json() for f in found]}
            data["stopp"] += stopp
            data["varningar"] += len(found) - stopp
        return data


def review_sammantrade(path: Path, organisationer_path: Path) -> SammantradeReview:
    """Review every ärende of a sammanträde and, when it has one, its protokoll; write nothing."""
    from ..minutes import review_protokoll
    from ..protokollcheck import load_protokoll
    from ..protokollet import has_protokoll
    from ..review import review_arende

    meeting = validate_sammantrade(path, organisationer_path)
    reviewed = [(p.loaded, review_arende(p.loaded)) for p in meeting.punkter if p.loaded is not None]
    protokoll = load_protokoll(path, organisationer_path) if has_protokoll(meeting.source) else None
    found = review_protokoll(protokoll) if protokoll is not None else []
    return SammantradeReview(meeting, reviewed, protokoll, found)


