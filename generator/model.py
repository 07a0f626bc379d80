"""The validated content model: organisations, the ärende and its bilagor.

The YAML keys are Swedish, as the city writes its headings (``utfärdat``, ``handläggare``);
the Python attributes are their ASCII spellings (``utfardat``, ``handlaggare``). Validation
errors are translated into Swedish messages that name the file, the line and the field,
and suggest the key that was probably meant.

Every value arrives as the text the user typed (``yamlfile`` switches off YAML's implicit
types); the model converts what must be converted (dates) and keeps the rest verbatim.
"""

from __future__ import annotations

import difflib
import re
import typing
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from .errors import ContentError
from .yamlfile import Loc, YamlDocument, field_name

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


class Handlaggare(Model):
    """The case officer who wrote the paper, printed in the header block."""

    namn: Line
    telefon: Line
    epost: Line = Field(alias="e-post")

    @field_validator("epost")
    @classmethod
    def _looks_like_email(cls, value: str) -> str:
        if "@" not in value or " " in value:
            raise ValueError("är ingen e-postadress. Skriv den på formen namn@goteborg.se.")
        return value


class Dimensioner(Model):
    """The three assessments every paper must have: ekonomisk, ekologisk, social."""

    ekonomisk: Text
    ekologisk: Text
    social: Text


class Bilaga(Model):
    """An attachment as listed in the ärende: its title and its file (relative to the folder)."""

    titel: Line
    fil: Line


class Underskrift(Model):
    """A signature at the end of the paper: name, and title on the line below."""

    namn: Line
    titel: Line


class Arende(Model):
    """One ärende: everything a beslutsunderlag or tjänsteutlåtande says."""

    organisation: Line
    rubrik: Line
    utfardat: Datum = Field(alias="utfärdat")
    diarienummer: Line | None = None
    handlaggare: Handlaggare = Field(alias="handläggare")
    forslag_till_beslut: list[Text] = Field(alias="förslag_till_beslut", min_length=1)
    sammanfattning: Text
    dimensioner: Dimensioner
    samverkan: Text
    bilagor: list[Bilaga] = Field(default_factory=list)
    arendet: Text = Field(alias="ärendet")
    beskrivning: Text
    bedomning: Text = Field(alias="bedömning")
    underskrifter: list[Underskrift] = Field(default_factory=list)
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
        current = _unwrap(current)
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return False
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None or part == "tillåt_personnummer":
            return False
        current = field.annotation
    return _unwrap(current) is not date


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


# --- Swedish validation messages -----------------------------------------------------------

_TYPE_MESSAGES = {
    "string_type": "ska vara text.",
    "string_pattern_mismatch": "får bara innehålla små bokstäver a–z, siffror och bindestreck, "
    "t.ex. 'gota-lejon'.",
    "list_type": "ska vara en lista: en rad per punkt som börjar med '- '.",
    "model_type": "ska innehålla underfält (indragna rader under fältet).",
    "dict_type": "ska innehålla underfält (indragna rader under fältet).",
    "model_attributes_type": "ska innehålla underfält (indragna rader under fältet).",
    "literal_error": "har ett okänt värde. Tillåtna värden: {expected}.",
    "union_tag_invalid": "har ett okänt värde.",
    "date_type": DATE_FORMAT,
}


def validate_model(model_cls: type[Model], doc: YamlDocument, hint: str = "") -> Any:
    """Validate ``doc.data`` as ``model_cls``; raise one ContentError listing every problem.

    ``hint`` is added after the problems, e.g. where to find an example file.
    """
    data = doc.data
    if not isinstance(data, dict):
        raise ContentError(
            "filen ska innehålla fält på formen 'namn: värde' (den är tom eller har fel form).",
            file=doc.path,
        )
    try:
        return model_cls.model_validate(data)
    except ValidationError as e:
        problems = _describe_errors(e, model_cls, doc)
    message = "\n".join(problem.format() for problem in problems)
    if hint:
        message += f"\n{hint}"
    if len(problems) == 1:
        raise ContentError(message, parts=problems)
    raise ContentError(f"{len(problems)} fel i {doc.path}:\n{message}", parts=problems)


