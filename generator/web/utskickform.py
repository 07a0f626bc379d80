"""The utskick (följebrev) form: its fields, its recipients from the registry, round-trip saving.

Like the ärende form (``forms``): utskick.yaml is read and written round-trip, only changed
values are touched, and a form saved over a file that changed since is a ``forms.Conflict``.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from ruamel.yaml.comments import CommentedSeq

from ..pipeline import write_bytes
from .forms import (
    Conflict,
    Field,
    State,
    _clean,
    _get,
    _insert,
    _set,
    _text,
    apply_fields,
    dump_data,
    file_version,
    load_data,
)

FIELDS = [
    Field("rubrik", ("rubrik",), "Rubrik"),
    Field("datum", ("datum",), "Datum", "date", "Datum på formen ÅÅÅÅ-MM-DD."),
    Field("avsandare", ("avsändare",), "Avsändare", hint="Den förvaltning eller det kontor som skickar brevet."),
    Field("avsandare-epost", ("avsändare_e-post",), "Avsändarens e-post", "email",
          "Behövs bara om breven ska skickas med e-post."),
    Field("svara-till", ("svara_till",), "Svar till (e-post)", "email",
          "Valfritt: om svaren ska till en annan adress."),
    Field("underskrift-namn", ("underskrift", "namn"), "Namn"),
    Field("underskrift-titel", ("underskrift", "titel"), "Titel"),
    Field("brodtext", ("brödtext",), "Brödtext", "markdown",
          "Kopplingsfält som fylls i per mottagare: {{ organisation }}, {{ mottagare }}, {{ förvaltning }}, "
          "{{ beslutsorgan }}."),
]
"""The text fields of the utskick form, in the order of the letter."""

GROUPS = {"alla": "Alla organisationer", "bolag": "Alla bolag", "nämnder": "Alla nämnder"}
CHOSEN = "valda"
"""The ``grupp`` value for recipients chosen one by one."""

KEY_ORDER = ["avsändare", "avsändare_e-post", "svara_till", "datum", "rubrik", "mottagare", "utom", "underskrift",
             "brödtext"]

SCAFFOLD = """# Följebrev: ett brev per mottagare. Brödtexten är Markdown.
avsändare: Stadsledningskontoret
datum: {datum}
rubrik: ""
mottagare: alla
underskrift:
  namn: ""
  titel: ""
brödtext: |
  Skriv brevets text här.
"""


def new_utskick_text(today: date | None = None) -> str:
    """Return the text of a new utskick.yaml (to be filled in on the page)."""
    return SCAFFOLD.format(datum=(today or date.today()).isoformat())


def state_from_data(data: dict) -> State:
    """Return the form state of an utskick's data."""
    state: State = {f.id: _text(_get(data, f.path)) for f in FIELDS}
    named = data.get("mottagare")  # a group, or a list of ids
    if isinstance(named, str):
        state["grupp"], state["valda"] = named, []
    else:
        state["grupp"], state["valda"] = CHOSEN, [str(m) for m in named or []]
    state["utom"] = [str(u) for u in data.get("utom") or []]
    return state


def state_from_form(form) -> State:
    state: State = {f.id: _clean(str(form[f.id])) for f in FIELDS if f.id in form}
    state["grupp"] = str(form.get("grupp") or "alla")
    state["valda"] = [str(v) for v in form.getlist("valda")]
    state["utom"] = [str(v) for v in form.getlist("utom")]
    return state


def apply_state(data, state: State) -> None:
    apply_fields(data, FIELDS, state, _set_key)
    current = state_from_data(data)
    if (state["grupp"], state["valda"]) != (current["grupp"], current["valda"]):
        _insert(data, "mottagare", state["grupp"] if state["grupp"] != CHOSEN else CommentedSeq(state["valda"]),
                KEY_ORDER)
    utom = state["utom"] if state["grupp"] != CHOSEN else []
    if utom != current["utom"]:
        if utom:
            seq = CommentedSeq(utom)
            seq.fa.set_flow_style()
            _insert(data, "utom", seq, KEY_ORDER)
        else:
            data.pop("utom", None)


def _set_key(data, path: tuple[str, ...], value) -> None:
    if len(path) == 1:
        _insert(data, path[0], value, KEY_ORDER)
    else:
        _set(data, path, value)


_lock = threading.Lock()


def save_state(path: Path, state: State, version: str) -> str:
    """Save the form state into utskick.yaml atomically; ``Conflict`` if it changed since loaded."""
    with _lock:
        current = path.read_bytes()
        if file_version(current) != version:
            raise Conflict()
        data = load_data(current.decode("utf-8"), path)
        apply_state(data, state)
        new = dump_data(data).encode("utf-8")
        if new != current:
            write_bytes(path, new)
        return file_version(new)


def field_anchor(name: str | None) -> str | None:
    """Return the id of the form field a validation message of utskick.yaml names."""
    if not name:
        return None
    keys = tuple(k for k in name.replace("[", ".").replace("]", "").split(".") if k and not k.isdigit())
    if keys[:1] in (("mottagare",), ("utom",)):
        return "mottagare"
    for f in FIELDS:
        if f.path == keys[:len(f.path)] or f.path[:len(keys)] == keys:
            return f.id
    return None


def field_label(anchor: str | None) -> str | None:
    if anchor == "mottagare":
        return "Mottagare"
    for f in FIELDS:
        if f.id == anchor:
            return f"{f.label} (under Underskrift)" if anchor.startswith("underskrift") else f.label
    return None
