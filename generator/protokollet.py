"""The protokoll of a sammanträde: its content model, the § numbering and the checks.

``content/sammantraden/<namn>/protokoll.yaml`` beside sammantrade.yaml records what
the meeting decided: who was present (tjänstgörande ledamöter and ersättare, other
ersättare, övriga), the justerare and the justering, the anslag, and per point of the
föredragningslista its beslut, yrkanden, propositionsordning, omröstning, reservationer,
protokollsanteckningar, jäv and who it is expedierat to.

``load_protokoll`` reads the meeting (``sammantrade.load_sammantrade``) and the protokoll and
checks what kommunallagen asks of the record before anything is written (exit 3, every
problem with file and line): every ärende has a beslut; in a vote each serving member votes
once and the counted result is the one recorded (a tie needs the chair's casting vote); a
member with jäv takes no part in that §; only members who took part in the decision
reserve themselves; the justerare serve; the anslag does not go up before the justering.

The § numbers run through the organisation's year (``paragraf_start``): the first § of the
first protokoll of a year is its ``första_paragraf``, else the registry's, else 1; every
later protokoll of the year under ``content/sammantraden/`` continues where the one before
ended. A stated ``första_paragraf`` that leaves a gap or repeats a § is refused, naming both
protokoll. Nothing here writes a file; ``minutes`` builds the documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .anslag import Anslag, anslag_for
from .content import load_organisationer
from .errors import ContentError
from .model import Datum, Epost, Model, Organisation, Organisationer, Text
from .sammantrade import (
    SAMMANTRADE_FILE,
    LoadedSammantrade,
    PlannedPunkt,
    Sammantrade,
    load_sammantrade,
    resolve_sammantrade_file,
)
from .validation import validate_model
from .wording import wording_for
from .yamlfile import Loc, YamlDocument, read_yaml

PROTOKOLL_FILE = "protokoll.yaml"
"""``content/sammantraden/<namn>/protokoll.yaml``, beside sammantrade.yaml."""
ENLIGT_FORSLAG = "enligt förslag"
"""``beslut: enligt förslag``: the beslut is the paper's förslag till beslut, as written."""
ROSTER = ("ja", "nej", "avstår")

EXPEDIERA_GRUPPER = {
    "alla bolag": "bolag",
    "bolag": "bolag",
    "alla nämnder": "nämnd",
    "nämnder": "nämnd",
    "alla": "alla",
    "alla bolag och nämnder": "alla",
}
"""The groups ``expedieras:`` may name instead of single organisations."""


# --- the model -----------------------------------------------------------------------------


class Narvarande(Model):
    """Who was present: the serving ledamöter and ersättare, other ersättare, övriga."""

    ledamoter: list[Text] = Field(min_length=1, alias="ledamöter")
    """The tjänstgörande ledamöter, "Namn (parti)" with an optional ", ordförande"."""
    tjanstgorande_ersattare: list[Text] = Field(default_factory=list, alias="tjänstgörande_ersättare")
    """Ersättare who served, "Namn (parti), ersätter Namn (parti)"."""
    ersattare: list[Text] = Field(default_factory=list, alias="ersättare")
    """Ersättare present who did not serve."""
    ovriga: list[Text] = Field(default_factory=list, alias="övriga")
    """Others present: tjänstepersoner, the sekreterare."""


class Justering(Model):
    """When and where the protokoll is justerat."""

    datum: Datum
    plats: Text


class AnslagInfo(Model):
    """The anslag on the anslagstavla: when it goes up and where the protokoll is kept."""

    uppsatt: Datum | None = None
    """Default: the day of the justering."""
    forvaringsplats: Text | None = Field(None, alias="förvaringsplats")
    """Default: the organisation's förvaltning (or the bolag)."""


class Yrkande(Model):
    """One yrkande (motion): who made it and what it is."""

    av: Text
    yrkande: Text


class Omrostning(Model):
    """An open vote: what ja and nej stand for, every serving member's vote, the result."""

    ja: Text
    """What a ja-vote is for, e.g. "bifall till förvaltningens förslag"."""
    nej: Text
    roster: dict[str, Literal["ja", "nej", "avstår"]] = Field(alias="röster")
    """Each serving member's vote, by name: ``Eva Exempel (S): ja``."""
    utfall: Literal["ja", "nej"]
    """The side that won, as the chair declared it."""
    utslagsrost: Literal["ja", "nej"] | None = Field(None, alias="utslagsröst")
    """At a tie: the chair's casting vote (kommunallagen 4 kap. 26 §)."""


class Anteckning(Model):
    """A reservation or a protokollsanteckning: who, and the text (optional for a reservation)."""

    av: Text
    text: Text | None = None


