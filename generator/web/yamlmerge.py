"""Write a page's changes into a YAML file and keep the rest as the user wrote it.

The sammanträde and protokoll pages work on a file's values as text (``read_yaml``) and
produce the values they want written. ``write_changes`` compares those with the values
the page started from and changes, in a round-trip copy of the file (ruamel), only what
differs: comments, key order, quoting and the points the page did not touch stay as they
were. A point moved up or down keeps its own comments; a new key is put where ``order``
says it goes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from ..pipeline import write_bytes
from .forms import dump_data, load_data


def write_changes(file: Path, before: dict, after: dict, order: tuple[str, ...], header: str) -> None:
    """Write ``after`` into ``file``, changing only what differs from ``before`` (both as read by ``read_yaml``).

    ``header`` (comment lines) starts a file that has no comment of its own at the top.
    """
    kept = load_data(file.read_text(encoding="utf-8"), file)
    merged = _merge(before, after, kept, order)
    text = dump_data(merged)
    if not text.lstrip().startswith("#"):
        text = header + text
    write_bytes(file, text.encode("utf-8"))


def _merge(before: Any, after: Any, kept: Any, order: tuple[str, ...] = ()) -> Any:
    """Return ``kept`` (the round-trip node) changed from ``before`` to ``after``, or ``after`` itself."""
    if before == after:
        return kept
    if isinstance(after, dict) and isinstance(before, dict) and isinstance(kept, CommentedMap):
        for key in [k for k in kept if k not in after]:
            del kept[key]
        for key, value in after.items():
            if key in kept and before.get(key) == value:
                continue
            if key in kept:
                kept[key] = merged = _merge(before.get(key), value, kept[key])
                if isinstance(merged, CommentedSeq) and merged.ca.comment and merged.ca.comment[1]:
                    kept.ca.items.setdefault(key, [None, None, None, None])[3] = merged.ca.comment[1]  # above it
            else:
                kept.insert(_position(kept, key, order), key, value)
        return kept
    if isinstance(after, list) and isinstance(before, list) and isinstance(kept, CommentedSeq) \
            and len(before) == len(kept):
        leading = {j: _take_leading(kept, j) for j in range(len(kept))}  # each item's heading comment
        tail = _take_comment_after(kept, len(kept) - 1) if kept else None  # what follows the list
        unused = list(range(len(before)))
        items = CommentedSeq()
        items.ca.comment = kept.ca.comment
        for index, value in enumerate(after):
            same = next((j for j in unused if before[j] == value), None)  # a point moved: its own node
            if same is None and index in unused:
                same = index  # changed in place: merge into the node at its place
            if same is None:
                items.append(value)
                continue
            unused.remove(same)
            items.append(_merge(before[same], value, kept[same]))
            heading = leading[same]
            if heading and len(items) > 1:
                _add_comment_after(items, len(items) - 2, heading)
            elif heading:  # now the first item: its comment above the list's first line
                top = items.ca.comment[1] if items.ca.comment and items.ca.comment[1] else []
                items.ca.comment = [None, [*top, CommentToken(heading, CommentMark(0), None)]]
        if tail and items:
            _add_comment_after(items, len(items) - 1, tail)
        return items
    return after


def _position(mapping: CommentedMap, key: str, order: tuple[str, ...]) -> int:
    """Return where ``key`` goes among ``mapping``'s keys: after the last one ``order`` puts before it."""
    if key not in order:
        return len(mapping)
    earlier = set(order[:order.index(key)])
    position = 0
    for index, existing in enumerate(mapping):
        if existing in earlier:
            position = index + 1
    return position


# --- comments between the items of a list ---------------------------------------------------
# ruamel keeps a comment line above an item either as that item's own comment (slot 1 of
# the list's entry for it) or as the end of the item before it (slot 0 of a list's entry,
# slot 2 of a mapping's, on that item's deepest last value). The comment above an item is
# taken from either place before the list is rebuilt, and put back after the item that now
# precedes it; a comment at the end of the line of a value stays with that value.


def _take_leading(seq: CommentedSeq, index: int) -> str | None:
    """Remove and return the comment lines above item ``index`` of ``seq`` (None for the first item)."""
    if index == 0:
        return None
    own = seq.ca.items.get(index)
    text = ""
    if own and own[1]:
        text = "".join(token.value for token in own[1])
        own[1] = None
    return (_take_comment_after(seq, index - 1) or "") + text or None


def _slot(container: Any, key: Any) -> tuple[list, int] | None:
    """Return the comment entry and slot at the end of ``container[key]`` (its deepest last value)."""
    value = container[key]
    if isinstance(value, (CommentedMap, CommentedSeq)) and len(value) and not value.fa.flow_style():
        last = len(value) - 1 if isinstance(value, CommentedSeq) else list(value)[-1]
        return _slot(value, last)
    entry = container.ca.items.setdefault(key, [None, None, None, None])
    return entry, 0 if isinstance(container, CommentedSeq) else 2


def _take_comment_after(seq: CommentedSeq, index: int) -> str | None:
    """Remove and return the whole comment lines after item ``index`` (its end-of-line comment stays)."""
    entry, slot = _slot(seq, index)  # type: ignore[misc]
    token = entry[slot]
    if token is None:
        return None
    if token.value.startswith("#"):  # an end-of-line comment first: it stays
        line, newline, rest = token.value.partition("\n")
    else:  # the value's own line end first
        line, newline, rest = "", "", token.value.removeprefix("\n")
    if not rest.strip():
        return None
    token.value = line + newline
    if not token.value:
        entry[slot] = None
    return rest


def _add_comment_after(seq: CommentedSeq, index: int, text: str) -> None:
    """Put the comment lines ``text`` after item ``index`` of ``seq``."""
    entry, slot = _slot(seq, index)  # type: ignore[misc]
    if entry[slot] is None:
        entry[slot] = CommentToken("\n" + text, CommentMark(0), None)
    else:
        entry[slot].value = entry[slot].value + text
