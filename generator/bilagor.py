"""A paper's bilagor, numbered once: the one place that names "Bilaga N".

The paper's Bilagor list, handlingar.pdf's bookmarks, page labels and stamps all take
their words from ``PlannedBilaga``, so the numbering and the naming cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .content import LoadedArende


def bilaga_name(nummer: int) -> str:
    """Return how bilaga ``nummer`` is named everywhere: "Bilaga 3"."""
    return f"Bilaga {nummer}"


@dataclass(frozen=True)
class PlannedBilaga:
    """A bilaga with its number and its file: what the paper lists and the bundle holds."""

    nummer: int
    titel: str
    fil: str
    """The file as written in the ärende (relative to its folder)."""
    source: Path
    """The file itself."""

    @property
    def name(self) -> str:
        """Return "Bilaga N": the stamp on every page of the bilaga."""
        return bilaga_name(self.nummer)

    @property
    def rubrik(self) -> str:
        """Return "Bilaga N – Titel": the bookmark in handlingar.pdf."""
        return f"{self.name} – {self.titel}"

    @property
    def page_label(self) -> str:
        """Return the prefix of the bilaga's page labels: "Bilaga N:" (pages "Bilaga N:1" …)."""
        return f"{self.name}:"


def plan_bilagor(loaded: LoadedArende) -> tuple[PlannedBilaga, ...]:
    """Return the ärende's bilagor numbered from 1, in the order they are listed."""
    return tuple(
        PlannedBilaga(nummer=i, titel=b.titel, fil=b.fil, source=loaded.bilaga_path(b))
        for i, b in enumerate(loaded.arende.bilagor, start=1)
    )
