"""The validated content model: organisations, the ärende and its bilagor.

The YAML keys are Swedish, as the city writes its headings (``utfärdat``, ``handläggare``);
the Python attributes are their ASCII spellings (``utfardat``, ``handlaggare``). Validation
errors are translated into Swedish messages by ``validation.validate_model``.

Every value arrives as the text the user typed (``yamlfile`` switches off YAML's implicit
types); the model converts what must be converted (dates) and keeps the rest verbatim.
"""

from __future__ import annotations

import difflib
import re
import typing
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""A required piece of text; empty or only spaces is an error."""

def _one_line(value: str) -> str:
    if len(value.splitlines()) > 1:
        raise ValueError("får bara vara en rad men har en radbrytning. Skriv texten på en rad, utan radbrytning.")
    return value


Line = Annotated[Text, AfterValidator(_one_line)]
"""Required text on one line: a name, a title, a rubrik (it goes into headers, e-mail subjects …)."""

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
"""An organisation id: lower-case ASCII letters and digits joined by hyphens."""

DATE_FORMAT = "ska vara ett datum på formen ÅÅÅÅ-MM-DD, t.ex. 2023-10-02."


def parse_date(value: Any) -> date | None:
    """Return ``value`` (text ``ÅÅÅÅ-MM-DD``, or a date) as a date; raise a Swedish ValueError."""
    if value is None or isinstance(value, date):
        return value  # None: the field is empty, reported as such
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError(DATE_FORMAT)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value.strip()} finns inte. Kontrollera månad och dag.") from None


Datum = Annotated[date, BeforeValidator(parse_date)]
"""A date written ``ÅÅÅÅ-MM-DD`` that exists (``2023-02-30`` is refused)."""


def _check_epost(value: str) -> str:
    if not re.fullmatch(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+", value):
        raise ValueError("är ingen e-postadress. Skriv den på formen namn@goteborg.se.")
    return value


Epost = Annotated[Text, AfterValidator(_check_epost)]
"""One e-mail address (no display name), e.g. ``registrator@goteborg.se``."""


class Model(BaseModel):
    """Base of every content model: unknown keys are errors, values are text as written."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


# --- organisations -------------------------------------------------------------------------


class Organisation(Model):
    """A bolag or a nämnd of Göteborgs Stad, as listed in ``organisationer.yaml``."""

    id: Id
    namn: Line
    typ: Literal["bolag", "nämnd"]
    forvaltning: Line | None = Field(None, alias="förvaltning")
    epost: Epost | None = Field(None, alias="e-post")
    kallelsedagar: int | None = Field(None, ge=0, le=60)
    """Days the kallelse to a sammanträde must go out before it (the reglemente); default 5."""
    forsta_paragraf: int | None = Field(None, ge=1, le=100000, alias="första_paragraf")
    """The § a year's first protokoll starts with (``protokoll``); default 1."""

    @model_validator(mode="after")
    def _namnd_has_forvaltning(self) -> Organisation:
        if self.typ == "nämnd" and not self.forvaltning:
            raise ValueError("en nämnd måste ha 'förvaltning' (t.ex. 'förvaltning: Förskoleförvaltningen').")
        return self

    @property
    def is_bolag(self) -> bool:
        """True for a company (bolag), False for a committee (nämnd)."""
        return self.typ == "bolag"

    @property
    def avsandare(self) -> str:
        """Return who writes the paper: the bolag itself, or the nämnd's förvaltning."""
        return self.namn if self.is_bolag else str(self.forvaltning)


class Organisationer(Model):
    """The registry of organisations, ``content/organisationer.yaml``."""

    anmarkning: str | None = Field(None, alias="anmärkning")
    organisationer: list[Organisation] = Field(min_length=1)

    @field_validator("organisationer")
    @classmethod
    def _unique_ids(cls, value: list[Organisation]) -> list[Organisation]:
        seen: set[str] = set()
        for org in value:
            if org.id in seen:
                raise ValueError(f"id '{org.id}' förekommer två gånger. Varje id måste vara unikt.")
            seen.add(org.id)
        return value

    def ids(self) -> list[str]:
        """Return every organisation id, in registry order."""
        return [org.id for org in self.organisationer]

    def find(self, org_id: str) -> Organisation | None:
        """Return the organisation with ``org_id``, or None."""
        return next((org for org in self.organisationer if org.id == org_id), None)

    def did_you_mean(self, org_id: str, suffix: str = "") -> str:
        """Return a Swedish hint naming the ids nearest to ``org_id`` (by id and by name).

        ``suffix`` is added to each id, e.g. ".yaml" when the id is a file name.
        """
        ids = self.ids()
        near = difflib.get_close_matches(org_id, ids, n=3, cutoff=0.5)
        by_name = {org.namn.lower(): org.id for org in self.organisationer}
        for name in difflib.get_close_matches(org_id.lower(), list(by_name), n=3, cutoff=0.4):
            if by_name[name] not in near:
                near.append(by_name[name])
        words = set(org_id.lower().replace("-", " ").split())
        for org in self.organisationer:
            if org.id not in near and words & set(org.namn.lower().split()):
                near.append(org.id)
        if not near:
            return "Se listan över id i organisationsregistret."
        return "Menade du " + " eller ".join(f"'{i}{suffix}'" for i in near[:3]) + "?"


