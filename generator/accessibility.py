"""The tillgänglighetsrapport: why handlingar.pdf is (not) accessible, per part, in plain Swedish.

handlingar.pdf claims PDF/UA-1 only when the independent validator ``page-validation``
passes it (``conformance.claim_pdfua``). When it does not, a handläggare needs to know
which bilaga is the cause and what to do about it, not a list of ISO rule numbers. So
every part (the paper and each bilaga, as the PDF that went into the bundle) is checked
on its own with ``page-validation``'s ``ua1`` profile, and each failed rule is said in
words with advice for the program the bilaga came from ("Bilaga 1: 20 bilder saknar
alternativtext — lägg till alternativtext i PowerPoint och bygg igen").

Rules the bundle itself fixes (XMP metadata, PDF/UA identification, RoleMap, /Tabs,
DisplayDocTitle, the unnumbered heading /H) are not held against a part. What LibreOffice
cannot do is said as such: it writes no tags at all for spreadsheets (Calc), and leaves
shapes and lines of presentations (Impress) untagged.

``write_report`` writes ``tillganglighetsrapport.txt`` (for people) and ``.json`` (for
tools) beside handlingar.pdf and returns a one-line summary for the build's warnings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pikepdf

from .bilagor import bilaga_name
from .bundleparts import BundlePart
from .cache import BilagaCache
from .conformance import VALIDATOR_FAILED, iter_struct_elements, validate_pdf
from .files import write_bytes
from .personnummer import mask_personnummer, mask_personnummer_in

FIXED_BY_BUNDLE = (
    "PDFUA1-ID-", "PDFUA1-METADATA-", "PDFUA1-STRUCT-TREE-ROLE-MAP-CYCLE-", "PDFUA1-VIEWER-PREFERENCES-",
    "PDFUA1-PAGE-TABS-", "PDFUA1-HEADING-STRUCTURE-", "PDFUA1-HEADING-CHILD-COUNT-",
)
"""Rule ids (prefixes) that handlingar.pdf satisfies whatever the part does."""

UNTAGGED = ("PDFUA1-STRUCT-TREE-ROOT-", "PDFUA1-TAGGED-DOCUMENT-")
"""Rules that fail when a part has no tags at all."""

PROGRAMS = {
    ".docx": "Word", ".doc": "Word", ".docm": "Word", ".odt": "Word", ".rtf": "Word",
    ".pptx": "PowerPoint", ".ppt": "PowerPoint", ".pptm": "PowerPoint", ".odp": "PowerPoint",
    ".xlsx": "Excel", ".xls": "Excel", ".xlsm": "Excel", ".ods": "Excel",
}
"""The program a handläggare edits a bilaga of this kind in."""

SPREADSHEETS = frozenset({".xlsx", ".xls", ".xlsm", ".ods"})
PRESENTATIONS = frozenset({".pptx", ".ppt", ".pptm", ".odp"})

_ALT_HOW = {
    "Word": "högerklicka på bilden i Word, välj Redigera alternativtext",
    "PowerPoint": "högerklicka på bilden i PowerPoint, välj Visa alternativtext",
    "Excel": "högerklicka på bilden i Excel, välj Redigera alternativtext",
}

# Rule id pattern -> what it means for a reader, in Swedish (the first match wins).
_MEANING = [
    (VALIDATOR_FAILED, "PDF-filen gick inte att kontrollera: tillgänglighetskontrollen kunde inte läsa den"),
    (r"FIGURE-ALTERNATIVE-TEXT", "bilder saknar alternativtext (en beskrivning som skärmläsare läser upp)"),
    (r"FORMULA-ALTERNATIVE-TEXT", "formler saknar alternativtext"),
    (r"CONTENT-TAGGING|TAGGED-CONTENT-INSIDE-ARTIFACT|ARTIFACT-NESTED",
     "innehåll (text, former eller linjer) är inte taggat, så skärmläsare hoppar över det"),
    (r"FONT-EMBEDDING|CMAP-EMBEDDING", "typsnitt är inte inbäddade i filen"),
    (r"FONT|CMAP|TRUETYPE|NOTDEF|CIDTOGIDMAP|CID-|TYPE0",
     "text använder typsnitt som inte säger vilka tecken de visar, så den kan inte läsas upp eller kopieras rätt"),
    (r"TABLE|THEAD|TBODY|TFOOT|-TR-|-TH-|-TD-", "tabeller är felaktigt taggade (rubrikceller eller rader)"),
    (r"-L-|-LI-|LBODY", "listor är felaktigt taggade"),
    (r"HEADING", "rubrikerna hoppar över nivåer eller är felaktigt taggade"),
    (r"LINK", "länkar saknar beskrivning eller taggar"),
    (r"ANNOTATION|WIDGET|FORM-FIELD|FORM-REFERENCE", "kommentarer eller formulärfält saknar beskrivning eller taggar"),
    (r"LANGUAGE", "språket är inte angivet för en del av texten"),
    (r"NOTE", "fotnoter saknar id"),
    (r"ENCRYPTION", "filen är skyddad så att hjälpmedel inte får läsa den"),
    (r"ROLE-MAP", "egna taggtyper är inte kopplade till standardtyper, så hjälpmedel vet inte vad de är"),
    (r"PARENT|KIDS|CAPTION|TOC|STRUCT-ELEMENT|FORM-STRUCTURE|SUSPECTS",
     "taggarna är felaktigt ordnade (element ligger där standarden inte tillåter dem)"),
    (r"OPTIONAL-CONTENT", "lager (valfritt innehåll) saknar namn"),
    (r"FILE-SPEC", "bifogade filer saknar filnamn eller beskrivning"),
    (r"XFA", "filen är ett dynamiskt XFA-formulär, som hjälpmedel inte kan läsa"),
    (r"MEDIA-CLIP", "ljud eller video saknar beskrivning"),
    (r"PRINTER-MARK|TRAPNET", "tryckmärken är inte markerade som utsmyckning"),
    (r"HEADER", "filhuvudet anger ingen giltig PDF-version"),
    (r"METADATA", "titel, språk eller metadata saknas"),
]


@dataclass
class Problem:
    """One thing that keeps a part from being accessible, in words and as the validator's rule."""

    regel: str
    """The validator's rule id, e.g. PDFUA1-FIGURE-ALTERNATIVE-TEXT-001."""
    text: str
    """What fails, in Swedish, e.g. "20 bilder saknar alternativtext"."""
    atgard: str
    """What the handläggare can do about it."""
    antal: int | None = None
    """How many (images without alternative text), when counted."""