def _describe_errors(error: ValidationError, model_cls: type[Model], doc: YamlDocument) -> list[ContentError]:
    errors = error.errors()
    unknown = [err for err in errors if err["type"] == "extra_forbidden"]
    missing = {tuple(err["loc"]) for err in errors if err["type"] == "missing"}
    explained_missing: set[Loc] = set()
    problems = []
    for err in unknown:
        loc = tuple(err["loc"])
        allowed = _allowed_keys(model_cls, loc[:-1])
        meant = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        text = f"okänt fält '{loc[-1]}'."
        if meant:
            text += f" Menade du '{meant[0]}'?"
            explained_missing.add(loc[:-1] + (meant[0],))
        elif allowed:
            text += " Tillåtna fält här: " + ", ".join(allowed) + "."
        problems.append(_locate(doc, loc, text))
    for err in errors:
        loc = tuple(err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden" or loc in explained_missing:
            continue
        if _is_empty(err):
            text = _empty_message(model_cls, loc, required=kind != "string_too_short"
                                  or _is_required(model_cls, loc))
            if kind == "missing" and len(loc) == 1:
                problems.append(ContentError(text, file=doc.path, field=field_name(loc)))
                continue
        elif kind == "value_error":
            text = str(err.get("ctx", {}).get("error", err["msg"]))  # our validators speak Swedish
        elif kind in _TYPE_MESSAGES:
            text = _TYPE_MESSAGES[kind].format(**{k: str(v) for k, v in err.get("ctx", {}).items()})
        else:
            text = f"har ett ogiltigt värde ({err['msg']})."
        if kind != "missing" and loc in missing:
            continue
        problems.append(_locate(doc, loc, text))
    return problems


def _locate(doc: YamlDocument, loc: Loc, text: str) -> ContentError:
    """Return ``text`` as an error at the file, line and field of ``loc``."""
    return ContentError(text, file=doc.file_of(loc), line=doc.line_of(loc), field=field_name(loc) or None)


def _is_empty(err: ErrorDetails) -> bool:
    """Return True if ``err`` says a field is missing, empty, only spaces or an empty list."""
    kind = err["type"]
    if kind in ("missing", "string_too_short", "too_short"):
        return True
    return err.get("input", "") is None and kind != "value_error"


def _empty_message(model_cls: type[Model], loc: Loc, required: bool = True) -> str:
    """Return the one message for a missing or empty field, saying how to fill it in."""
    if not required:
        return "är tomt. Skriv en text, eller ta bort raden: fältet är valfritt."
    key = loc[-1] if loc else ""
    if isinstance(key, int):
        return "saknas eller är tomt. Skriv en text efter '- ', eller ta bort raden."
    annotation = _unwrap(_field_at(model_cls, loc)[1])
    keys = _allowed_keys(model_cls, loc)
    if keys:
        how = f"skriv underfälten {', '.join(keys)} på egna rader, indragna under '{key}:'."
    elif typing.get_origin(_field_at(model_cls, loc)[1]) is list:
        how = f"skriv minst en punkt på en egen rad som börjar med '- ', indragen under '{key}:'."
    elif annotation is date:
        how = f"skriv '{key}: ' följt av ett datum på formen ÅÅÅÅ-MM-DD."
    else:
        how = f"skriv '{key}: ' följt av texten."
    return f"saknas eller är tomt. Fältet krävs: {how}"


def _is_required(model_cls: type[Model], loc: Loc) -> bool:
    """Return True unless the field at ``loc`` is optional (has a default)."""
    field = _field_at(model_cls, loc)[0]
    return field is None or field.is_required()


def _field_at(model_cls: type[BaseModel], loc: Loc) -> tuple[Any, Any]:
    """Return the pydantic FieldInfo and the annotation at ``loc`` (None, model if unknown)."""
    current: Any = model_cls
    field = None
    for part in loc:
        if isinstance(part, int):
            current = _unwrap(current)
            field = None
            continue
        current = _unwrap(current)
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None, None
        field = next(
            (f for name, f in current.model_fields.items() if (f.alias or name) == part), None
        )
        if field is None:
            return None, None
        current = field.annotation
    return field, current


def _allowed_keys(model_cls: type[BaseModel], loc: Loc) -> list[str]:
    """Return the YAML keys the model accepts at ``loc`` (a path of keys and list indexes)."""
    current = _unwrap(_field_at(model_cls, loc)[1]) if loc else model_cls
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
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
