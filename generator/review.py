"""Granskning: what a registrator or nämndsekreterare would send back, found before they do.

``review_arende`` reads a validated ärende and returns findings, each **stopp** (a final
document must not be written) or **varning** (worth a look), with the field, file and line
and a Swedish message saying what to do. ``check_publishable`` is the gate a build calls:
stopp-findings are allowed only in a draft (``--utkast``, which gets a watermark).

The checks, one function each:

- ``check_dimensioner``: each of the three dimensions says something (the city's stock
  phrase "Ärendet har inga särskilda konsekvenser ur … dimension" is fine);
- ``check_bilaga_references``: "bilaga 5" with four bilagor is stopp, in any text field;
  a bilaga that no text refers to is a varning;
- ``check_placeholders``: XXX, TODO, [namn], Lorem ipsum, ÅÅÅÅ-MM-DD … left in: stopp;
- ``check_personnummer``: a personnummer or samordningsnummer (valid date, valid Luhn
  check digit) in a public document is stopp, unless ``tillåt_personnummer`` names the
  field with a reason;
- ``check_readability``: LIX above ``LIX_THRESHOLD`` in the sammanfattning or the förslag
  till beslut, and myndighetsord with plainer alternatives: varning.

Other checks (the tillgänglighetsrapport of the bilagor) plug in through
``review_arende(..., extra_checks=[...])``: a function of the ärende returning findings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from .arendefields import key_order, placeholders
from .content import LoadedArende
from .errors import ReviewError
from .findings import STOPP, VARNING, Finding, Locator, TextField, text_fields
from .model import Dimensioner
from .personnummer import find_personnummer, name_as_text, personnummer_key
from .readability import find_myndighetsord, lix, lix_label

LIX_THRESHOLD = 50
"""A sammanfattning or förslag till beslut above this LIX ("svår" and up) is a varning."""
LIX_FIELDS = ("sammanfattning", "förslag_till_beslut")
LIX_MIN_WORDS = 10
"""LIX says little about a text shorter than this; such texts are not rated."""

DIMENSIONER = tuple(key_order(Dimensioner))
"""The three dimensions, as the model declares them."""

Check = Callable[[LoadedArende], Iterable[Finding]]


def review_arende(loaded: LoadedArende, *, extra_checks: Iterable[Check] = ()) -> list[Finding]:
    """Return every finding for ``loaded``: stopp first, then by position in the files."""
    findings: list[Finding] = []
    for check in (*CHECKS, *extra_checks):
        findings += check(loaded)
    return sorted(findings, key=lambda f: (f.severity != STOPP, str(f.file), f.line or 0, f.field))


def check_publishable(findings: Iterable[Finding], utkast: bool) -> None:
    """Raise ReviewError listing the stopp-findings, unless there are none or it is a draft."""
    stopp = [f for f in findings if f.severity == STOPP]
    if not stopp or utkast:
        return
    listing = "\n".join(f"  {f.located()}" for f in stopp)
    raise ReviewError(
        f"granskningen hittade {len(stopp)} stopp, så inget skrevs:\n{listing}\n"
        "Rätta dem, eller skapa ett utkast med --utkast (det märks UTKAST på varje sida). "
        "Se alla fynd med 'beslut review'."
    )


# --- 1. the three dimensions ---------------------------------------------------------------

STOCK_DIMENSION = re.compile(
    r"\b(?:ärendet|förslaget|beslutet)\s+(?:har|medför|innebär)\s+inga\s+(?:särskilda\s+)?"
    r"(?:konsekvenser|effekter)\s+ur\s+(?:en\s+)?(?:ekonomisk|ekologisk|social)\s+dimension",
    re.IGNORECASE,
)
"""The city's stock phrase for a dimension the ärende does not affect: an assessment."""

NON_ANSWERS = {
    "", "saknas", "ej aktuellt", "inte aktuellt", "ej bedömt", "ej bedömd", "inte bedömt",
    "ingen", "inga", "nej", "x", "tbd", "n/a", "na", "se ovan", "kommer", "kommer senare",
    "fylls i", "fylls i senare", "ska fyllas i", "bedömning saknas", "ingen bedömning",
}
"""Dimension texts that are no assessment at all (compared without case and punctuation)."""

_OTHER_DIMENSION = re.compile(r"\b(ekonomisk|ekologisk|social)a?\s+dimension", re.I)


