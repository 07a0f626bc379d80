"""A sammanträde (board meeting): its content model, loading and the checks before a build.

``content/sammantraden/<namn>/sammantrade.yaml`` says when and where the meeting is, who is
called, and its ``punkter`` in order. A point is either an ärende (a folder under
``content/arenden/``, whose paper for the meeting's organisation is used) or a plain
procedural point (Mötets öppnande, Val av justerare …). ``load_sammantrade`` reads and
validates the file; ``check_sammantrade`` loads every ärende it names and checks what the
meeting needs of them (the organisation, no stopp in the review, unique diarienummer,
utfärdat not after the meeting, the kallelse in time). Nothing here writes a file.

The model is shared with what is built from the meeting (``agenda``: kallelse and
sammanträdeshandlingar; later the protokoll), so its names are the meeting's own nouns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .content import LoadedArende, load_arenden, resolve_content_file
from .errors import ContentError, ReviewError
from .model import Datum, Id, Model, Organisation, Organisationer, Text
from .outfolder import ARENDEN_DIR
from .validation import validate_model
from .yamlfile import YamlDocument, read_yaml

SAMMANTRADE_FILE = "sammantrade.yaml"
LEDAMOTSLISTOR_DIR = "ledamotslistor"
"""``content/ledamotslistor/<id>.yaml``: the ledamöter and ersättare of one organisation."""
DEFAULT_KALLELSEDAGAR = 5
"""Days the kallelse must go out before the meeting when the registry says nothing."""

PROCEDURPUNKTER = (
    "Mötets öppnande",
    "Val av justerare",
    "Fastställande av dagordning",
    "Anmälningsärenden",
    "Delegationsbeslut",
    "Information",
    "Övriga frågor",
    "Mötets avslutande",
)
"""The plain (procedural) points a föredragningslista may have besides the ärenden."""


# --- the model -----------------------------------------------------------------------------


class Punkt(Model):
    """One point of the föredragningslista: an ärende, or a plain procedural point."""

    nummer: int | None = None
    """Optional; when given, the points must be numbered 1, 2, 3 … in order."""
    arende: Text | None = Field(None, alias="ärende")
    """The ärende's folder name under ``content/arenden/``."""
    punkt: Text | None = None
    """A procedural point, one of ``PROCEDURPUNKTER``."""
    foredragande: Text | None = Field(None, alias="föredragande")
    utelamnad: Text | None = Field(None, alias="utelämnad")
    """The legal ground on which the handlingar are left out, e.g. "OSL 19 kap. 1 §"."""
    handlingar: Literal["ja", "nej"] = "ja"
    """``nej``: the point has no handlingar in the package (e.g. an oral report)."""
    text: Text | None = None

    @field_validator("punkt")
    @classmethod
    def _known_punkt(cls, value: str | None) -> str | None:
        if value is not None and value not in PROCEDURPUNKTER:
            raise ValueError(f"'{value}' är ingen av punkterna som finns: {', '.join(PROCEDURPUNKTER)}. "
                             "Ett ärende skrivs 'ärende: <mappens namn>'.")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Punkt:
        if (self.arende is None) == (self.punkt is None):
            raise ValueError("en punkt ska ha antingen 'ärende: <mappens namn>' eller "
                             "'punkt: <t.ex. Val av justerare>', inte båda och inte ingen.")
        if self.arende is None:
            for name, value in (("föredragande", self.foredragande), ("utelämnad", self.utelamnad)):
                if value is not None:
                    raise ValueError(f"'{name}' gäller bara en punkt med ett ärende. Ta bort raden.")
            if self.handlingar != "ja":
                raise ValueError("'handlingar' gäller bara en punkt med ett ärende. Ta bort raden.")
        elif self.foredragande is None:
            raise ValueError("en punkt med ett ärende ska ha 'föredragande: <namn, titel>'.")
        if self.utelamnad is not None and self.handlingar == "nej":
            raise ValueError("en punkt utan handlingar ('handlingar: nej') har inget att utelämna. "
                             "Ta bort en av raderna.")
        return self

    @property
    def is_arende(self) -> bool:
        return self.arende is not None