# --- the ärende ----------------------------------------------------------------------------

LINE, MARKDOWN, DATE, EMAIL, TEL, ID, FILE = "line", "markdown", "date", "email", "tel", "id", "file"
"""The kinds of a field of the ärende (``FieldSpec.kind``)."""


@dataclass(frozen=True)
class FieldSpec:
    """How a field of the ärende is shown: declared once, on the model, for every place that lists fields.

    Written into a field's annotation (``Annotated[Text, FieldSpec("Samverkan", MARKDOWN)]``);
    ``arendefields`` walks the model and gives the edit form its fields, the review its
    text fields, the Word template its variables, the example its values and ``beslut
    new`` its placeholders. A field without one (``tillåt_personnummer``) is none of those.
    """

    label: str
    """The field's Swedish name: the form's label, the paper's heading."""
    kind: str = LINE
    """``line`` (one line), ``markdown`` (running text in Markdown), ``date``, ``email``,
    ``tel``, ``id`` (an organisation id, chosen once) or ``file`` (a bilaga's file name)."""
    prose: bool = False
    """True for the paper's running text: searched for bilaga references and myndighetsord."""
    hint: str = ""
    """A line of help under the field in the form."""
    placeholder: str = ""
    """What ``beslut new`` writes for the user to replace (a final build stops on it)."""
    heading: str = ""
    """A key of ``wording.WORDING`` when the heading depends on the organisation's type."""


class Handlaggare(Model):
    """The case officer who wrote the paper, printed in the header block."""

    namn: Annotated[Line, FieldSpec("Handläggarens namn", placeholder="[Namn Efternamn]")]
    telefon: Annotated[Line, FieldSpec("Handläggarens telefon", TEL, placeholder="[031-000 00 00]")]
    epost: Annotated[Line, FieldSpec("Handläggarens e-post", EMAIL, placeholder="[fornamn.efternamn@goteborg.se]")
                     ] = Field(alias="e-post")

    @field_validator("epost")
    @classmethod
    def _looks_like_email(cls, value: str) -> str:
        if "@" not in value or " " in value:
            raise ValueError("är ingen e-postadress. Skriv den på formen namn@goteborg.se.")
        return value


def _dimension(name: str) -> FieldSpec:
    return FieldSpec(f"Bedömning ur {name} dimension", MARKDOWN, prose=True,
                     placeholder=f"[Skriv bedömningen ur {name} dimension här]")


class Dimensioner(Model):
    """The three assessments every paper must have: ekonomisk, ekologisk, social."""

    ekonomisk: Annotated[Text, _dimension("ekonomisk")]
    ekologisk: Annotated[Text, _dimension("ekologisk")]
    social: Annotated[Text, _dimension("social")]


class Bilaga(Model):
    """An attachment as listed in the ärende: its title and its file (relative to the folder)."""

    titel: Annotated[Line, FieldSpec("Titel")]
    fil: Annotated[Line, FieldSpec("Fil", FILE)]


class Underskrift(Model):
    """A signature at the end of the paper: name, and title on the line below."""

    namn: Annotated[Line, FieldSpec("Namn")]
    titel: Annotated[Line, FieldSpec("Titel")]