@dataclass
class PartReport:
    """The accessibility of one part of handlingar.pdf."""

    del_: str
    """How the part is named, e.g. "Bilaga 1 – Presentationsmaterial"."""
    kort: str
    """Its short name in a line of the report: "Bilaga 1" or "Beslutsunderlag"."""
    fil: str
    """The file the user knows (the original bilaga), by name."""
    problem: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problem

    def as_dict(self) -> dict:
        return {"del": self.del_, "fil": self.fil, "uppfyller_pdfua": self.ok,
                "problem": [asdict(p) for p in self.problem]}


def check_part(part: BundlePart, bundle_failures: list[tuple[str, str]] | None = None,
               cache: BilagaCache | None = None) -> PartReport:
    """Check one part's PDF with ``page-validation`` (PDF/UA-1) and say what fails, in Swedish.

    With ``bundle_failures`` (the rules handlingar.pdf fails), a part is held only to the
    rules the bundle fails too: a bilaga whose headings start at level 2 is fine after the
    paper's level-1 heading. An untagged bundle fails every structure rule at once, so then
    each part is held to all of them. With ``cache``, a bilaga's findings are kept by
    content (``BilagaCache.failures_of``), so an unchanged bilaga is validated once.
    """
    short = bilaga_name(part.nummer) if part.nummer is not None else part.bookmark
    report = PartReport(del_=part.name, kort=short, fil=part.user_file.name)
    suffix = part.user_file.suffix.lower()
    found = cache.failures_of(part.pdf, "ua1") if cache and part.nummer is not None else validate_pdf(part.pdf, "ua1")
    failures = [(rule, message) for rule, message in found
                if not rule.startswith(FIXED_BY_BUNDLE)]
    if bundle_failures is not None and not any(rule.startswith(UNTAGGED) for rule, _ in bundle_failures):
        failing = {rule for rule, _ in bundle_failures}
        failures = [(rule, message) for rule, message in failures if rule in failing]
    if any(rule.startswith(UNTAGGED) for rule, _ in failures):
        report.problem.append(Problem(regel=next(r for r, _ in failures if r.startswith(UNTAGGED)),
                                      text="PDF-filen saknar taggar, så skärmläsare kan inte läsa den i rätt ordning "
                                           "och med rubriker", atgard=_untagged_advice(suffix)))
        return report
    seen: set[str] = set()
    for rule, message in failures:
        meaning = _meaning(rule)
        if meaning in seen:
            continue
        seen.add(meaning)
        count = count_figures_without_alt(part.pdf) if "FIGURE-ALTERNATIVE-TEXT" in rule else None
        text = meaning
        if count:
            text = f"{count} {'bild saknar' if count == 1 else 'bilder saknar'} alternativtext"
        elif "CONTENT-TAGGING" in rule and (page := re.search(r"page (\d+)", message)):
            text = f"{meaning} (första gången på sida {page[1]})"
        report.problem.append(Problem(regel=rule, text=text, atgard=_advice(rule, suffix), antal=count))
    return report