class Kallade(Model):
    """Who is called to the meeting: ledamöter and ersättare (one line each)."""

    ledamoter: list[Text] = Field(default_factory=list, alias="ledamöter")
    ersattare: list[Text] = Field(default_factory=list, alias="ersättare")


class Sammantrade(Model):
    """One board meeting: time, place, who is called and the föredragningslista."""

    organisation: Id
    datum: Datum
    tid: Text
    plats: Text
    ordforande: Text = Field(alias="ordförande")
    sekreterare: Text
    kallelsedatum: Datum
    ledamoter: list[Text] = Field(default_factory=list, alias="ledamöter")
    ersattare: list[Text] = Field(default_factory=list, alias="ersättare")
    ledamotslista: Id | None = None
    """Instead of ledamöter/ersättare: ``content/ledamotslistor/<id>.yaml``."""
    punkter: list[Punkt] = Field(min_length=1)

    @model_validator(mode="after")
    def _who_is_called(self) -> Sammantrade:
        if self.ledamotslista is not None and (self.ledamoter or self.ersattare):
            raise ValueError("ange antingen 'ledamotslista' eller 'ledamöter'/'ersättare', inte båda.")
        if self.ledamotslista is None and not self.ledamoter:
            raise ValueError("ange vilka som kallas: 'ledamöter:' (och 'ersättare:') med en rad per "
                             "person som börjar med '- ', eller 'ledamotslista: <id>'.")
        return self


# --- loaded and checked --------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedPunkt:
    """A point with its number and, for an ärende, the organisation's paper of it."""

    nummer: int
    punkt: Punkt
    loaded: LoadedArende | None = None
    """The ärende (this organisation's instance of a shared one); None for a plain point."""

    @property
    def rubrik(self) -> str:
        """Return the point's heading: the ärendemening, or the procedural point's name."""
        return self.loaded.arende.rubrik if self.loaded is not None else str(self.punkt.punkt)

    @property
    def diarienummer(self) -> str | None:
        return self.loaded.arende.diarienummer if self.loaded is not None else None

    @property
    def utelamnad(self) -> str | None:
        return self.punkt.utelamnad

    @property
    def has_handlingar(self) -> bool:
        """True for an ärende whose paper and bilagor go into the package."""
        return self.loaded is not None and self.punkt.handlingar == "ja"

    @property
    def label(self) -> str:
        """Return how the package names the point: "Punkt 3"."""
        return f"Punkt {self.nummer}"


@dataclass(frozen=True)
class LoadedSammantrade:
    """A sammanträde validated against the registry, with its ärenden loaded."""

    sammantrade: Sammantrade
    organisation: Organisation
    source: Path
    doc: YamlDocument = field(compare=False, repr=False)
    kallade: Kallade = field(default_factory=Kallade)
    punkter: tuple[PlannedPunkt, ...] = ()

    @property
    def name(self) -> str:
        """Return the meeting's folder name (its real name, also when given as '.')."""
        return self.source.parent.resolve().name

    @property
    def title(self) -> str:
        """Return the meeting's title: "Förskolenämnden, sammanträde 2023-10-24"."""
        return f"{self.organisation.namn}, sammanträde {self.sammantrade.datum.isoformat()}"


def resolve_sammantrade_file(path: Path) -> Path:
    """Return the sammantrade.yaml for ``path``, which is the folder or the file itself."""
    return resolve_content_file(path, SAMMANTRADE_FILE, "sammanträdets")


def is_sammantrade(path: Path) -> bool:
    """Return True if ``path`` is a sammanträde (its folder or its sammantrade.yaml)."""
    return path.name == SAMMANTRADE_FILE or (path / SAMMANTRADE_FILE).is_file()