class Arende(Model):
    """One ärende: everything a beslutsunderlag or tjänsteutlåtande says, in the paper's order."""

    organisation: Annotated[Line, FieldSpec("Organisation", ID)]
    rubrik: Annotated[Line, FieldSpec("Rubrik", prose=True, placeholder="[Skriv rubriken här]")]
    utfardat: Annotated[Datum, FieldSpec("Utfärdat", DATE, hint="Datum på formen ÅÅÅÅ-MM-DD.")
                        ] = Field(alias="utfärdat")
    diarienummer: Annotated[Line | None, FieldSpec(
        "Diarienummer", hint="Valfritt. Utan diarienummer skrivs ”-”.", placeholder="[Diarienummer]")] = None
    handlaggare: Annotated[Handlaggare, FieldSpec("Handläggare")] = Field(alias="handläggare")
    forslag_till_beslut: Annotated[list[Text], FieldSpec(
        "Förslag till beslut", MARKDOWN, prose=True, placeholder="[Skriv förslaget till beslut här]"),
    ] = Field(alias="förslag_till_beslut", min_length=1)
    sammanfattning: Annotated[Text, FieldSpec("Sammanfattning", MARKDOWN, prose=True,
                                              placeholder="[Skriv sammanfattningen här]")]
    dimensioner: Annotated[Dimensioner, FieldSpec("Dimensioner")]
    samverkan: Annotated[Text, FieldSpec(
        "Samverkan", MARKDOWN, prose=True,
        placeholder="[Skriv hur samverkan har skett, eller att ingen samverkan har skett]")]
    bilagor: Annotated[list[Bilaga], FieldSpec("Bilagor")] = Field(default_factory=list)
    arendet: Annotated[Text, FieldSpec("Ärendet", MARKDOWN, prose=True,
                                       placeholder="[Skriv vad ärendet gäller och varför det tas upp]")
                       ] = Field(alias="ärendet")
    beskrivning: Annotated[Text, FieldSpec("Beskrivning av ärendet", MARKDOWN, prose=True,
                                           placeholder="[Skriv beskrivningen av ärendet här]")]
    bedomning: Annotated[Text, FieldSpec("Bedömning", MARKDOWN, prose=True, heading="bedomning_rubrik",
                                         placeholder="[Skriv {heading} här]")] = Field(alias="bedömning")
    """Headed "Bolagets bedömning" or "Förvaltningens bedömning"; its placeholder names the heading."""
    underskrifter: Annotated[list[Underskrift], FieldSpec("Underskrifter")] = Field(default_factory=list)
    tillat_personnummer: dict[str, Text] = Field(default_factory=dict, alias="tillåt_personnummer")
    """Fields that may contain a personnummer (``beslut review``), each with the reason why:
    ``{"beskrivning": "Ärendet gäller en namngiven person; handlingen publiceras inte."}``."""

    @field_validator("tillat_personnummer")
    @classmethod
    def _names_text_fields(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _is_text_field(cls, name):
                raise ValueError(
                    f"'{name}' är inget textfält i ärendet. Ange fältet som i granskningen, "
                    "t.ex. 'beskrivning', 'dimensioner.social' eller 'förslag_till_beslut'."
                )
        return value

    @field_validator("forslag_till_beslut", mode="before")
    @classmethod
    def _proposals_are_a_list(cls, value: Any) -> Any:
        # Lines under the key without '- ' are folded by YAML into one string, numbers and
        # all; printing that as one proposal would change the decision text, so refuse it.
        if isinstance(value, str) and value.strip():
            raise ValueError(FOLDED_PROPOSALS)
        return value


def _is_text_field(model_cls: type[BaseModel], name: str) -> bool:
    """Return True if ``name`` (``beskrivning``, ``dimensioner.social``, ``bilagor[2].titel``)
    names a field of ``model_cls`` that holds text, directly or in its items."""
    current: Any = model_cls
    for part in re.sub(r"\[\d+\]", "", name).split("."):
        current = unwrap_annotation(current)
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return False
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None or part == "tillåt_personnummer":
            return False
        current = field.annotation
    return unwrap_annotation(current) is not date


FOLDED_PROPOSALS = (
    "är en enda text, inte en lista: skriv varje beslutspunkt på en egen rad som börjar med '- ', "
    "t.ex.\n  förslag_till_beslut:\n    - Styrelsen antecknar informationen.\n"
    "    - Styrelsen beslutar att anta planen."
)


# --- the utskick (a batch of cover letters) ------------------------------------------------

MOTTAGARGRUPPER = ("bolag", "nämnder", "alla")
MOTTAGARE_HINT = ("ska vara 'bolag', 'nämnder', 'alla' eller en lista med organisationers id "
                  "(rader som börjar med '- ').")
"""The recipient groups an utskick may name instead of a list of ids."""


class Utskick(Model):
    """A följebrev sent to many organisations: one letter per recipient."""

    avsandare: Line = Field(alias="avsändare")
    datum: Datum
    rubrik: Line
    brodtext: Text = Field(alias="brödtext")
    underskrift: Underskrift
    mottagare: str | list[str]
    utom: list[Id] = Field(default_factory=list)
    avsandare_epost: Epost | None = Field(None, alias="avsändare_e-post")
    """The From address when the letters are e-mailed (``beslut send``, ``letters --eml``)."""
    svara_till: Epost | None = None
    """Where replies go (Reply-To), if not to ``avsändare_e-post``."""

    @field_validator("mottagare", mode="before")
    @classmethod
    def _group_or_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value not in MOTTAGARGRUPPER:
                raise ValueError(MOTTAGARE_HINT)
            return value
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise ValueError(MOTTAGARE_HINT)
        return value


# --- walking the model's annotations ------------------------------------------------------


def unwrap_annotation(annotation: Any) -> Any:
    """Return the model inside ``list[X]``, ``X | None`` or ``Annotated[X, …]``."""
    for _ in range(4):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        origin = typing.get_origin(annotation)
        if origin in (list, typing.Union, typing.Annotated) or (origin is not None and args):
            if not args:
                break
            annotation = args[0]
        else:
            break
    return annotation