def check_dimensioner(loaded: LoadedArende) -> Iterator[Finding]:
    """Find dimensions that are empty words, too thin, or about another dimension."""
    where = Locator(loaded)
    for key in DIMENSIONER:
        text = getattr(loaded.arende.dimensioner, key)
        field = TextField(f"dimensioner.{key}", ("dimensioner", key), text, True)
        if _placeholders(text):
            continue  # check_placeholders reports it
        words = re.findall(r"[^\W\d_]+", text)
        bare = " ".join(words).lower()
        if bare in NON_ANSWERS:
            yield where.finding(
                STOPP, "dimension-saknas", field, field.loc,
                f"den {key}a dimensionen är inte bedömd ('{text.strip()}'). Skriv vilka konsekvenser "
                "ärendet har, eller stadens fras: 'Ärendet har inga särskilda konsekvenser ur en "
                f"{key} dimension.'",
            )
            continue
        named = {m.group(1).lower() for m in _OTHER_DIMENSION.finditer(text)}
        if named and key not in named:
            other = sorted(named)[0]
            yield where.finding(
                VARNING, "dimension-fel", field, field.loc,
                f"texten talar om den {other}a dimensionen men står under {key}. Kontrollera att "
                "texten hamnat under rätt rubrik.",
            )
        if len(words) < 4 and not STOCK_DIMENSION.search(text):
            yield where.finding(
                VARNING, "dimension-kort", field, field.loc,
                f"bedömningen är mycket kort ({len(words)} ord). Beskriv konsekvenserna ur "
                f"{key} dimension, eller skriv stadens fras om ärendet inte påverkar den.",
            )


# --- 2. bilaga references ------------------------------------------------------------------

BILAGA_REFERENCE = re.compile(
    r"\bbilag(?:a|an|or|orna)\s+(\d{1,3}\b(?:\s*(?:[-–—]|,|\boch\b|\bsamt\b|\btill\b)\s*\d{1,3}\b)*)",
    re.IGNORECASE,
)
"""'bilaga 3', 'bilagorna 1 och 2', 'bilagorna 1, 2 och 4', 'bilaga 2–3', 'bilaga 2 till 4'."""


def bilaga_numbers(reference: str) -> list[int]:
    """Return the numbers a reference's number part names: '1, 2 och 4' -> [1, 2, 4]; '2–4' -> [2, 3, 4]."""
    tokens = re.findall(r"\d+|[-–—]|till", reference)
    numbers: list[int] = []
    i = 0
    while i < len(tokens):
        if tokens[i].isdigit():
            if i + 2 < len(tokens) and not tokens[i + 1].isdigit() and tokens[i + 2].isdigit():
                start, end = int(tokens[i]), int(tokens[i + 2])
                numbers += list(range(start, end + 1)) if start <= end else [start, end]
                i += 3
                continue
            numbers.append(int(tokens[i]))
        i += 1
    return numbers


def check_bilaga_references(loaded: LoadedArende) -> Iterator[Finding]:
    """Find references to bilagor that do not exist (stopp) and bilagor nobody refers to.

    A reference to a missing bilaga is stopp in every text field, not only in the förslag
    till beslut: a board member told to "se bilaga 5" who finds four has a paper that is
    wrong wherever the sentence stands. Bilaga titles are not searched (a title may name
    a bilaga of another document).
    """
    where = Locator(loaded)
    count = len(loaded.arende.bilagor)
    referred: set[int] = set()
    for field in text_fields(loaded):
        if not field.prose:
            continue
        for match in BILAGA_REFERENCE.finditer(field.text):
            for number in bilaga_numbers(match.group(1)):
                referred.add(number)
                if not 1 <= number <= count:
                    has = f"har {count} bilagor" if count != 1 else "har 1 bilaga"
                    yield where.finding(
                        STOPP, "bilaga-saknas", field, field.loc,
                        f"texten hänvisar till bilaga {number} ('{match.group(0)}'), men ärendet "
                        f"{has if count else 'har inga bilagor'}. Lägg till bilagan under "
                        "'bilagor' eller rätta numret.",
                        match.start(),
                    )
    for index, bilaga in enumerate(loaded.arende.bilagor):
        number = index + 1
        if number not in referred:
            yield where.finding(
                VARNING, "bilaga-ohanvisad", f"bilagor[{number}]", ("bilagor", index),
                f"ingen text hänvisar till bilaga {number} ('{bilaga.titel}'). Nämn den där den "
                f"behövs (t.ex. 'se bilaga {number}'), eller ta bort den om den inte behövs.",
            )


# --- 3. placeholders -----------------------------------------------------------------------

PLACEHOLDER_MARKERS = ("[Skriv ", "XXX", "TODO", "Lorem ipsum", "ÅÅÅÅ-MM-DD")
"""Text that marks a place still to be written. Every one of these is a stopp-finding; the
new-ärende scaffolder writes its placeholders with ``placeholder()`` so they are found."""

_PLACEHOLDER = re.compile(
    r"\bX{3,}\b|\bTODO\b|\bFIXME\b|\blorem\s+ipsum\b|ÅÅÅÅ-MM-DD|ÅÅMMDD|YYYY-MM-DD|\?{3,}"
    r"|(?<![\\\]])\[(?!\s*\])(?!\^)(?!\d{1,3}\])(?!sic\])(?P<label>[^\[\]\n]{1,80})\](?![(:\[])",
    re.IGNORECASE,
)
"""XXX, TODO, FIXME, Lorem ipsum, date masks, ???, and any [bracketed text], digits included
("[031-000 00 00]"), that is not a Markdown link ([text](url)), a reference ([text][ref],
[ref]: url, or [ref] with its definition in the text), a footnote ([^1], [^tob]), a
numbered source ([1], [12]) or [sic]."""

_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[([^\]\n]+)\]:", re.MULTILINE)
"""A Markdown reference definition, ``[label]: url``: its label used as ``[label]`` is a link."""


def placeholder(what: str) -> str:
    """Return the placeholder the scaffolder writes for ``what``: '[Skriv sammanfattningen]'."""
    return f"[Skriv {what}]"


def _placeholders(text: str) -> list[re.Match]:
    defined = {label.strip().casefold() for label in _REFERENCE_DEFINITION.findall(text)}
    return [m for m in _PLACEHOLDER.finditer(text)
            if not (m.group("label") and m.group("label").strip().casefold() in defined)]


def scaffold_placeholders() -> frozenset[str]:
    """Return every text ``beslut new`` writes for the user to replace (``arendefields.placeholders``)."""
    return frozenset(" ".join(text.split()) for text in placeholders().values())


def check_placeholders(loaded: LoadedArende) -> Iterator[Finding]:
    """Find placeholders left in any text: XXX, TODO, [namn], [031-000 00 00], Lorem ipsum, ÅÅÅÅ-MM-DD.

    A field still exactly as ``beslut new`` wrote it is one stopp ("fill in the field"),
    whatever its text looks like; the handläggare's namn, telefon and e-post included.
    """
    where = Locator(loaded)
    scaffolded = scaffold_placeholders()
    for field in text_fields(loaded):
        if " ".join(field.text.split()) in scaffolded:
            yield where.finding(
                STOPP, "platshallare", field, field.loc,
                f"platshållaren '{field.text.strip()}' står kvar som 'beslut new' skrev den. Skriv den riktiga texten.",
            )
            continue
        for match in _placeholders(field.text):
            yield where.finding(
                STOPP, "platshallare", field, field.loc,
                f"platshållaren '{match.group(0)}' står kvar. Skriv den riktiga texten.",
                match.start(),
            )


# --- 4. personnummer -----------------------------------------------------------------------

def _allowed(field: str, allowed: Iterable[str]) -> bool:
    """Return True if ``field`` is listed in tillåt_personnummer (itself or a parent)."""
    return any(field == a or field.startswith(a + ".") or field.startswith(a + "[") for a in allowed)


def check_personnummer(loaded: LoadedArende) -> Iterator[Finding]:
    """Find personnummer and samordningsnummer in fields not listed in tillåt_personnummer.

    A bilaga's file name (``bilagor[N].fil``) is searched too: it is written into the
    tillgänglighetsrapport and the manifest beside handlingar.pdf.
    """
    where = Locator(loaded)
    allowed = loaded.arende.tillat_personnummer
    for field in text_fields(loaded):
        if _allowed(field.name, allowed):
            continue
        for match, kind in find_personnummer(field.text):
            masked = match.group(0)[:-4] + "****"
            yield where.finding(
                STOPP, "personnummer", field, field.loc,
                f"ett {kind} ({masked}) står i texten. Handlingen är allmän och kan publiceras; "
                "personnummer får inte publiceras på webben. Ta bort numret, eller ange fältet "
                "under 'tillåt_personnummer' med skälet.",
                match.start(),
            )
    for i, bilaga in enumerate(loaded.arende.bilagor):
        name = f"bilagor[{i + 1}].fil"
        if _allowed(name, allowed):
            continue
        for match, kind in find_personnummer(name_as_text(bilaga.fil)):
            masked = match.group(0)[:-4] + "****"
            yield where.finding(
                STOPP, "personnummer", name, ("bilagor", i, "fil"),
                f"ett {kind} ({masked}) står i bilagans filnamn. Filnamnet skrivs i rapporterna bredvid "
                "handlingar.pdf, som kan publiceras: byt namn på filen (och under 'fil'), eller ange "
                f"'{name}' under 'tillåt_personnummer' med skälet.",
            )