class Jav(Model):
    """A member who is jävig in a §, and the ersättare who serves in the member's place."""

    namn: Text
    ersatts_av: Text | None = Field(None, alias="ersätts_av")


class ProtokollPunkt(Model):
    """What the protokoll says about one point of the föredragningslista."""

    arende: Text | None = Field(None, alias="ärende")
    punkt: Text | None = None
    text: Text | None = None
    """What was reported or said, in the protokoll's words."""
    beslut: list[Text] | None = None
    """The beslut as numbered points; ``enligt förslag`` takes the paper's förslag till beslut."""
    enligt_forslag: bool = False
    yrkanden: list[Yrkande] = Field(default_factory=list)
    propositionsordning: Text | None = None
    omrostning: Omrostning | None = Field(None, alias="omröstning")
    reservationer: list[Anteckning] = Field(default_factory=list)
    protokollsanteckningar: list[Anteckning] = Field(default_factory=list)
    jav: list[Jav] = Field(default_factory=list, alias="jäv")
    franvarande: list[Jav] = Field(default_factory=list, alias="frånvarande")
    """Members who were not present at this § (came late, left early), and who served instead."""
    expedieras: list[Text] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _enligt_forslag(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("beslut"), str):
            data = dict(data)
            if data["beslut"].strip().lower() == ENLIGT_FORSLAG:
                data["beslut"] = None
                data["enligt_forslag"] = True
            else:
                data["beslut"] = [data["beslut"]]
        elif isinstance(data, dict) and "enligt_forslag" in data:
            raise ValueError("skriv 'beslut: enligt förslag' i stället för 'enligt_forslag'.")
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> ProtokollPunkt:
        if (self.arende is None) == (self.punkt is None):
            raise ValueError("en punkt ska ha antingen 'ärende: <mappens namn>' eller 'punkt: <namn>', som i "
                             "sammanträdet, inte båda och inte ingen.")
        if self.enligt_forslag and self.arende is None:
            raise ValueError("'beslut: enligt förslag' gäller bara ett ärende. Skriv beslutet som punkter.")
        return self


