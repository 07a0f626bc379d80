"""Validating YAML data against a content model, with Swedish messages naming file, line and field.

``validate_model`` is how every loader turns a parsed YAML document into a model
(``model.Arende``, ``model.Utskick``, a sammanträde, a protokoll): pydantic's errors are
translated into one ``ContentError`` listing every problem, each with the file, the line
and the field, and for an unknown key the key that was probably meant.
"""

from __future__ import annotations

import difflib
import typing
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .errors import ContentError
from .model import DATE_FORMAT, Model, unwrap_annotation
from .yamlfile import Loc, YamlDocument, field_name

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
    annotation = unwrap_annotation(_field_at(model_cls, loc)[1])
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
            current = unwrap_annotation(current)
            field = None
            continue
        current = unwrap_annotation(current)
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
    current = unwrap_annotation(_field_at(model_cls, loc)[1]) if loc else model_cls
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []
