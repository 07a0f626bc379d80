"""The placeholders ``beslut new`` writes into a new ärende, for the user to replace.

Written by ``scaffold`` and looked for by ``review`` (a final build stops on one left in
place). A table of the foundation stage, so that the review, which the scaffold's
sammanträde check uses, never imports the scaffold.
"""

from __future__ import annotations

PLACEHOLDERS = {
    "rubrik": "[Skriv rubriken här]",
    "diarienummer": "[Diarienummer]",
    "namn": "[Namn Efternamn]",
    "telefon": "[031-000 00 00]",
    "epost": "[fornamn.efternamn@goteborg.se]",
    "forslag": "[Skriv förslaget till beslut här]",
    "sammanfattning": "[Skriv sammanfattningen här]",
    "ekonomisk": "[Skriv bedömningen ur ekonomisk dimension här]",
    "ekologisk": "[Skriv bedömningen ur ekologisk dimension här]",
    "social": "[Skriv bedömningen ur social dimension här]",
    "samverkan": "[Skriv hur samverkan har skett, eller att ingen samverkan har skett]",
    "arendet": "[Skriv vad ärendet gäller och varför det tas upp]",
    "beskrivning": "[Skriv beskrivningen av ärendet här]",
    "bedomning_bolag": "[Skriv bolagets bedömning här]",
    "bedomning_namnd": "[Skriv förvaltningens bedömning här]",
}
"""Every placeholder a new ärende contains: text in square brackets the user replaces.

A value that still holds one of these (or any text in square brackets) has not been
filled in: the review (``review.check_placeholders``) stops a final build on a field
still equal to one of them, and on any bracketed placeholder, digits included."""
