"""The document's wording for a bolag and for a nämnd: one table, one place to edit.

A bolag gets a *beslutsunderlag* for its board, a nämnd a *tjänsteutlåtande* written by
its förvaltning. Every word that differs between the two lives in ``WORDING``; the
templates and the letters use the resolved strings from ``wording_for``.
"""

from __future__ import annotations

from .model import Organisation

WORDING: dict[str, dict[str, str]] = {
    "bolag": {
        "dokumenttyp": "Beslutsunderlag",
        "beslutsinstans": "I styrelsen för {namn}",
        "bedomning_rubrik": "Bolagets bedömning",
        "beslutsorgan": "styrelsen",
    },
    "nämnd": {
        "dokumenttyp": "Tjänsteutlåtande",
        "beslutsinstans": "I {namn_gemen}",
        "bedomning_rubrik": "Förvaltningens bedömning",
        "beslutsorgan": "nämnden",
    },
}
"""Per organisation type: the document's words. ``{namn}`` is the organisation's name,
``{namn_gemen}`` the same with a lower-case first letter ("I förskolenämnden")."""


def wording_for(org: Organisation) -> dict[str, str]:
    """Return the document words for ``org``, with its name filled in."""
    names = {"namn": org.namn, "namn_gemen": org.namn[:1].lower() + org.namn[1:]}
    return {key: text.format(**names) for key, text in WORDING[org.typ].items()}
