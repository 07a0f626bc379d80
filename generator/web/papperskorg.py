"""The papperskorg: what the page removes is moved here, never deleted, and can be restored.

Each removed thing is one folder under ``STATE/papperskorg/`` named by the time and a random
tail, holding what was removed (``innehall/``: an ärende's whole folder, or one bilaga file)
and ``post.json`` saying what it was and where it came from.
"""

from __future__ import annotations

import json
import secrets
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import ContentError

TRASH = "papperskorg"
META = "post.json"
CONTENT = "innehall"


@dataclass(frozen=True)
class Item:
    """One removed ärende or bilaga."""

    id: str
    typ: str
    """``arende`` or ``bilaga``."""
    arende: str
    """The ärende's folder name (the one the bilaga belonged to)."""
    fil: str | None
    """A bilaga's path in the ärende (``bilagor/x.pdf``)."""
    titel: str | None
    tid: str
    """When it was removed, ``YYYY-MM-DD HH:MM``."""
    anvandare: str | None


def trash_folder(state: Path) -> Path:
    return state / TRASH


def _new_slot(state: Path) -> tuple[str, Path]:
    item_id = f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    slot = trash_folder(state) / item_id
    slot.mkdir(parents=True, mode=0o700)
    return item_id, slot


def _write_meta(slot: Path, **meta) -> None:
    (slot / META).write_text(json.dumps({**meta, "tid": f"{datetime.now():%Y-%m-%d %H:%M}"}, ensure_ascii=False),
                             encoding="utf-8")


def trash_bilaga(state: Path, arende: Path, fil: str, titel: str | None, user: str | None) -> str:
    """Move the bilaga ``fil`` of the ärende folder ``arende`` to the papperskorg; return its id."""
    source = arende / fil
    item_id, slot = _new_slot(state)
    (slot / CONTENT).mkdir()
    shutil.move(str(source), str(slot / CONTENT / source.name))
    _write_meta(slot, typ="bilaga", arende=arende.name, fil=fil, titel=titel, anvandare=user)
    return item_id


def trash_arende(state: Path, arende: Path, user: str | None) -> str:
    """Move the whole ärende folder to the papperskorg; return its id."""
    item_id, slot = _new_slot(state)
    shutil.move(str(arende), str(slot / CONTENT))
    _write_meta(slot, typ="arende", arende=arende.name, fil=None, titel=None, anvandare=user)
    return item_id


def list_items(state: Path) -> list[Item]:
    """Return what is in the papperskorg, newest first."""
    folder = trash_folder(state)
    items = []
    for slot in sorted(folder.iterdir(), reverse=True) if folder.is_dir() else []:
        item = read_item(state, slot.name)
        if item is not None:
            items.append(item)
    return items


def read_item(state: Path, item_id: str) -> Item | None:
    """Return the papperskorg's item ``item_id``, or None."""
    if not item_id.replace("-", "").isalnum():
        return None
    slot = trash_folder(state) / item_id
    try:
        meta = json.loads((slot / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Item(id=item_id, typ=meta.get("typ", ""), arende=meta.get("arende", ""), fil=meta.get("fil"),
                titel=meta.get("titel"), tid=meta.get("tid", ""), anvandare=meta.get("anvandare"))


def restore_arende(state: Path, item: Item, arenden: Path) -> Path:
    """Move a removed ärende back to ``arenden``; refuse if a folder of its name is there now."""
    target = arenden / item.arende
    if target.exists():
        raise ContentError(f"det finns redan ett ärende som heter {item.arende}. Byt namn på det först, eller "
                           "ta bort det, och återställ sedan.")
    slot = trash_folder(state) / item.id
    shutil.move(str(slot / CONTENT), str(target))
    shutil.rmtree(slot)
    return target


def restore_bilaga(state: Path, item: Item, arende: Path) -> str:
    """Move a removed bilaga's file back into the ärende's bilagor/ (a free name); return its new path."""
    slot = trash_folder(state) / item.id
    files = [p for p in (slot / CONTENT).iterdir() if p.is_file()]
    if not files:
        raise ContentError("papperskorgen saknar filen.")
    source = files[0]
    folder = arende / Path(item.fil or f"bilagor/{source.name}").parent
    folder.mkdir(parents=True, exist_ok=True)
    target, n = folder / source.name, 2
    while target.exists():
        target, n = folder / f"{source.stem}-{n}{source.suffix}", n + 1
    shutil.move(str(source), str(target))
    shutil.rmtree(slot)
    return target.relative_to(arende).as_posix()
