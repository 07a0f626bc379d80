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
from calendar import monthrange
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .content import LoadedArende
from .errors import ReviewError, format_location, with_location
from .placeholders import PLACEHOLDERS
from .readability import find_myndighetsord, lix, lix_label
from .yamlfile import Loc, YamlDocument

STOPP = "stopp"
VARNING = "varning"

LIX_THRESHOLD = 50
"""A sammanfattning or förslag till beslut above this LIX ("svår" and up) is a varning."""
LIX_FIELDS = ("sammanfattning", "förslag_till_beslut")
LIX_MIN_WORDS = 10
"""LIX says little about a text shorter than this; such texts are not rated."""

DIMENSIONER = ("ekonomisk", "ekologisk", "social")


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


# --- where things are ----------------------------------------------------------------------


def text_fields(loaded: LoadedArende) -> list[TextField]:
    """Return every text of the ärende with its YAML path, in the order of the paper."""
    a = loaded.arende
    fields = [TextField("rubrik", ("rubrik",), a.rubrik, True)]
    if a.diarienummer:
        fields.append(TextField("diarienummer", ("diarienummer",), a.diarienummer, False))
    for key, value in (("namn", a.handlaggare.namn), ("telefon", a.handlaggare.telefon),
                       ("e-post", a.handlaggare.epost)):
        fields.append(TextField(f"handläggare.{key}", ("handläggare", key), value, False))
    for i, item in enumerate(a.forslag_till_beslut):
        fields.append(TextField(f"förslag_till_beslut[{i + 1}]", ("förslag_till_beslut", i), item, True))
    fields.append(TextField("sammanfattning", ("sammanfattning",), a.sammanfattning, True))
    for key in DIMENSIONER:
        fields.append(TextField(f"dimensioner.{key}", ("dimensioner", key), getattr(a.dimensioner, key), True))
    fields.append(TextField("samverkan", ("samverkan",), a.samverkan, True))
    for i, bilaga in enumerate(a.bilagor):
        fields.append(TextField(f"bilagor[{i + 1}].titel", ("bilagor", i, "titel"), bilaga.titel, False))
    for key, attr in (("ärendet", "arendet"), ("beskrivning", "beskrivning"), ("bedömning", "bedomning")):
        fields.append(TextField(key, (key,), getattr(a, attr), True))
    for i, u in enumerate(a.underskrifter):
        fields.append(TextField(f"underskrifter[{i + 1}].namn", ("underskrifter", i, "namn"), u.namn, False))
        fields.append(TextField(f"underskrifter[{i + 1}].titel", ("underskrifter", i, "titel"), u.titel, False))
    return fields


class _Locator:
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
    where = _Locator(loaded)
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
    where = _Locator(loaded)
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
    """Return every text ``beslut new`` writes for the user to replace (``placeholders.PLACEHOLDERS``)."""
    return frozenset(" ".join(text.split()) for text in PLACEHOLDERS.values())


def check_placeholders(loaded: LoadedArende) -> Iterator[Finding]:
    """Find placeholders left in any text: XXX, TODO, [namn], [031-000 00 00], Lorem ipsum, ÅÅÅÅ-MM-DD.

    A field still exactly as ``beslut new`` wrote it is one stopp ("fill in the field"),
    whatever its text looks like; the handläggare's namn, telefon and e-post included.
    """
    where = _Locator(loaded)
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

PERSONNUMMER = re.compile(
    r"(?<![\w/.,+-])(?P<century>\d{2})?(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})"
    r"(?P<sep>[-+]?)(?P<last>\d{4})(?![\w/]|[-+.,]\d)"
)
"""ÅÅMMDD-NNNN, ÅÅMMDD+NNNN (100 years or older), ÅÅMMDDNNNN, ÅÅÅÅMMDD-NNNN, ÅÅÅÅMMDDNNNN."""

_PHONE_CONTEXT = re.compile(r"\b(?:tel|telefon|tfn|mobil|mobilnummer|fax|växel|sms)\W{0,3}\S*\W{0,3}$", re.I)


