"""The protokoll of a sammanträde: its content model, and what a loaded protokoll is.

``content/sammantraden/<namn>/protokoll.yaml`` beside sammantrade.yaml records what
the meeting decided: who was present (tjänstgörande ledamöter and ersättare, other
ersättare, övriga), the justerare and the justering, the anslag, and per point of the
föredragningslista its beslut, yrkanden, propositionsordning, omröstning, reservationer,
protokollsanteckningar, jäv and who it is expedierat to.

This room is the model (``Protokoll`` and its parts, pydantic) and the loaded, checked
result (``LoadedProtokoll`` with one ``Paragraf`` per point). ``protokollcheck.load_protokoll``
reads and checks a protokoll against its meeting (what kommunallagen asks of the record);
``paragrafnummer.paragraf_start`` numbers its §§ through the organisation's year;
``protokollscaffold.create_protokoll`` writes a new one; ``protokolldocx`` fills the Word
template; ``minutes`` builds the documents. Nothing here writes a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from .anslag import Anslag, anslag_for
from .model import Datum, Epost, Model, Organisation, Text
from .sammantrade import LoadedSammantrade, PlannedPunkt
from .yamlfile import Loc, YamlDocument

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


def _ja_nej(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().casefold() in ("ja", "nej"):
        return value.strip().casefold() == "ja"
    raise ValueError(f"'{value}' är inget giltigt värde. Skriv 'ja' eller 'nej'.")


JaNej = Annotated[bool, BeforeValidator(_ja_nej)]
"""A yes/no written ``ja`` or ``nej`` (every YAML value is read as text)."""


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
    omedelbart_justerad: JaNej = False
    """``omedelbart_justerad: ja``: the § was justerad at the meeting itself (its utdrag may go at once)."""

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
    def omedelbart_justerad(self) -> bool:
        """True when the § was declared omedelbart justerad at the meeting."""
        return self.punkt.omedelbart_justerad

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

    def justerad(self, p: Paragraf) -> date:
        """Return the day § ``p`` was justerad: the meeting's day if omedelbart justerad, else the justering's."""
        return self.meeting.sammantrade.datum if p.omedelbart_justerad else self.protokoll.justering.datum

    def anslag_for(self, p: Paragraf) -> Anslag:
        """Return the anslag of § ``p``: an omedelbart justerad § is posted on the meeting's day."""
        if p.omedelbart_justerad:
            return anslag_for(self.meeting.sammantrade.datum)
        assert self.anslag is not None
        return self.anslag

    @property
    def omedelbart_justerade(self) -> tuple[Paragraf, ...]:
        """Return the §§ declared omedelbart justerade, in order."""
        return tuple(p for p in self.paragrafer if p.omedelbart_justerad)

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
