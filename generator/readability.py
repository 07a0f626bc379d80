"""Readability of Swedish text: LIX and a short list of myndighetsord with plainer words.

Språklagen (2009:600) 11 § asks public bodies for "vårdat, enkelt och begripligt" language.
``lix`` measures one text; ``find_myndighetsord`` finds stiff official words and suggests
everyday ones. Both work on the Markdown of a field, with the markup stripped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LIX_SCALE = ((30, "mycket lätt"), (40, "lätt"), (50, "medelsvår"), (60, "svår"))
"""Upper bounds of the usual LIX scale (Björnsson 1968); above 60 is "mycket svår"."""

_ABBREVIATIONS = re.compile(
    r"\b(?:t\.ex|bl\.a|m\.m|m\.fl|s\.k|d\.v\.s|dvs|osv|o\.s\.v|etc|jfr|resp|ca|nr|kap|fr\.o\.m|t\.o\.m)\.",
    re.IGNORECASE,
)
_MARKUP = re.compile(r"\]\([^)]*\)|[\[\]*_`#>]")
_LIST_MARKER = re.compile(r"^\s*(?:[-+*]|\d+[.)])\s+", re.MULTILINE)
_WORD = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"[.!?:]+(?=\s|$)")


def plain_text(markdown: str) -> str:
    """Return ``markdown`` without its markup: link targets, emphasis, headings, list marks."""
    return _MARKUP.sub("", _LIST_MARKER.sub("", markdown.replace("](", "]( ")))


def lix(text: str) -> tuple[int, int]:
    """Return (LIX, number of words) of a Markdown ``text``; (0, 0) when it has no words.

    LIX = words / sentences + 100 * long words / words, where a long word has more than six
    letters. A sentence ends with . ! ? or : (not in common abbreviations such as "t.ex."),
    and every paragraph, heading or list item is at least one sentence.
    """
    plain = _ABBREVIATIONS.sub("", plain_text(text))
    words = _WORD.findall(plain)
    if not words:
        return 0, 0
    sentences = 0
    for block in plain.splitlines():
        block = block.strip()
        if not _WORD.search(block):
            continue
        sentences += len(_SENTENCE_END.findall(block))
        if not _SENTENCE_END.search(block[-1] + " "):
            sentences += 1
    long_words = sum(1 for w in words if len(w) > 6)
    return round(len(words) / max(sentences, 1) + 100 * long_words / len(words)), len(words)


def lix_label(value: int) -> str:
    """Return the LIX scale's word for ``value``: "mycket lätt" … "mycket svår"."""
    for bound, label in LIX_SCALE:
        if value <= bound:
            return label
    return "mycket svår"


# Myndighetsord and plainer alternatives: a selection from Regeringskansliet's "Svarta
# listan" (Regeringskansliets rekommendationer om ord och uttryck, the klarspråk list of
# the Swedish Government Offices) and Språkrådet's "Myndigheternas skrivregler"
# (Institutet för språk och folkminnen). The alternatives are worded for a board paper.
# Each pattern matches the word's common inflections, case-insensitively, as whole words.
MYNDIGHETSORD: tuple[tuple[str, str, str], ...] = (
    (r"erforderlig(?:a|t)?", "erforderlig", "nödvändig, som behövs"),
    (r"tillställ(?:a|er|s|de|des|t|ts)", "tillställa", "skicka, ge"),
    (r"ankomm(?:a|er|it)\s+på|ankom\s+på", "ankomma på", "vara ansvarig för, vara någons uppgift"),
    (r"erhåll(?:a|er|s|it|its|na|en|et)|erhölls?", "erhålla", "få"),
    (r"anmoda(?:r|s|de|des|t|ts)?|anmodan", "anmoda", "uppmana, be"),
    (r"beakta(?:r|s|de|des|t|ts)?", "beakta", "ta hänsyn till, tänka på"),
    (r"emedan", "emedan", "eftersom"),
    (r"icke", "icke", "inte"),
    (r"ej", "ej", "inte"),
    (r"jämväl", "jämväl", "också"),
    (r"medelst", "medelst", "med, genom"),
    (r"oaktat", "oaktat", "trots"),
    (r"ombesörj(?:a|er|s|de|des|t|ts)", "ombesörja", "ordna, se till"),
    (r"tillse(?:r|s)?|tillsåg", "tillse", "se till"),
    (r"torde", "torde", "bör, troligen"),
    (r"utröna(?:r|s|de|des|t|ts)?", "utröna", "ta reda på"),
    (r"vederbörande", "vederbörande", "den det gäller, den som är ansvarig"),
    (r"åvila(?:r|de|t)?", "åvila", "vara någons ansvar"),
    (r"dylik(?:a|t)?", "dylik", "sådan, liknande"),
    (r"härvid(?:lag)?", "härvid", "då, i det här fallet"),
    (r"sålunda", "sålunda", "alltså, så"),
    (r"i\s+syfte\s+att", "i syfte att", "för att"),
    (r"i\s+enlighet\s+med", "i enlighet med", "enligt"),
    (r"innevarande\s+år", "innevarande år", "i år"),
    (r"föranled(?:a|er|de|des|t|ts|s)", "föranleda", "leda till, orsaka"),
    (r"anhängiggj?(?:öra|ör|örs|orde|ordes|ort|orts|jort)", "anhängiggöra", "väcka, ta upp"),
    (r"förvisso", "förvisso", "visserligen"),
    (r"tillika", "tillika", "också"),
    (r"inkomm(?:a|er|it|na)|inkom", "inkomma", "komma in, skicka in"),
)

_MYNDIGHETSORD = [
    (re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.IGNORECASE), word, plain)
    for pattern, word, plain in MYNDIGHETSORD
]


@dataclass(frozen=True)
class Myndighetsord:
    """A myndighetsord found in a text: where, as written, and the plainer words."""

    offset: int
    text: str
    word: str
    alternative: str


def find_myndighetsord(text: str) -> list[Myndighetsord]:
    """Return every myndighetsord in ``text``, in order, with its plainer alternative."""
    found = [
        Myndighetsord(m.start(), m.group(0), word, plain)
        for pattern, word, plain in _MYNDIGHETSORD
        for m in pattern.finditer(text)
    ]
    return sorted(found, key=lambda f: f.offset)