def check_parts(parts: Iterable[BundlePart], bundle_failures: list[tuple[str, str]] | None = None,
                cache: BilagaCache | None = None) -> list[PartReport]:
    """Return the accessibility of every part, in the order of handlingar.pdf (see ``check_part``)."""
    return [check_part(part, bundle_failures, cache) for part in parts]


def count_figures_without_alt(pdf_path: Path) -> int:
    """Return how many Figure elements of a tagged PDF have neither /Alt nor /ActualText (0 if unreadable)."""
    try:
        return _count_figures_without_alt(pdf_path)
    except Exception:  # noqa: BLE001 -- a damaged bilaga: the count is a detail of the report
        return 0


def _count_figures_without_alt(pdf_path: Path) -> int:
    with pikepdf.open(pdf_path) as pdf:
        root = pdf.Root.get("/StructTreeRoot")
        if root is None:
            return 0
        role_map = root.get("/RoleMap") or pikepdf.Dictionary()
        count = 0
        for element in iter_struct_elements(root):
            kind = role_map.get(element.S, element.S) if isinstance(element.S, pikepdf.Name) else element.S
            if kind == "/Figure" and not str(element.get("/Alt", "")).strip() \
                    and not str(element.get("/ActualText", "")).strip():
                count += 1
        return count


def _meaning(rule: str) -> str:
    for pattern, meaning in _MEANING:
        if re.search(pattern, rule):
            return meaning
    return ("uppfyller inte ett av kraven för tillgänglig PDF (regeln står i tillganglighetsrapport.json "
            "för den som vill veta mer)")


def _advice(rule: str, suffix: str) -> str:
    """Return what to do about ``rule`` in a bilaga of this kind."""
    program = PROGRAMS.get(suffix)
    if "CONTENT-TAGGING" in rule and suffix in PRESENTATIONS:
        return ("LibreOffice taggar inte alla former, linjer och bakgrunder i presentationer, så bilagan "
                "kan inte bli helt tillgänglig här. Spara presentationen som PDF från PowerPoint "
                "(Arkiv > Exportera > PDF, med Dokumentstrukturtaggar för hjälpmedel) och lägg in PDF-filen "
                "som bilaga i stället")
    if rule == VALIDATOR_FAILED:
        return ("öppna filen i en PDF-läsare och kontrollera att den visas rätt; be avsändaren om en ny "
                "PDF-fil, eller exportera den på nytt från originalet")
    if "FIGURE-ALTERNATIVE-TEXT" in rule and program:
        return f"lägg till alternativtext i {program} ({_ALT_HOW[program]}) och bygg igen"
    if program:
        return (f"öppna filen i {program}, kör Kontrollera tillgänglighet (Granska > Kontrollera "
                "tillgänglighet), rätta det som visas och bygg igen")
    return ("be avsändaren om en tillgänglig PDF (PDF/UA), eller exportera den på nytt från originalet "
            "med taggar för hjälpmedel påslagna")


def _untagged_advice(suffix: str) -> str:
    if suffix in SPREADSHEETS:
        return ("LibreOffice kan inte tagga kalkylblad när de görs om till PDF. Spara bilagan som PDF från "
                "Excel (Arkiv > Exportera > PDF, med Dokumentstrukturtaggar för hjälpmedel) och lägg in "
                "PDF-filen som bilaga, eller för in tabellen i ett Word-dokument")
    if suffix in PROGRAMS:
        return f"spara filen i {PROGRAMS[suffix]} på nytt och bygg igen; hjälper det inte, exportera den som taggad PDF"
    return ("be avsändaren om en tillgänglig (taggad) PDF, eller lägg in bilagan i Word-format, som görs om "
            "till taggad PDF")


