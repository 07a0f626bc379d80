"""The template context: what the Word template may use, built from a validated ärende.

The keys here are the only names a template can use; ``render`` renders with a strict
undefined, and ``templates.check_template`` reports any other name as an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from .content import LoadedArende
from .markdown import MarkdownRenderer


@dataclass(frozen=True)
class NumberedBilaga:
    """A bilaga with its number: the one numbering shared by the paper and the bundle."""

    nummer: int
    titel: str
    fil: str

    @property
    def rubrik(self) -> str:
        """Return the bilaga's heading, e.g. "Bilaga 1 – Presentationsmaterial"."""
        return f"Bilaga {self.nummer} – {self.titel}"


def number_bilagor(loaded: LoadedArende) -> list[NumberedBilaga]:
    """Return the ärende's bilagor numbered from 1, in the order they are listed."""
    return [
        NumberedBilaga(nummer=i, titel=b.titel, fil=b.fil)
        for i, b in enumerate(loaded.arende.bilagor, start=1)
    ]


def build_context(loaded: LoadedArende, markdown: MarkdownRenderer) -> dict:
    """Return the context for the beslutsunderlag template."""
    arende, org = loaded.arende, loaded.organisation
    return {
        "dokumenttyp": org.dokumenttyp,
        "avsandare": org.avsandare,
        "organisation": org.namn,
        "beslutsinstans": org.beslutsinstans,
        "bedomning_rubrik": org.bedomning_rubrik,
        "rubrik": arende.rubrik,
        "utfardat": arende.utfardat.isoformat(),
        "diarienummer": arende.diarienummer or "-",
        "handlaggare": {
            "namn": arende.handlaggare.namn,
            "telefon": arende.handlaggare.telefon,
            "epost": arende.handlaggare.epost,
        },
        "forslag_till_beslut": markdown.numbered_list(arende.forslag_till_beslut),
        "sammanfattning": markdown.subdoc(arende.sammanfattning),
        "dimensioner": {
            "ekonomisk": markdown.subdoc(arende.dimensioner.ekonomisk),
            "ekologisk": markdown.subdoc(arende.dimensioner.ekologisk),
            "social": markdown.subdoc(arende.dimensioner.social),
        },
        "samverkan": markdown.subdoc(arende.samverkan),
        "bilagor": number_bilagor(loaded),
        "arendet": markdown.subdoc(arende.arendet),
        "beskrivning": markdown.subdoc(arende.beskrivning),
        "bedomning": markdown.subdoc(arende.bedomning),
        "underskrifter": [{"namn": u.namn, "titel": u.titel} for u in arende.underskrifter],
    }