class Protokoll(Model):
    """The protokoll of one sammanträde, ``protokoll.yaml``."""

    narvarande: Narvarande = Field(alias="närvarande")
    justerare: list[Text] = Field(min_length=1)
    justering: Justering
    anslag: AnslagInfo = Field(default_factory=lambda: AnslagInfo.model_validate({}))
    forsta_paragraf: int | None = Field(None, ge=1, le=100000, alias="första_paragraf")
    """The first § of this protokoll; needed only when it does not continue the year's series."""
    punkter: list[ProtokollPunkt] = Field(min_length=1)
    avsandare_epost: Epost | None = Field(None, alias="avsändare_e-post")
    """The From address of the expediering (``beslut send``); default the organisation's e-post."""

    @field_validator("justerare", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


# --- names ---------------------------------------------------------------------------------


def person_key(text: str) -> str:
    """Return the name a line about a person starts with, for comparing: "eva exempel".

    "Eva Exempel (S), ordförande" and "Eva Exempel" are the same person.
    """
    name = re.split(r"[(,]", text, maxsplit=1)[0]
    return " ".join(name.split()).casefold()


def display_name(text: str) -> str:
    """Return "Namn (parti)" from a line such as "Eva Exempel (S), ordförande"."""
    return text.split(",", 1)[0].strip()


# --- loaded and checked --------------------------------------------------------------------


@dataclass(frozen=True)
class Mottagare:
    """One recipient of a § (``expedieras``): an organisation of the registry, or plain text."""

    namn: str
    organisation: Organisation | None = None


@dataclass(frozen=True)
class Rakning:
    """The counted result of a vote."""

    ja: tuple[str, ...]
    nej: tuple[str, ...]
    avstar: tuple[str, ...]
    utfall: str
    utslagsrost: str | None

    def summary(self) -> str:
        """Return "3 ja, 2 nej, 0 avstår"."""
        return f"{len(self.ja)} ja, {len(self.nej)} nej, {len(self.avstar)} avstår"


@dataclass(frozen=True)
class Paragraf:
    """One § of the protokoll: the point of the föredragningslista and what was decided."""

    nummer: int
    planned: PlannedPunkt
    punkt: ProtokollPunkt
    index: int
    """The point's index in protokoll.yaml's ``punkter``."""
    beslut: tuple[str, ...]
    expedieras: tuple[Mottagare, ...]
    tjanstgorande: tuple[str, ...]
    """Who served in this § (the jäviga out, their ersättare in), as written in närvarande."""
    rakning: Rakning | None = None

    @property
    def label(self) -> str:
        return f"§ {self.nummer}"

    @property
    def rubrik(self) -> str:
        return self.planned.rubrik

    @property
    def enligt_forslag(self) -> bool:
        """True when the beslut is the paper's förslag till beslut, unchanged."""
        loaded = self.planned.loaded
        return loaded is not None and self.beslut == tuple(loaded.arende.forslag_till_beslut)


@dataclass(frozen=True)
class LoadedProtokoll:
    """A protokoll checked against its sammanträde, with § numbers and anslag dates."""

    meeting: LoadedSammantrade
    protokoll: Protokoll
    source: Path
    doc: YamlDocument = field(compare=False, repr=False)
    paragrafer: tuple[Paragraf, ...] = ()
    anslag: Anslag | None = None
    forvaringsplats: str = ""

    @property
    def title(self) -> str:
        """Return "Protokoll, Förskolenämnden, sammanträde 2023-10-24"."""
        return f"Protokoll, {self.meeting.title}"

    @property
    def paragraf_range(self) -> str:
        """Return "§§ 112–120" (or "§ 112")."""
        first, last = self.paragrafer[0].nummer, self.paragrafer[-1].nummer
        return f"§ {first}" if first == last else f"§§ {first}–{last}"

    def tjanstgorande(self) -> list[str]:
        """Return everyone who served at the meeting (ledamöter, then ersättare), as written."""
        n = self.protokoll.narvarande
        return [*n.ledamoter, *n.tjanstgorande_ersattare]


def resolve_protokoll_file(path: Path) -> Path:
    """Return the protokoll.yaml of the sammanträde at ``path`` (its folder or one of its files)."""
    folder = path.parent if path.suffix.lower() in (".yaml", ".yml") else path
    return folder / PROTOKOLL_FILE


def has_protokoll(path: Path) -> bool:
    """Return True if the sammanträde at ``path`` has a protokoll.yaml."""
    return resolve_protokoll_file(path).is_file()


def load_protokoll(path: Path, organisationer_path: Path) -> LoadedProtokoll:
    """Read and check the sammanträde at ``path`` and its protokoll; write nothing.

    Raise ContentError (exit 3) listing every problem with file and line.
    """
    organisationer = load_organisationer(organisationer_path)
    content = organisationer_path.parent
    meeting = load_sammantrade(path, organisationer, content)
    file = resolve_protokoll_file(meeting.source)
    if not file.is_file():
        raise ContentError(f"sammanträdet har inget protokoll ännu. Skapa det med 'beslut new "
                           f"{meeting.source.parent} --protokoll' och fyll i det.", file=file)
    doc = read_yaml(file)
    protokoll = validate_model(Protokoll, doc, hint="Jämför med exemplet i content/sammantraden/.")
    checker = _Checker(meeting, protokoll, doc, organisationer)
    first = paragraf_start(meeting, protokoll, doc, organisationer)
    paragrafer = checker.paragrafer(first)
    anslag = checker.anslag()
    if checker.problems:
        problems = checker.problems
        raise ContentError(f"{len(problems)} fel i protokollet:\n" + "\n".join(p.format() for p in problems)
                           if len(problems) > 1 else problems[0].format(), parts=problems)
    assert anslag is not None
    forvaring = protokoll.anslag.forvaringsplats or meeting.organisation.avsandare
    return LoadedProtokoll(meeting=meeting, protokoll=protokoll, source=file, doc=doc,
                           paragrafer=tuple(paragrafer), anslag=anslag, forvaringsplats=forvaring)


class _Checker:
    """The checks of one protokoll against its meeting; problems are collected, not raised."""

    def __init__(self, meeting: LoadedSammantrade, protokoll: Protokoll, doc: YamlDocument,
                 organisationer: Organisationer):
        self.meeting = meeting
        self.protokoll = protokoll
        self.doc = doc
        self.organisationer = organisationer
        self.problems: list[ContentError] = []
        n = protokoll.narvarande
        self.serving = {person_key(p): p for p in (*n.ledamoter, *n.tjanstgorande_ersattare)}
        self.ersattare = {person_key(p): p for p in n.ersattare}
        self.present = {**self.serving, **self.ersattare}

    def problem(self, text: str, loc: Loc) -> None:
        from .yamlfile import field_name

        self.problems.append(ContentError(text, file=self.doc.path, line=self.doc.line_of(loc),
                                          field=field_name(loc)))

    # -- the whole protokoll

    def paragrafer(self, first: int) -> list[Paragraf]:
        self.check_narvarande()
        self.check_justerare()
        planned = self.meeting.punkter
        punkter = self.protokoll.punkter
        if len(punkter) != len(planned):
            self.problem(f"protokollet har {len(punkter)} punkter men sammanträdet "
                         f"({self.meeting.source}) har {len(planned)}. Varje punkt i föredragningslistan får "
                         "en paragraf, i samma ordning: lägg till eller ta bort punkter.", ("punkter",))
            return []
        result = []
        for index, (plan, punkt) in enumerate(zip(planned, punkter, strict=True)):
            if not self.same_point(index, plan, punkt):
                continue
            result.append(self.paragraf(first + index, index, plan, punkt))
        return result

    def check_narvarande(self) -> None:
        kallade = self.meeting.kallade
        ledamoter = {person_key(p) for p in kallade.ledamoter}
        ersattare = {person_key(p) for p in kallade.ersattare}
        n = self.protokoll.narvarande
        seen: dict[str, str] = {}
        for key, people, allowed, what in (
            ("ledamöter", n.ledamoter, ledamoter | ersattare, "kallade ledamöter"),
            ("tjänstgörande_ersättare", n.tjanstgorande_ersattare, ersattare, "kallade ersättare"),
            ("ersättare", n.ersattare, ersattare, "kallade ersättare"),
        ):
            for i, person in enumerate(people):
                name = person_key(person)
                if name not in allowed:
                    self.problem(f"'{display_name(person)}' finns inte bland sammanträdets {what} "
                                 f"({self.meeting.source}). Kontrollera stavningen.", ("närvarande", key, i))
                if name in seen:
                    self.problem(f"'{display_name(person)}' står redan under närvarande.{seen[name]}. "
                                 "Varje person står en gång.", ("närvarande", key, i))
                seen.setdefault(name, key)

    def check_justerare(self) -> None:
        for i, person in enumerate(self.protokoll.justerare):
            if person.startswith("["):
                self.problem(f"fyll i justeraren i stället för '{person}': en tjänstgörande ledamot.",
                             ("justerare", i))
            elif person_key(person) not in self.serving:
                self.problem(f"justeraren '{display_name(person)}' är inte tjänstgörande ledamot eller "
                             "ersättare på sammanträdet. Justerare väljs bland dem som tjänstgör.",
                             ("justerare", i))
        if person_key(self.meeting.sammantrade.ordforande) not in self.serving:
            self.problem(f"ordföranden ({self.meeting.sammantrade.ordforande}) finns inte bland de "
                         "tjänstgörande under 'närvarande'. Lägg till ordföranden eller ändra i sammanträdet.",
                         ("närvarande", "ledamöter"))

    def anslag(self) -> Anslag | None:
        justering = self.protokoll.justering
        if justering.datum < self.meeting.sammantrade.datum:
            self.problem(f"protokollet kan inte justeras ({justering.datum.isoformat()}) före sammanträdet "
                         f"({self.meeting.sammantrade.datum.isoformat()}).", ("justering", "datum"))
        try:
            return anslag_for(justering.datum, self.protokoll.anslag.uppsatt)
        except ValueError as e:
            self.problem(f"{e}. Anslaget sätts upp samma dag som protokollet justeras eller senare.",
                         ("anslag", "uppsatt"))
            return None

    def same_point(self, index: int, plan: PlannedPunkt, punkt: ProtokollPunkt) -> bool:
        mine = ("ärende", punkt.arende) if punkt.arende is not None else ("punkt", punkt.punkt)
        theirs = ("ärende", plan.punkt.arende) if plan.punkt.arende is not None else ("punkt", plan.punkt.punkt)
        if mine == theirs:
            return True
        self.problem(f"punkt {index + 1} är '{mine[0]}: {mine[1]}' i protokollet men '{theirs[0]}: {theirs[1]}' "
                     f"i sammanträdet ({self.meeting.source}, punkt {index + 1}). Punkterna ska komma i samma "
                     "ordning som i föredragningslistan.", ("punkter", index, mine[0]))
        return False

    # -- one §

    def paragraf(self, nummer: int, index: int, plan: PlannedPunkt, punkt: ProtokollPunkt) -> Paragraf:
        at = ("punkter", index)
        label = f"§ {nummer} ({plan.rubrik})"
        serving = dict(self.serving)
        javiga: dict[str, str] = {}
        for key_name, people, what in (("jäv", punkt.jav, "som anmält jäv"),
                                       ("frånvarande", punkt.franvarande, "som inte deltar i paragrafen")):
            for i, jav in enumerate(people):
                key = person_key(jav.namn)
                if key not in self.present:
                    self.problem(f"{label}: '{display_name(jav.namn)}' {what} finns inte under närvarande.",
                                 (*at, key_name, i, "namn"))
                    continue
                if key_name == "jäv":
                    javiga[key] = jav.namn
                serving.pop(key, None)
                if jav.ersatts_av is not None:
                    sub = person_key(jav.ersatts_av)
                    if sub not in self.ersattare or sub in serving:
                        self.problem(f"{label}: '{display_name(jav.ersatts_av)}' finns inte bland de närvarande "
                                     "ersättare som inte redan tjänstgör (närvarande.ersättare).",
                                     (*at, key_name, i, "ersätts_av"))
                    else:
                        serving[sub] = self.ersattare[sub]

        def takes_part(who: str, loc: Loc, what: str, *, ersattare_ok: bool = False) -> bool:
            key = person_key(who)
            if key in javiga:
                self.problem(f"{label}: '{display_name(who)}' har anmält jäv i paragrafen och deltar inte i "
                             f"handläggningen, så {what} kan inte komma från hen.", loc)
                return False
            if key in serving or (ersattare_ok and key in self.present):
                return True
            self.problem(f"{label}: '{display_name(who)}' tjänstgör inte i paragrafen, så {what} kan inte komma "
                         "från hen. Kontrollera namnet mot 'närvarande'.", loc)
            return False

        for i, yrkande in enumerate(punkt.yrkanden):
            takes_part(yrkande.av, (*at, "yrkanden", i, "av"), "ett yrkande")
        beslut = self.beslut(label, at, plan, punkt)
        rakning = None
        if punkt.omrostning is not None:
            rakning = self.omrostning(label, (*at, "omröstning"), punkt.omrostning, serving, javiga)
        for i, reservation in enumerate(punkt.reservationer):
            loc = (*at, "reservationer", i, "av")
            if takes_part(reservation.av, loc, "en reservation") and rakning is not None:
                if person_key(reservation.av) in {person_key(p) for p in rakning.avstar}:
                    self.problem(f"{label}: '{display_name(reservation.av)}' avstod från att rösta och deltog "
                                 "alltså inte i beslutet. Bara den som deltagit i beslutet kan reservera sig "
                                 "(kommunallagen 4 kap. 27 §).", loc)
        for i, anteckning in enumerate(punkt.protokollsanteckningar):
            takes_part(anteckning.av, (*at, "protokollsanteckningar", i, "av"), "en protokollsanteckning",
                       ersattare_ok=True)
        if not beslut and plan.loaded is not None:
            self.problem(f"{label}: ärendet har inget beslut. Skriv beslutet under 'beslut:' (en rad per "
                         "beslutspunkt) eller 'beslut: enligt förslag'.", at)
        return Paragraf(nummer=nummer, planned=plan, punkt=punkt, index=index, beslut=beslut,
                        expedieras=self.expedieras(label, at, punkt), tjanstgorande=tuple(serving.values()),
                        rakning=rakning)

    def beslut(self, label: str, at: Loc, plan: PlannedPunkt, punkt: ProtokollPunkt) -> tuple[str, ...]:
        if punkt.enligt_forslag:
            assert plan.loaded is not None
            return tuple(plan.loaded.arende.forslag_till_beslut)
        return tuple(punkt.beslut or ())

    def omrostning(self, label: str, at: Loc, vote: Omrostning, serving: dict[str, str],
                   javiga: dict[str, str]) -> Rakning:
        votes: dict[str, tuple[str, str]] = {}
        for name, value in vote.roster.items():
            key = person_key(name)
            loc = (*at, "röster", name)
            if key in javiga:
                self.problem(f"{label}: '{display_name(name)}' har anmält jäv i paragrafen och får inte rösta.", loc)
            elif key not in serving:
                self.problem(f"{label}: '{display_name(name)}' tjänstgör inte i paragrafen och kan inte rösta. "
                             "Bara tjänstgörande ledamöter och ersättare röstar.", loc)
            elif key in votes:
                self.problem(f"{label}: '{display_name(name)}' röstar två gånger (också som "
                             f"'{votes[key][0]}'). Varje tjänstgörande ledamot har en röst.", loc)
            else:
                votes[key] = (name, value)
        missing = [display_name(serving[k]) for k in serving if k not in votes]
        if missing:
            self.problem(f"{label}: {', '.join(missing)} tjänstgör men har ingen röst i omröstningen. Skriv "
                         "varje tjänstgörandes röst (ja, nej eller avstår).", (*at, "röster"))
        by = {v: tuple(display_name(serving.get(k, name)) for k, (name, value) in votes.items() if value == v)
              for v in ROSTER}
        ja, nej = len(by["ja"]), len(by["nej"])
        counted = f"{ja} ja, {nej} nej, {len(by['avstår'])} avstår"
        chair = person_key(self.meeting.sammantrade.ordforande)
        if ja == nej:
            if vote.utslagsrost is None:
                self.problem(f"{label}: omröstningen slutade lika ({counted}). Ordföranden har utslagsröst: "
                             "skriv 'utslagsröst: ja' eller 'utslagsröst: nej' under omröstning.", at)
            else:
                own = votes.get(chair, ("", None))[1]
                if own not in ("ja", "nej"):
                    self.problem(f"{label}: utslagsrösten är ordförandens, men ordföranden har inte röstat ja "
                                 "eller nej.", (*at, "utslagsröst"))
                elif own != vote.utslagsrost:
                    self.problem(f"{label}: ordföranden röstade {own} men utslagsrösten är {vote.utslagsrost}. "
                                 "Utslagsrösten är ordförandens egen röst.", (*at, "utslagsröst"))
            result = vote.utslagsrost or vote.utfall
        else:
            if vote.utslagsrost is not None:
                self.problem(f"{label}: utslagsröst gäller bara när det blir lika ({counted}). Ta bort raden.",
                             (*at, "utslagsröst"))
            result = "ja" if ja > nej else "nej"
        if not missing and vote.utfall != result:
            self.problem(f"{label}: rösterna ({counted}) ger {result}, men utfallet är skrivet som {vote.utfall}. "
                         "Rätta rösterna eller utfallet.", (*at, "utfall"))
        return Rakning(ja=by["ja"], nej=by["nej"], avstar=by["avstår"], utfall=vote.utfall,
                       utslagsrost=vote.utslagsrost)

    def expedieras(self, label: str, at: Loc, punkt: ProtokollPunkt) -> tuple[Mottagare, ...]:
        found: dict[str, Mottagare] = {}
        for i, item in enumerate(punkt.expedieras):
            group = EXPEDIERA_GRUPPER.get(item.strip().lower())
            if group is not None:
                for org in self.organisationer.organisationer:
                    if group == "alla" or org.typ == group:
                        found.setdefault(org.id, Mottagare(org.namn, org))
            elif re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", item):
                known = self.organisationer.find(item)
                if known is None:
                    self.problem(f"{label}: okänd organisation '{item}'. {self.organisationer.did_you_mean(item)} "
                                 f"Grupper: {', '.join(EXPEDIERA_GRUPPER)}. Annan mottagare skrivs med namn, "
                                 "t.ex. 'Akten'.", (*at, "expedieras", i))
                else:
                    found.setdefault(known.id, Mottagare(known.namn, known))
            else:
                found.setdefault(item.casefold(), Mottagare(item))
        return tuple(found.values())


# --- § numbers through the year ------------------------------------------------------------


@dataclass(frozen=True)
class _Held:
    """A sammanträde of the same organisation and year that has a protokoll."""

    folder: Path
    datum: date
    punkter: int
    stated: int | None
    stated_line: int | None
    protokoll: Path


def paragraf_start(meeting: LoadedSammantrade, protokoll: Protokoll, doc: YamlDocument,
                   organisationer: Organisationer) -> int:
    """Return the first § of this protokoll, continuing the organisation's year.

    The sammanträden are the folders beside this one (``content/sammantraden/*``) of the same
    organisation and year that have a protokoll, in date order. Raise ContentError on a gap,
    a repeated § or an earlier meeting of the year without a protokoll.
    """
    here = meeting.source.parent.resolve()
    year = meeting.sammantrade.datum.year
    org = meeting.organisation
    held: list[_Held] = []
    waiting: list[tuple[Path, date]] = []
    for folder in sorted(p for p in here.parent.iterdir() if (p / SAMMANTRADE_FILE).is_file()):
        folder = folder.resolve()
        if folder == here:
            held.append(_Held(here, meeting.sammantrade.datum, len(meeting.punkter), protokoll.forsta_paragraf,
                              doc.line_of(("första_paragraf",)), doc.path))
            continue
        other = _read_other(folder)
        if other is None or other[0].organisation != org.id or other[0].datum.year != year:
            continue
        sammantrade, first, line = other
        if (folder / PROTOKOLL_FILE).is_file():
            held.append(_Held(folder, sammantrade.datum, len(sammantrade.punkter), first, line,
                              folder / PROTOKOLL_FILE))
        else:
            waiting.append((folder, sammantrade.datum))
    held.sort(key=lambda h: (h.datum, h.folder.name))
    mine = next(i for i, h in enumerate(held) if h.folder == here)
    earlier_waiting = [w for w in waiting if w[1] < meeting.sammantrade.datum]
    if earlier_waiting and protokoll.forsta_paragraf is None:
        folder, datum = earlier_waiting[-1]
        raise ContentError(f"{org.namn} har ett tidigare sammanträde {datum.isoformat()} ({folder}) utan "
                           "protokoll, så paragraferna i det här protokollet kan inte räknas fram. Skriv det "
                           "protokollet först, eller ange 'första_paragraf:' här.", file=doc.path)
    start = getattr(org, "forsta_paragraf", None) or 1
    expected = start
    for i, h in enumerate(held[:mine + 1]):
        if i == 0:
            expected = h.stated or start
        elif h.stated is not None and h.stated != expected:
            before = held[i - 1]
            last = expected - 1
            kind = (f"lucka: § {expected}–{h.stated - 1} finns inte i något protokoll" if h.stated > expected
                    else f"dubblett: § {h.stated}–{last} finns redan i protokollet från {before.datum.isoformat()}")
            raise ContentError(
                f"första_paragraf {h.stated} passar inte i {org.namn}s paragrafserie för {year} ({kind}). "
                f"Protokollet från {before.datum.isoformat()} ({before.protokoll}) slutar med § {last}, så det "
                f"här ska börja med § {expected}. Ta bort 'första_paragraf' eller rätta den.",
                file=h.protokoll, line=h.stated_line, field="första_paragraf")
        if i == mine:
            return expected
        expected = expected + h.punkter
    raise AssertionError("unreachable")


def _read_other(folder: Path) -> tuple[Sammantrade, int | None, int | None] | None:
    """Return another meeting's sammanträde and its protokoll's första_paragraf (and line)."""
    try:
        sammantrade = validate_model(Sammantrade, read_yaml(folder / SAMMANTRADE_FILE))
    except ContentError as e:
        raise ContentError(f"ett annat sammanträde i samma mapp har fel, och paragrafserien kan inte räknas "
                           f"fram förrän det är rättat:\n{e.format()}", file=folder / SAMMANTRADE_FILE) from e
    file = folder / PROTOKOLL_FILE
    if not file.is_file():
        return sammantrade, None, None
    doc = read_yaml(file)
    data = doc.data if isinstance(doc.data, dict) else {}
    value = data.get("första_paragraf")
    if value is None:
        return sammantrade, None, None
    try:
        return sammantrade, int(str(value)), doc.line_of(("första_paragraf",))
    except ValueError:
        raise ContentError("första_paragraf ska vara ett heltal, t.ex. 101.", file=file,
                           line=doc.line_of(("första_paragraf",)), field="första_paragraf") from None


# --- text for the review -------------------------------------------------------------------


def text_fields(loaded: LoadedProtokoll) -> Iterator[tuple[str, Loc, str]]:
    """Yield (field, YAML location, text) for each piece of the protokoll's own running text."""
    for p in loaded.paragrafer:
        at: Loc = ("punkter", p.index)
        punkt = p.punkt
        if punkt.text:
            yield f"{p.label}.text", (*at, "text"), punkt.text
        for i, text in enumerate(punkt.beslut or ()):
            yield f"{p.label}.beslut[{i + 1}]", (*at, "beslut", i), text
        for i, yrkande in enumerate(punkt.yrkanden):
            yield f"{p.label}.yrkanden[{i + 1}]", (*at, "yrkanden", i, "yrkande"), yrkande.yrkande
        if punkt.propositionsordning:
            yield f"{p.label}.propositionsordning", (*at, "propositionsordning"), punkt.propositionsordning
        for kind, items in (("reservationer", punkt.reservationer),
                            ("protokollsanteckningar", punkt.protokollsanteckningar)):
            for i, item in enumerate(items):
                if item.text:
                    yield f"{p.label}.{kind}[{i + 1}]", (*at, kind, i, "text"), item.text


def beslut_lead(loaded: LoadedProtokoll, paragraf: Paragraf) -> str | None:
    """Return the sentence before the beslut when it is the paper's förslag, else None."""
    if not paragraf.enligt_forslag:
        return None
    org = loaded.meeting.organisation
    whose = "förvaltningens" if not org.is_bolag else wording_for(org)["dokumenttyp"].lower() + "ets"
    return f"{org.namn} beslutar i enlighet med {whose} förslag:"


def find_sammantrade(path: Path) -> Path:
    """Return the sammantrade.yaml for ``path`` (re-exported for the CLI)."""
    return resolve_sammantrade_file(path)


# --- a new protokoll -----------------------------------------------------------------------

PROCEDUR_BESLUT = {
    "Val av justerare": "{org} utser [Namn Efternamn (parti)] att jämte ordföranden justera protokollet.",
    "Fastställande av dagordning": "{org} fastställer dagordningen.",
    "Anmälningsärenden": "{org} lägger anmälningsärendena till handlingarna.",
    "Delegationsbeslut": "{org} lägger redovisningen av delegationsbeslut till handlingarna.",
    "Information": "{org} antecknar informationen.",
}
"""The usual beslut of a procedural point, as a new protokoll suggests it."""
PROCEDUR_TEXT = {
    "Mötets öppnande": "Ordföranden öppnar sammanträdet.",
    "Övriga frågor": "[Skriv vad som togs upp, eller: Inga övriga frågor anmäls.]",
    "Mötets avslutande": "Ordföranden avslutar sammanträdet.",
}


def create_protokoll(path: Path, organisationer_path: Path) -> Path:
    """Write a new protokoll.yaml for the sammanträde at ``path``; return it.

    Every point of the föredragningslista gets its entry, an ärende with the paper's
    förslag till beslut as its beslut; the kallade are listed as present. Comments (in
    Swedish) say what each field is. An existing protokoll.yaml is never overwritten.
    """
    import json
    from datetime import timedelta

    from .files import write_bytes

    organisationer = load_organisationer(organisationer_path)
    meeting = load_sammantrade(path, organisationer, organisationer_path.parent)
    target = resolve_protokoll_file(meeting.source)
    if target.exists():
        raise ContentError("protokollet finns redan och skrivs inte över. Ändra i det, eller flytta det om "
                           "du vill börja om.", file=target)
    s, org = meeting.sammantrade, meeting.organisation

    def q(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    def one_line(text: str) -> str:
        return " ".join(text.split())

    lines = [
        f"# Protokoll från sammanträdet med {one_line(org.namn)} {s.datum.isoformat()}.",
        "# Fyll i vilka som var närvarande, justeringen och vad som beslutades i varje punkt.",
        "# Kontrollera och bygg protokollet och ett protokollsutdrag per paragraf med:",
        f"#   beslut minutes {one_line(str(meeting.source.parent))}",
        "# Text inom hakparenteser är sådant du ska byta ut. Ett fullständigt exempel med yrkanden,",
        "# omröstning, reservation, protokollsanteckning och jäv finns i",
        "# content/sammantraden/2023-10-forskolenamnden/protokoll.yaml.",
        "",
        "# Paragraferna fortsätter där nämndens förra protokoll samma år slutade. Bara i årets",
        "# första protokoll, om numreringen inte börjar på 1, anges den första paragrafen:",
        "# första_paragraf: 1",
        "",
        "närvarande:",
        "  # Tjänstgörande ledamöter med parti. Ta bort den som inte var där.",
        "  ledamöter:",
        *(f"    - {q(p)}" for p in meeting.kallade.ledamoter),
        "  # Ersättare som tjänstgör, och för vem: \"Namn (parti), ersätter Namn (parti)\".",
        "  tjänstgörande_ersättare: []",
        "  # Närvarande ersättare som inte tjänstgör.",
        "  ersättare:" + ("" if meeting.kallade.ersattare else " []"),
        *(f"    - {q(p)}" for p in meeting.kallade.ersattare),
        "  # Övriga närvarande: tjänstepersoner, sekreteraren.",
        "  övriga:",
        f"    - {q(s.sekreterare + ', sekreterare')}",
        "",
        "# Justerare: tjänstgörande ledamöter som justerar protokollet med ordföranden.",
        "justerare:",
        f"  - {q('[Namn Efternamn (parti)]')}",
        "# Dag och plats för justeringen.",
        "justering:",
        f"  datum: {(s.datum + timedelta(days=7)).isoformat()}",
        f"  plats: {q(s.plats)}",
        "",
        "# Anslaget på anslagstavlan: dagen det sätts upp (inte före justeringen; standard är",
        f"# justeringsdagen) och var protokollet förvaras (standard: {one_line(org.avsandare)}).",
        "# Sista dag att överklaga räknas fram: tre veckor efter anslaget.",
        "# anslag:",
        "#   uppsatt: ÅÅÅÅ-MM-DD",
        f"#   förvaringsplats: {one_line(org.avsandare)}",
        "",
        "# En punkt per punkt i föredragningslistan, i samma ordning; varje punkt blir en paragraf.",
        "# Per punkt kan stå: text, beslut (en rad per beslutspunkt), yrkanden (av, yrkande),",
        "# propositionsordning, omröstning (ja, nej, röster, utfall, utslagsröst), reservationer",
        "# och protokollsanteckningar (av, text), jäv (namn, ersätts_av) och expedieras",
        "# (organisationers id, 'alla bolag', 'alla nämnder' eller ett namn, t.ex. Akten).",
        "punkter:",
    ]
    for planned in meeting.punkter:
        lines.append("")
        if planned.loaded is not None:
            lines += [f"  # {one_line(planned.rubrik)}",
                      f"  - ärende: {q(str(planned.punkt.arende))}",
                      "    # Förslaget till beslut i tjänsteutlåtandet. Ändra om beslutet blev ett annat.",
                      "    beslut:",
                      *(f"      - {q(one_line(b))}" for b in planned.loaded.arende.forslag_till_beslut),
                      "    expedieras: []"]
            continue
        name = str(planned.punkt.punkt)
        lines.append(f"  - punkt: {q(name)}")
        text = PROCEDUR_TEXT.get(name) or (planned.punkt.text if name == "Information" else None)
        if text:
            lines.append(f"    text: {q(one_line(text))}")
        if name in PROCEDUR_BESLUT:
            lines += ["    beslut:", f"      - {q(PROCEDUR_BESLUT[name].format(org=org.namn))}"]
    write_bytes(target, ("\n".join(lines) + "\n").encode("utf-8"))
    return target