def summarize(reports: list[PartReport], pdfua: bool, report_name: str) -> str:
    """Return the one-line summary: "" when handlingar.pdf passes, else which parts fail.

    ``report_name`` is the text report's file name, which the plan decides.
    """
    if pdfua:
        return ""
    failing = [r.kort for r in reports if not r.ok]
    which = f"problem i {_join([f.lower() if f.startswith('Bilaga') else f for f in failing])}" if failing \
        else "problem i hur delarna sattes ihop"
    return (f"handlingar.pdf uppfyller inte kraven för tillgänglig PDF (PDF/UA-1): {which}. "
            f"Se {report_name} bredvid handlingar.pdf för vad som behöver rättas.")


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} och {names[-1]}"


def render_text(reports: list[PartReport], pdfua: bool, title: str,
                bundle_failures: Sequence[tuple[str, str]] = ()) -> str:
    """Return the report for people: a verdict, then per part what fails and what to do."""
    lines = ["Tillgänglighetsrapport för handlingar.pdf", f"Ärende: {title}", ""]
    if pdfua:
        lines.append("handlingar.pdf uppfyller PDF/UA-1 (tillgänglig PDF) enligt kontrollen och är märkt "
                     "som tillgänglig.")
    else:
        lines.append("handlingar.pdf uppfyller inte PDF/UA-1 (tillgänglig PDF) och är därför inte märkt "
                     "som tillgänglig. Ska handlingarna publiceras på webben (lagen om tillgänglighet till "
                     "digital offentlig service), rätta det som står nedan och bygg igen.")
    failing = [r for r in reports if not r.ok]
    if failing:
        lines += ["", "Det här behöver rättas:"]
    for report in failing:
        lines += ["", f"{report.del_} (filen {report.fil}):"]
        lines += [f"  {report.kort}: {p.text} — {p.atgard}." for p in report.problem]
    if not pdfua and not failing:
        lines += ["", "Varje del uppfyller kraven för sig, men handlingar.pdf gör det inte. Det är troligen "
                      "ett fel i beslut; rapportera det till förvaltarna av beslut med de här reglerna "
                      "(tekniska detaljer, på engelska):"]
        lines += [f"  {rule}: {message}" for rule, message in bundle_failures]
    passing = [r.del_ for r in reports if r.ok]
    if passing:
        lines += ["", "Uppfyller kraven: " + "; ".join(passing) + "."]
    lines += ["", "Kontrollerat med page-validation, profilen PDF/UA-1. Rapporten skrivs om vid varje bygge."]
    return "\n".join(lines) + "\n"


def render_json(reports: list[PartReport], pdfua: bool, title: str, report_name: str,
                bundle_failures: Sequence[tuple[str, str]] = ()) -> dict:
    """Return the report for tools: the verdict, each part with its problems, the bundle's failed rules."""
    return {
        "dokument": "handlingar.pdf",
        "arende": title,
        "uppfyller_pdfua": pdfua,
        "sammanfattning": summarize(reports, pdfua, report_name) or "handlingar.pdf uppfyller PDF/UA-1.",
        "delar": [r.as_dict() for r in reports],
        "regler_handlingar": [{"regel": rule, "meddelande": message} for rule, message in bundle_failures],
    }


def write_report(reports: list[PartReport], *, pdfua: bool, title: str, text_path: Path, json_path: Path,
                 bundle_failures: Sequence[tuple[str, str]] = (), allowed: Collection[str] = ()) -> str:
    """Write the report as text and JSON (atomically); return the one-line summary ("" if it passes).

    Every personnummer is masked but those in ``allowed`` (the ärende's ``tillåt_personnummer``).
    """
    text = mask_personnummer(render_text(reports, pdfua, title, bundle_failures), allowed)
    write_bytes(text_path, text.encode("utf-8"))
    data = mask_personnummer_in(render_json(reports, pdfua, title, text_path.name, bundle_failures), allowed)
    write_bytes(json_path, (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return summarize(reports, pdfua, text_path.name)
