"""The edit form and the YAML file it edits: fields, form state, and round-trip saving.

The file stays the user's: it is read and written with ruamel.yaml's round-trip mode, and
only the values the form changed are touched, so comments, key order and the formatting
of untouched fields survive. A form carries the hash of the file it was loaded from;
saving over a file that has changed since is a ``Conflict`` and writes nothing.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from .. import pipeline
from ..errors import ContentError
from ..pipeline import bilaga_name, write_bytes


@dataclass(frozen=True)
class Field:
    """One text field of the form: its HTML id, its YAML path and the heading it gets."""

    id: str
    path: tuple[str, ...]
    label: str
    kind: str = "text"
    """``text``, ``date``, ``email``, ``tel`` or ``markdown`` (a text area)."""
    hint: str = ""


FIELDS = [Field(f.id, f.path, f.label, f.kind, f.hint) for f in pipeline.form_fields()]
"""The text fields, in the order of the document (declared on the model: ``arendefields``)."""

KEY_ORDER = pipeline.key_order()
"""Where a key the form adds goes among the keys already in the file."""

SUB_ORDER = pipeline.sub_order()


class Conflict(Exception):
    """Raised when the file changed on disk after the form was loaded; nothing was saved."""


def make_yaml() -> YAML:
    """Return the round-trip YAML reader/writer, set up to change as little as possible."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.allow_unicode = True
    return yaml


def file_version(data: bytes) -> str:
    """Return the hash a form carries of the file it was loaded from."""
    return hashlib.sha256(data).hexdigest()


def load_data(text: str, path: Path) -> CommentedMap:
    """Parse ``text`` round-trip; raise ContentError (Swedish, with the line) if it is broken."""
    try:
        data = make_yaml().load(text)
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ContentError(
            "filen går inte att läsa som YAML och kan inte redigeras i formuläret. Rätta den i en "
            "textredigerare (kontrollera indrag, kolon och citattecken).",
            file=path, line=mark.line + 1 if mark else None) from e
    if data is None:
        return CommentedMap()
    if not isinstance(data, CommentedMap):
        raise ContentError("filen ska innehålla fält på formen 'namn: värde'.", file=path)
    return data


def yaml_problem(raw: bytes) -> tuple[str, int | None] | None:
    """Return why a YAML file's bytes cannot be edited in the form (Swedish message, line), or None."""
    import yaml as pyyaml

    from ..pipeline import describe_yaml_error

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return ("filen är inte sparad som UTF-8: tecknen som inte går att läsa visas som �. Rätta dem och spara.",
                raw.count(b"\n", 0, e.start) + 1)
    try:
        pyyaml.safe_load(text)
    except pyyaml.YAMLError as e:
        return describe_yaml_error(e, text)
    try:
        load_data(text, Path("fil.yaml"))
    except ContentError as e:
        return e.message, e.line
    return None


def dump_data(data: CommentedMap) -> str:
    """Return ``data`` as YAML text."""
    buf = io.StringIO()
    make_yaml().dump(data, buf)
    return buf.getvalue()


# --- form state: what the form shows --------------------------------------------------------

State = dict[str, Any]
"""Field id -> text, plus ``forslag`` (list of text), ``underskrifter`` and ``bilagor``
(lists of dicts)."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def state_from_data(data: dict) -> State:
    """Return the form state of a file's data (an empty field for anything it lacks)."""
    state: State = {f.id: _text(_get(data, f.path)) for f in FIELDS}
    forslag = data.get("förslag_till_beslut")
    state["forslag"] = [_text(forslag)] if isinstance(forslag, str) else [_text(v) for v in forslag or []]
    state["underskrifter"] = [{"namn": _text(_get(u, ("namn",))), "titel": _text(_get(u, ("titel",)))}
                              for u in data.get("underskrifter") or []]
    state["bilagor"] = [{"titel": _text(_get(b, ("titel",))), "fil": _text(_get(b, ("fil",)))}
                        for b in data.get("bilagor") or []]
    return state


