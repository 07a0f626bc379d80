"""The ärende's fields as the model declares them, walked for every place that lists them.

Each field of ``model.Arende`` (and of its parts) carries a ``FieldSpec``: its Swedish
label, its kind, whether it is running text, its placeholder. Nothing else lists the
fields: the edit form (``form_fields``, ``key_order``, ``sub_order``), the review
(``iter_texts``), the Word template's variables (``context``, through ``fields_of``),
the template check's example (``example_arende``), ``beslut new`` (``placeholders``,
``unwritten_fields``) and ``tools/make_templates.py`` (``paper_sections``) walk the model.
Add a field to the model and it appears in each of them.

Every function takes the model to walk, ``Arende`` when none is given (looked up when
called, so a test may put a larger model in its place).
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from .model import DATE, EMAIL, FILE, ID, LINE, MARKDOWN, TEL, Arende, FieldSpec, unwrap_annotation
from .wording import WORDING
from .yamlfile import Loc


@dataclass(frozen=True)
class ArendeField:
    """One declared field of a model: its attribute, its YAML key, its spec and what it holds."""

    name: str
    """The Python attribute (``handlaggare``)."""
    key: str
    """The YAML key (``handläggare``)."""
    spec: FieldSpec
    annotation: Any
    required: bool

    @property
    def part(self) -> type[BaseModel] | None:
        """Return the model the field holds (``Handlaggare``, or ``Bilaga`` for a list of them), or None."""
        inner = unwrap_annotation(self.annotation)
        return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None

    @property
    def is_list(self) -> bool:
        """Return True for a list (``förslag_till_beslut``, ``bilagor``)."""
        return typing.get_origin(self.annotation) is list


def fields_of(model: type[BaseModel] | None = None) -> list[ArendeField]:
    """Return the fields of ``model`` that have a ``FieldSpec``, in the model's (the paper's) order."""
    found = []
    for name, info in (model or Arende).model_fields.items():
        spec = next((m for m in info.metadata if isinstance(m, FieldSpec)), None)
        if spec is not None:
            found.append(ArendeField(name, info.alias or name, spec, info.annotation, info.is_required()))
    return found


# --- the review ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldText:
    """One text of an ärende: its name for the user, its YAML path, its spec and its value."""

    name: str
    """``rubrik``, ``handläggare.e-post``, ``förslag_till_beslut[2]``, ``bilagor[1].titel``."""
    loc: Loc
    spec: FieldSpec
    text: str


def iter_texts(instance: BaseModel, prefix: str = "", loc: Loc = ()) -> Iterator[FieldText]:
    """Yield every text of ``instance`` the user wrote, in the paper's order.

    Not an organisation id, a date or a bilaga's file name (none of them is text the
    paper says); an optional field left out is skipped.
    """
    for field in fields_of(type(instance)):
        value = getattr(instance, field.name)
        if value is None:
            continue
        name, at = f"{prefix}{field.key}", (*loc, field.key)
        items = list(enumerate(value)) if field.is_list else [(None, value)]
        for index, item in items:
            item_name = name if index is None else f"{name}[{index + 1}]"
            item_loc = at if index is None else (*at, index)
            if isinstance(item, BaseModel):
                yield from iter_texts(item, item_name + ".", item_loc)
            elif field.spec.kind not in (ID, DATE, FILE):
                yield FieldText(item_name, item_loc, field.spec, item)


# --- the edit form -------------------------------------------------------------------------


@dataclass(frozen=True)
class FormField:
    """One single-value field of the edit form: its HTML id, YAML path, label, kind and hint."""

    id: str
    path: tuple[str, ...]
    label: str
    kind: str
    """``text``, ``date``, ``email``, ``tel`` or ``markdown`` (a text area)."""
    hint: str


_FORM_KINDS = {LINE: "text", MARKDOWN: "markdown", DATE: "date", EMAIL: "email", TEL: "tel"}


def form_fields(model: type[BaseModel] | None = None) -> list[FormField]:
    """Return the form's single-value fields (not lists, not the organisation), in the paper's order."""
    found = []
    for field in fields_of(model):
        if field.is_list:
            continue  # förslag, bilagor, underskrifter: the form's own lists
        if field.part is not None:
            found += [FormField(f"{field.name}-{sub.id}", (field.key, *sub.path), sub.label, sub.kind, sub.hint)
                      for sub in form_fields(field.part)]
        elif field.spec.kind in _FORM_KINDS:
            found.append(FormField(field.name, (field.key,), field.spec.label, _FORM_KINDS[field.spec.kind],
                                   field.spec.hint))
    return found


def key_order(model: type[BaseModel] | None = None) -> list[str]:
    """Return the YAML keys in the paper's order: where a key the form adds goes."""
    return [field.key for field in fields_of(model)]