def load_sammantrade(path: Path, organisationer: Organisationer, content: Path) -> LoadedSammantrade:
    """Read the sammanträde at ``path``, check it and load every ärende it names.

    ``content`` is the content folder (where ``arenden/`` and ``ledamotslistor/`` are).
    Every problem is reported together in one ContentError (exit 3), with file and line;
    an ärende with a stopp in its review is a ReviewError (exit 8).
    """
    file = resolve_sammantrade_file(path)
    doc = read_yaml(file)
    sammantrade = validate_model(Sammantrade, doc, hint="Jämför med exemplet i content/sammantraden/.")
    organisation = organisationer.find(sammantrade.organisation)
    if organisation is None:
        raise ContentError(f"okänd organisation '{sammantrade.organisation}'. "
                           f"{organisationer.did_you_mean(sammantrade.organisation)}",
                           file=file, line=doc.line_of(("organisation",)), field="organisation")
    kallade = _kallade(sammantrade, doc, content)
    problems: list[ContentError] = []
    punkter = []
    for index, punkt in enumerate(sammantrade.punkter):
        loaded = None
        if punkt.arende is not None:
            try:
                loaded = _load_punkt_arende(punkt.arende, organisation, organisationer, content, doc, index)
            except ContentError as e:
                problems.append(e)
                continue
        punkter.append(PlannedPunkt(nummer=index + 1, punkt=punkt, loaded=loaded))
    loaded_meeting = LoadedSammantrade(sammantrade=sammantrade, organisation=organisation, source=file,
                                       doc=doc, kallade=kallade, punkter=tuple(punkter))
    if not problems:
        problems += check_sammantrade(loaded_meeting, organisationer)
    if problems:
        raise ContentError("\n".join(p.format() for p in problems), parts=problems)
    return loaded_meeting


def _kallade(sammantrade: Sammantrade, doc: YamlDocument, content: Path) -> Kallade:
    """Return who is called: from the file itself or from its ledamotslista."""
    if sammantrade.ledamotslista is None:
        return Kallade.model_validate({"ledamöter": sammantrade.ledamoter, "ersättare": sammantrade.ersattare})
    path = content / LEDAMOTSLISTOR_DIR / f"{sammantrade.ledamotslista}.yaml"
    if not path.is_file():
        raise ContentError(f"ledamotslistan finns inte: {path}. Skapa den (med 'ledamöter:' och "
                           "'ersättare:') eller skriv ledamöterna i sammanträdet.",
                           file=doc.path, line=doc.line_of(("ledamotslista",)), field="ledamotslista")
    kallade = validate_model(Kallade, read_yaml(path))
    if not kallade.ledamoter:
        raise ContentError("ledamotslistan har inga ledamöter. Skriv dem under 'ledamöter:'.", file=path)
    return kallade


def _load_punkt_arende(name: str, organisation: Organisation, organisationer: Organisationer,
                       content: Path, doc: YamlDocument, index: int) -> LoadedArende:
    """Return the organisation's instance of the ärende ``name`` of point ``index``."""
    loc = ("punkter", index, "ärende")

    def error(text: str) -> ContentError:
        return ContentError(text, file=doc.path, line=doc.line_of(loc), field=f"punkter[{index + 1}].ärende")

    folder = content / ARENDEN_DIR / name
    if "/" in name or "\\" in name or name in (".", "..") or not (folder / "arende.yaml").is_file():
        raise error(f"ärendet '{name}' finns inte i {content / ARENDEN_DIR}. Skriv namnet på "
                    "ärendets mapp (t.ex. 2023-10-handlingsplaner).")
    try:
        instances = load_arenden(folder, organisationer)
    except ContentError as e:
        raise error(f"ärendet '{name}' har fel. Rätta det först (beslut validate {folder}):\n"
                    f"{e.format()}") from e
    mine = [loaded for loaded in instances if loaded.organisation.id == organisation.id]
    if not mine:
        others = ", ".join(loaded.organisation.id for loaded in instances)
        raise error(f"ärendet '{name}' gäller inte {organisation.namn} ({organisation.id}) utan "
                    f"{others}. Ta bara upp ärenden för sammanträdets organisation.")
    return mine[0]