def _clean(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


LISTS_FIELD = "listor"
"""A hidden field naming the lists the form shows, so an emptied list is told from a missing one."""


def state_from_form(form) -> State:
    """Return the form state a submitted form carries (Starlette ``FormData``).

    Only what the form has is in the state: a request without a field leaves that value
    in the file as it is.
    """
    state: State = {f.id: _clean(str(form[f.id])) for f in FIELDS if f.id in form}
    lists = str(form.get(LISTS_FIELD, "")).split()
    if "forslag" in lists:
        state["forslag"] = [_clean(str(v)) for v in form.getlist("forslag")]
    if "underskrifter" in lists:
        state["underskrifter"] = [{"namn": _clean(str(n)), "titel": _clean(str(t))} for n, t in
                                  zip(form.getlist("underskrift_namn"), form.getlist("underskrift_titel"),
                                      strict=False)]
    if "bilagor" in lists:
        state["bilagor"] = [{"titel": _clean(str(t)), "fil": _clean(str(f))}
                            for t, f in zip(form.getlist("bilaga_titel"), form.getlist("bilaga_fil"), strict=False)]
    return state


def apply_action(state: State, action: str) -> None:
    """Apply a list button (``forslag-ny``, ``underskrift-upp-2``, ``bilaga-bort-1`` …) to ``state``."""
    m = re.fullmatch(r"(forslag|underskrift|bilaga)-(ny|upp|ned|bort)(?:-(\d+))?", action or "")
    if not m:
        return
    key = {"forslag": "forslag", "underskrift": "underskrifter", "bilaga": "bilagor"}[m[1]]
    if key not in state:
        return
    items = state[key]
    i = int(m[3]) - 1 if m[3] else -1
    if m[2] == "ny":
        items.append("" if key == "forslag" else {"namn": "", "titel": ""})
    elif 0 <= i < len(items):
        if m[2] == "bort":
            items.pop(i)
        elif m[2] == "upp" and i > 0:
            items[i - 1], items[i] = items[i], items[i - 1]
        elif m[2] == "ned" and i < len(items) - 1:
            items[i + 1], items[i] = items[i], items[i + 1]


# --- writing the state back into the file --------------------------------------------------


def _scalar(field_kind: str, value: str) -> Any:
    if field_kind == "date" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    if "\n" in value:
        return LiteralScalarString(value + "\n")
    return value


def _insert(mapping: CommentedMap, key: str, value: Any, order: list[str]) -> None:
    """Set ``mapping[key]``; a new key goes after the keys that come before it in ``order``."""
    if key in mapping:
        mapping[key] = value
        return
    rank = order.index(key) if key in order else len(order)
    pos = 0
    for index, existing in enumerate(mapping):
        if existing in order and order.index(existing) < rank:
            pos = index + 1
    mapping.insert(pos, key, value)


def _set(data: CommentedMap, path: tuple[str, ...], value: Any) -> None:
    parent = data
    for depth, key in enumerate(path[:-1]):
        if not isinstance(parent.get(key), dict):
            _insert(parent, key, CommentedMap(), KEY_ORDER if depth == 0 else [])
        parent = parent[key]
    _insert(parent, path[-1], value, SUB_ORDER.get(path[0], []) if len(path) > 1 else KEY_ORDER)


def _delete(data: CommentedMap, path: tuple[str, ...]) -> None:
    parents: list[dict] = [data]
    for key in path[:-1]:
        child = parents[-1].get(key)
        if not isinstance(child, dict):
            return
        parents.append(child)
    parents[-1].pop(path[-1], None)
    for depth in range(len(path) - 1, 0, -1):  # drop mappings the deletion left empty
        if not parents[depth]:
            parents[depth - 1].pop(path[depth - 1], None)


def apply_fields(data: CommentedMap, fields, state: State, set_value) -> None:
    """Write the single-value ``fields`` of ``state`` into ``data``: only what changed; empty removes the key.

    ``set_value(data, path, value)`` writes one value (the ärende's and the utskick's forms
    keep their keys in their own order).
    """
    for f in fields:
        if f.id not in state:
            continue
        new, old = state[f.id], _get(data, f.path)
        if new == _text(old):
            continue
        if new:
            set_value(data, f.path, _scalar(f.kind, new))
        else:
            _delete(data, f.path)


def apply_state(data: CommentedMap, state: State) -> None:
    """Write the form state into ``data``, touching only the values that changed.

    An empty field removes its key: in a single ärende the check then says it is missing,
    and in an organisation's file the organisation takes the shared text.
    """
    apply_fields(data, FIELDS, state, _set)
    current = state_from_data(data)
    lists = {
        "förslag_till_beslut": (None if "forslag" not in state else [v for v in state["forslag"] if v],
                                current["forslag"], lambda items: CommentedSeq(_scalar("markdown", v) for v in items)),
        "underskrifter": (None if "underskrifter" not in state else
                          [u for u in state["underskrifter"] if u["namn"] or u["titel"]],
                          current["underskrifter"], lambda items: _mappings(items, ("namn", "titel"))),
        "bilagor": (None if "bilagor" not in state else [b for b in state["bilagor"] if b["fil"]],
                    current["bilagor"], lambda items: _mappings(items, ("titel", "fil"))),
    }
    for key, (new, old, build) in lists.items():
        if new is None or new == old:
            continue
        if new:
            _insert(data, key, build(new), KEY_ORDER)
        else:
            data.pop(key, None)


def _mappings(items: list[dict], keys: tuple[str, ...]) -> CommentedSeq:
    seq = CommentedSeq()
    for item in items:
        m = CommentedMap()
        for k in keys:
            m[k] = item[k]
        seq.append(m)
    return seq


def render_text(text: str, state: State, path: Path) -> str:
    """Return the file's text with the form state written into it (nothing is saved)."""
    data = load_data(text, path)
    apply_state(data, state)
    return dump_data(data)


_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def save_state(path: Path, state: State, version: str) -> str:
    """Save the form state into ``path`` atomically; return the new version.

    Raise ``Conflict`` (and write nothing) if the file is not the one the form was loaded
    from.
    """
    with _locks_guard:
        lock = _locks.setdefault(path.resolve(), threading.Lock())
    with lock:
        current = path.read_bytes() if path.exists() else b""
        if file_version(current) != version:
            raise Conflict()
        new = render_text(current.decode("utf-8"), state, path).encode("utf-8")
        if new != current:
            write_bytes(path, new)
        return file_version(new)


def field_anchor(name: str | None) -> str | None:
    """Return the id of the form field a validation message names (``handläggare.e-post``)."""
    if not name:
        return None
    keys = [t for t in re.findall(r"[^.\[\]]+", name) if not t.isdigit()]
    index = next((int(t) for t in re.findall(r"\[(\d+)\]", name)), 1)
    if not keys:
        return None
    if keys[0] == "förslag_till_beslut":
        return f"forslag-{index}"
    if keys[0] == "underskrifter":
        return f"underskrift-{index}-{keys[1] if len(keys) > 1 and keys[1] in ('namn', 'titel') else 'namn'}"
    if keys[0] == "bilagor":
        return f"bilaga-{index}-titel"
    for depth in (len(keys), 1):
        for f in FIELDS:
            if f.path[:depth] == tuple(keys[:depth]):
                return f.id
    return None


SECTIONS = {"handlaggare": "Handläggare", "forslag": "Förslag till beslut", "bilaga": "Bilagor",
            "underskrift": "Underskrifter"}
"""The form's sections (fieldsets) by the first part of a field's id."""


def field_section(anchor: str) -> str | None:
    """Return the heading of the section of the form the field ``anchor`` is in, if any."""
    return SECTIONS.get(anchor.split("-")[0])


def field_label(name: str | None, bedomning_label: str = "Bedömning") -> str | None:
    """Return what the form calls a field the review names (``dimensioner.social``,
    ``förslag_till_beslut[2]``, ``bilagor[1].titel``): its label, not its YAML key."""
    if not name:
        return None
    keys = [t for t in re.findall(r"[^.\[\]]+", name) if not t.isdigit()]
    number = next(iter(re.findall(r"\[(\d+)\]", name)), None)
    if not keys:
        return None
    if keys[0] == "förslag_till_beslut":
        return f"Beslutspunkt {number}" if number else "Förslag till beslut"
    if keys[0] == "underskrifter":
        return f"Underskrift {number}" if number else "Underskrifter"
    if keys[0] == "bilagor":
        return bilaga_name(number) if number else "Bilagor"
    if keys[0] == "bedömning":
        return bedomning_label
    for f in FIELDS:
        if f.path == tuple(keys):
            return f.label
    return name