def allowed_personnummer(loaded: LoadedArende) -> frozenset[str]:
    """Return the numbers (``personnummer.personnummer_key``) in the fields tillåt_personnummer lists.

    The paper prints them, so what is written beside it (manifest.json, the
    tillgänglighetsrapport) may too: ``personnummer.mask_personnummer`` leaves them alone.
    """
    allowed = loaded.arende.tillat_personnummer
    if not allowed:
        return frozenset()
    texts = [field.text for field in text_fields(loaded) if _allowed(field.name, allowed)]
    texts += [name_as_text(bilaga.fil) for i, bilaga in enumerate(loaded.arende.bilagor)
              if _allowed(f"bilagor[{i + 1}].fil", allowed)]
    return frozenset(personnummer_key(match) for text in texts for match, _ in find_personnummer(text))


# --- 5. readability ------------------------------------------------------------------------


def readability(loaded: LoadedArende) -> dict[str, tuple[int, str]]:
    """Return LIX and its word on the scale for each running-text field with enough words."""
    result = {}
    for name, text in _prose_by_field(loaded):
        value, words = lix(text)
        if words >= LIX_MIN_WORDS:
            result[name] = (value, lix_label(value))
    return result


def _prose_by_field(loaded: LoadedArende) -> list[tuple[str, str]]:
    """Return (field, text) for the running text, the förslag till beslut as one text."""
    prose = [f for f in text_fields(loaded) if f.prose and f.name != "rubrik"]
    forslag = "\n".join(f.text for f in prose if f.name.startswith("förslag_till_beslut"))
    rest = [(f.name, f.text) for f in prose if not f.name.startswith("förslag_till_beslut")]
    return [("förslag_till_beslut", forslag), *rest]


def check_readability(loaded: LoadedArende) -> Iterator[Finding]:
    """Find a hard sammanfattning or förslag till beslut (LIX), and myndighetsord anywhere."""
    where = Locator(loaded)
    for name, (value, label) in readability(loaded).items():
        if name in LIX_FIELDS and value > LIX_THRESHOLD:
            yield where.finding(
                VARNING, "lix", name, (name,),
                f"texten är {label} att läsa (LIX {value}; målet är högst {LIX_THRESHOLD}). "
                "Skriv kortare meningar och byt långa ord mot kortare.",
            )
    for field in text_fields(loaded):
        if not field.prose:
            continue
        for word in find_myndighetsord(field.text):
            yield where.finding(
                VARNING, "myndighetsord", field, field.loc,
                f"'{word.text}' är ett myndighetsord; skriv hellre {_quoted(word.alternative)}.",
                word.offset,
            )


def _quoted(alternatives: str) -> str:
    return " eller ".join(f"'{a.strip()}'" for a in alternatives.split(","))


CHECKS: tuple[Check, ...] = (
    check_dimensioner,
    check_bilaga_references,
    check_placeholders,
    check_personnummer,
    check_readability,
)
"""The checks ``review_arende`` always runs, in order."""


def review_json(reviewed: Iterable[tuple[LoadedArende, list[Finding]]]) -> dict:
    """Return the findings of one or more ärenden (organisations) as JSON data for tools."""
    arenden = []
    for loaded, findings in reviewed:
        arenden.append({
            "organisation": loaded.organisation.id,
            "källa": str(loaded.source),
            "stopp": sum(f.severity == STOPP for f in findings),
            "varningar": sum(f.severity == VARNING for f in findings),
            "lix": {name: {"lix": value, "nivå": label} for name, (value, label) in readability(loaded).items()},
            "fynd": [f.as_json() for f in findings],
        })
    return {
        "stopp": sum(a["stopp"] for a in arenden),
        "varningar": sum(a["varningar"] for a in arenden),
        "ärenden": arenden,
    }