def check_sammantrade(meeting: LoadedSammantrade, organisationer: Organisationer) -> list[ContentError]:
    """Return what is wrong with the meeting as a whole (dates, numbering, diarienummer).

    Raise ReviewError when an ärende has a stopp in its review (it may not be decided on).
    """
    from .findings import STOPP
    from .review import review_arende

    s, doc = meeting.sammantrade, meeting.doc
    problems = []

    def problem(text: str, loc: tuple, name: str) -> None:
        problems.append(ContentError(text, file=doc.path, line=doc.line_of(loc), field=name))

    for index, punkt in enumerate(s.punkter):
        if punkt.nummer is not None and punkt.nummer != index + 1:
            problem(f"punkten har nummer {punkt.nummer} men är punkt {index + 1} i ordningen. Punkterna "
                    "numreras 1, 2, 3 … utan luckor: rätta numret eller ta bort alla 'nummer:'.",
                    ("punkter", index, "nummer"), f"punkter[{index + 1}].nummer")
    dagar = kallelsedagar(meeting.organisation)
    if s.kallelsedatum > s.datum - timedelta(days=dagar):
        problem(f"kallelsen ska gå ut minst {dagar} dagar före sammanträdet ({s.datum.isoformat()}), "
                f"alltså senast {(s.datum - timedelta(days=dagar)).isoformat()}. Flytta kallelsedatum "
                "eller sammanträdet.", ("kallelsedatum",), "kallelsedatum")
    seen: dict[str, int] = {}
    for planned in meeting.punkter:
        if planned.loaded is None:
            continue
        index = planned.nummer - 1
        arende = planned.loaded.arende
        if arende.utfardat > s.datum:
            problem(f"ärendet '{planned.punkt.arende}' är utfärdat {arende.utfardat.isoformat()}, efter "
                    f"sammanträdet {s.datum.isoformat()}. Ett ärende måste vara klart före sammanträdet.",
                    ("punkter", index, "ärende"), f"punkter[{index + 1}].ärende")
        if arende.diarienummer:
            if arende.diarienummer in seen:
                problem(f"diarienummer {arende.diarienummer} finns redan i punkt {seen[arende.diarienummer]}. "
                        "Varje ärende tas upp en gång per sammanträde.",
                        ("punkter", index, "ärende"), f"punkter[{index + 1}].ärende")
            seen.setdefault(arende.diarienummer, planned.nummer)
    if problems:
        return problems
    stopp = []
    for planned in meeting.punkter:
        if planned.loaded is not None:
            found = [f for f in review_arende(planned.loaded) if f.severity == STOPP]
            if found:
                stopp.append(f"{planned.label} ({planned.punkt.arende}): {len(found)} stopp i granskningen, "
                             f"t.ex. {found[0].message} Visa dem med 'beslut review {planned.loaded.folder}'.")
    if stopp:
        raise ReviewError("ärenden med stopp kan inte tas upp på sammanträdet:\n" + "\n".join(stopp),
                          file=doc.path)
    return []


def kallelsedagar(organisation: Organisation) -> int:
    """Return how many days before the meeting the kallelse must go out (registry, default 5)."""
    days: Any = getattr(organisation, "kallelsedagar", None)
    return DEFAULT_KALLELSEDAGAR if days is None else int(days)


def latest_kallelsedatum(datum: date, organisation: Organisation) -> date:
    """Return the last day the kallelse may go out for a meeting on ``datum``."""
    return datum - timedelta(days=kallelsedagar(organisation))