def luhn_valid(digits: str) -> bool:
    """Return True if ``digits`` (ÅÅMMDDNNNN) end with a correct Luhn check digit."""
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def personnummer_kind(match: re.Match) -> str | None:
    """Return "personnummer" or "samordningsnummer" if ``match`` is one, else None.

    The date must exist (a samordningsnummer has 60 added to the day) and the last digit
    must pass the Luhn check. Ten digits without a separator that begin with 0 are read as
    a telephone number (Swedish numbers begin with 0), not as someone born 2000–2009.
    """
    century, yy, mm, dd, sep, last = match.group("century", "yy", "mm", "dd", "sep", "last")
    if century is None and not sep and yy.startswith("0"):
        return None
    if century is not None and century not in ("18", "19", "20"):
        return None
    month, day = int(mm), int(dd)
    kind = "personnummer"
    if day > 60:
        day, kind = day - 60, "samordningsnummer"
    year = int(century + yy) if century else 2000 + int(yy)  # 20ÅÅ is a leap year iff ÅÅ % 4 == 0
    if not (1 <= month <= 12 and 1 <= day <= monthrange(year, month)[1]):
        return None
    if not luhn_valid(yy + mm + dd + last):
        return None
    return kind


def find_personnummer(text: str) -> list[tuple[re.Match, str]]:
    """Return every personnummer and samordningsnummer in ``text`` with its kind."""
    found = []
    for match in PERSONNUMMER.finditer(text):
        if _PHONE_CONTEXT.search(text[max(0, match.start() - 25):match.start()]):
            continue
        kind = personnummer_kind(match)
        if kind:
            found.append((match, kind))
    return found


def _allowed(field: str, allowed: Iterable[str]) -> bool:
    """Return True if ``field`` is listed in tillåt_personnummer (itself or a parent)."""
    return any(field == a or field.startswith(a + ".") or field.startswith(a + "[") for a in allowed)


def check_personnummer(loaded: LoadedArende) -> Iterator[Finding]:
    """Find personnummer and samordningsnummer in fields not listed in tillåt_personnummer.

    A bilaga's file name (``bilagor[N].fil``) is searched too: it is written into the
    tillgänglighetsrapport and the manifest beside handlingar.pdf.
    """
    where = _Locator(loaded)
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
        for match, kind in find_personnummer(_name_as_text(bilaga.fil)):
            masked = match.group(0)[:-4] + "****"
            yield where.finding(
                STOPP, "personnummer", name, ("bilagor", i, "fil"),
                f"ett {kind} ({masked}) står i bilagans filnamn. Filnamnet skrivs i rapporterna bredvid "
                "handlingar.pdf, som kan publiceras: byt namn på filen (och under 'fil'), eller ange "
                f"'{name}' under 'tillåt_personnummer' med skälet.",
            )


def _name_as_text(file_name: str) -> str:
    """Return a file name with its separators (/, \\, _) as spaces, so numbers in it stand alone."""
    return re.sub(r"[/\\_]", " ", file_name)


def mask_personnummer(text: str) -> str:
    """Return ``text`` with the last four digits of every personnummer and samordningsnummer masked.

    For what is written beside the documents (tillgänglighetsrapport, manifest.json): a
    number is found as the review finds it, in running text and in file names alike.
    """
    found = find_personnummer(_name_as_text(text))  # same length: offsets match ``text``
    for match, _ in reversed(found):
        text = text[:match.end() - 4] + "****" + text[match.end():]
    return text


def mask_personnummer_in(data: Any) -> Any:
    """Return JSON data (dicts, lists, strings) with ``mask_personnummer`` applied to every string."""
    if isinstance(data, str):
        return mask_personnummer(data)
    if isinstance(data, dict):
        return {key: mask_personnummer_in(value) for key, value in data.items()}
    if isinstance(data, list):
        return [mask_personnummer_in(value) for value in data]
    return data


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
    where = _Locator(loaded)
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