def sub_order(model: type[BaseModel] | None = None) -> dict[str, list[str]]:
    """Return the keys inside each part that is not a list (``handläggare``: namn, telefon, e-post)."""
    return {field.key: key_order(field.part) for field in fields_of(model)
            if field.part is not None and not field.is_list}


# --- beslut new ----------------------------------------------------------------------------


def placeholders(model: type[BaseModel] | None = None) -> dict[str, str]:
    """Return every placeholder ``beslut new`` writes, by the field's attribute name.

    A field whose heading depends on the organisation's type (``bedömning``) has one per
    type: ``bedomning_bolag``, ``bedomning_namnd``.
    """
    found: dict[str, str] = {}
    for field in fields_of(model):
        if field.part is not None:
            found.update(placeholders(field.part))
        elif field.spec.placeholder and field.spec.heading:
            for typ, words in WORDING.items():
                heading = words[field.spec.heading]
                text = field.spec.placeholder.format(heading=heading[:1].lower() + heading[1:])
                found[f"{field.name}_{typ.replace('ä', 'a')}"] = text
        elif field.spec.placeholder:
            found[field.name] = field.spec.placeholder
    return found


def unwritten_fields(skeleton: str, model: type[BaseModel] | None = None) -> list[ArendeField]:
    """Return the fields a new ärende must have that the skeleton's text never writes (``key:``).

    ``beslut new`` writes these at the end, with their label and placeholder, so that a field
    added to the model is in every new ärende before anyone writes its comment.
    """
    return [field for field in fields_of(model)
            if field.required and field.spec.kind != ID and f"\n{field.key}:" not in skeleton]


# --- the template's example and the shipped template ---------------------------------------

_EXAMPLES = {ID: "exempel", LINE: "Exempel", DATE: "2023-10-02", EMAIL: "anna@example.org",
             TEL: "031-00 00 00", FILE: "bilaga.pdf"}


def example_data(markdown: str, model: type[BaseModel] | None = None) -> dict[str, Any]:
    """Return YAML-like data with an example value in every declared field of ``model``.

    ``markdown`` is the running text (a text with every Markdown construct worth trying).
    """
    data: dict[str, Any] = {}
    for field in fields_of(model):
        value: Any
        if field.part is not None:
            value = example_data(markdown, field.part)
        elif field.spec.kind == MARKDOWN:
            value = markdown
        else:
            value = _EXAMPLES[field.spec.kind]
        if field.is_list:
            value = [value] if field.part is not None else ["Ett.", "Två."]
        data[field.key] = value
    return data


def example_arende(markdown: str) -> Arende:
    """Return an ärende with an example value in every field, for trying a template."""
    return Arende.model_validate(example_data(markdown))


@dataclass(frozen=True)
class PaperSection:
    """One heading of the paper's body and the template variable under it (``dimensioner.social``)."""

    heading: str
    """The Swedish heading, or a template expression for a heading that depends on the organisation."""
    variable: str


def paper_sections(model: type[BaseModel] | None = None, prefix: str = "") -> list[PaperSection | str]:
    """Return the paper's body in order: a section per running text, the name of each list.

    A list (``förslag_till_beslut``, ``bilagor``, ``underskrifter``) is given by its
    variable name; the template writes its own block for it.
    """
    found: list[PaperSection | str] = []
    for field in fields_of(model):
        if field.is_list:
            found.append(prefix + field.name)
        elif field.part is not None:
            found += paper_sections(field.part, f"{prefix}{field.name}.")
        elif field.spec.kind == MARKDOWN and not field.is_list:
            heading = "{{ " + field.spec.heading + " }}" if field.spec.heading else field.spec.label
            found.append(PaperSection(heading, prefix + field.name))
    return found
