"""The template context: what the Word template may use, built from a validated ärende.

The keys of ``build_context`` are the only names the beslutsunderlag template can use
(``PAPER_VARIABLES``); ``render`` renders with a strict undefined, and
``templates.check_template_dir`` reports any other name as an error.
"""

from __future__ import annotations

from .bilagor import PlannedBilaga
from .content import LoadedArende
from .markdown import MarkdownRenderer
from .wording import wording_for

PAPER_VARIABLES = frozenset({
    "dokumenttyp", "avsandare", "organisation", "beslutsinstans", "bedomning_rubrik", "rubrik",
    "utfardat", "diarienummer", "handlaggare", "forslag_till_beslut", "sammanfattning",
    "dimensioner", "samverkan", "bilagor", "arendet", "beskrivning", "bedomning", "underskrifter",
})
"""The variables the beslutsunderlag template may use."""


def build_context(
    loaded: LoadedArende, bilagor: tuple[PlannedBilaga, ...], markdown: MarkdownRenderer
) -> dict:
    """Return the context for the beslutsunderlag template."""
    arende, org = loaded.arende, loaded.organisation
    words = wording_for(org)
    return {
        "dokumenttyp": words["dokumenttyp"],
        "avsandare": org.avsandare,
        "organisation": org.namn,
        "beslutsinstans": words["beslutsinstans"],
        "bedomning_rubrik": words["bedomning_rubrik"],
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
        "bilagor": list(bilagor),
        "arendet": markdown.subdoc(arende.arendet),
        "beskrivning": markdown.subdoc(arende.beskrivning),
        "bedomning": markdown.subdoc(arende.bedomning),
        "underskrifter": [{"namn": u.namn, "titel": u.titel} for u in arende.underskrifter],
    }
