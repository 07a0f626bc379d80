"""Reading YAML content files: every value as the text typed, with the line it came from.

The handläggare writes YAML by hand; when something is wrong the message must say on which
line. ``read_yaml`` returns the data together with a map from each value's path
(``("handläggare", "telefon")``, ``("bilagor", 0, "fil")``) to its line number.

Values are read as written: YAML 1.1's implicit types are switched off, so ``0701234567``,
``0755``, ``12:30``, ``1.10``, ``2023-10-02`` and ``yes`` all arrive as those exact strings
(the model converts and checks dates). The only exception is "nothing": an empty value, ``~``
or ``null`` is None, so an optional field may be left empty.

What a content file has no use for, and what would make reading slow or rendering fail, is
refused here with the line and field: anchors and aliases (``&x``, ``*x``: no alias bomb can
expand), explicit tags (``!!int``), nesting deeper than ``MAX_DEPTH``, more than ``MAX_NODES``
values, files larger than ``MAX_FILE_BYTES``, text longer than ``MAX_TEXT_CHARS`` and
characters Word's XML cannot hold. Together these keep any file to about a second and a few
MB (``benchmarks/bench_yaml.py``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ContentError
from .yamlerrors import describe_character, describe_yaml_error

Loc = tuple[str | int, ...]

MAX_FILE_BYTES = 500_000
"""Largest content file read (500 kB): two texts of the longest kind fit; read in about a second."""
MAX_TEXT_CHARS = 200_000
"""Longest text in one field (about 60 pages of running text)."""
MAX_DEPTH = 20
"""Deepest nesting of lists and fields (an ärende needs 4)."""
MAX_NODES = 10_000
"""Most values (texts, lists, fields) in one file: the registry has about 450. PyYAML reads
some 50 000 a second, so this cap, not the file size, bounds the time of a hostile file."""

STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"
_ALLOWED_TAGS = {STR_TAG, NULL_TAG, "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"}

UNWRITABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""Characters refused in text: control characters (all but tab and line feed, which Word
shows as tab and line break), the non-characters U+FFFE/U+FFFF and lone surrogates. XML 1.0
cannot hold most of them and the rest are invisible; none is ever meant."""

def _number(n: int) -> str:
    """Return ``n`` with a space between thousands, as Swedish writes it: ``200 000``."""
    return f"{n:,}".replace(",", " ")


def field_name(loc: Loc) -> str:
    """Return a loc as the user reads it: ``bilagor[2].fil`` (counting from 1)."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part + 1}]"
        else:
            name += ("." if name else "") + str(part)
    return name


@dataclass
class YamlDocument:
    """The data of one YAML file and the line number of every value in it."""

    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    files: dict[Loc, Path] = field(default_factory=dict)
    """For a merged document: the file each value came from (default: ``path``)."""

    def file_of(self, loc: Loc) -> Path:
        """Return the file that ``loc`` (or its nearest parent) came from."""
        loc = tuple(loc)
        while loc:
            if loc in self.files:
                return self.files[loc]
            loc = loc[:-1]
        return self.path

    def line_of(self, loc: Loc) -> int | None:
        """Return the line of ``loc``, or of its nearest parent that has one."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), None)


class _ContentLoader(yaml.SafeLoader):
    """PyYAML's safe loader reading every scalar as text and refusing anchors, aliases and depth."""

    yaml_implicit_resolvers: dict = {}

    def __init__(self, text: str, path: Path):
        super().__init__(text)
        self.path = path
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent, index):
        """Compose one node, refusing anchors, aliases and nesting beyond MAX_DEPTH."""
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise ContentError(
                "värdet börjar med '*', som YAML läser som en hänvisning till ett ankare. "
                "Hänvisningar används inte i innehållsfiler: skriv ut värdet där det behövs, "
                "eller sätt citattecken runt texten om '*' hör till den (t.ex. *kursiv* i Markdown).",
                file=self.path, line=line,
            )
        if event.anchor is not None:
            raise ContentError(
                "värdet börjar med '&', som YAML läser som ett ankare (en hänvisningspunkt). "
                "Ankare används inte i innehållsfiler: ta bort det, eller sätt citattecken runt "
                "texten om '&' hör till den.",
                file=self.path, line=line,
            )
        if self.depth >= MAX_DEPTH:
            raise ContentError(
                f"filen är nästlad i mer än {MAX_DEPTH} nivåer (listor och fält inuti varandra). "
                "Ett ärende behöver bara några få: kontrollera indrag och hakparenteser.",
                file=self.path, line=line,
            )
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ContentError(
                f"filen har fler än {_number(MAX_NODES)} värden (texter, listor och fält). "
                "Ett ärende har några hundra: dela upp innehållet eller lägg det i en bilaga.",
                file=self.path, line=line,
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_ContentLoader.add_implicit_resolver(NULL_TAG, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])


def read_yaml(path: Path) -> YamlDocument:
    """Read ``path`` as YAML, every value as text; raise ContentError with the line of a problem."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ContentError(
                f"filen är {_number(size)} byte; en innehållsfil får vara högst "
                f"{_number(MAX_FILE_BYTES)} byte. Lägg långa texter i en bilaga.",
                file=path,
            )
        # One spelling of every letter: "ä" typed on macOS (a + combining mark, NFD) is the "ä" of
        # Windows (NFC), so names, ids and keys compare equal whichever machine wrote them.
        text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ContentError("filen finns inte. Kontrollera sökvägen.", file=path) from e
    except UnicodeDecodeError as e:
        raise ContentError(
            "filen är inte sparad som UTF-8. Spara den som UTF-8 i din textredigerare.", file=path
        ) from e
    doc = YamlDocument(path=path, data=None)
    try:
        loader = _ContentLoader(text, path)  # checks the characters of the whole file
        try:
            node = loader.get_single_node()
            if node is not None:
                _record_lines(node, (), doc)
                doc.data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        message, line = describe_yaml_error(e, text)
        raise ContentError(message, file=path, line=line) from e
    return doc


def _record_lines(node: yaml.Node, loc: Loc, doc: YamlDocument) -> None:
    """Record the line of ``node`` and its children in ``doc.lines``; refuse what cannot be used.

    Refused: duplicate keys, keys that are not text, explicit tags, too long text and
    characters Word cannot hold.
    """
    line = node.start_mark.line + 1
    doc.lines.setdefault(loc, line)
    if node.tag not in _ALLOWED_TAGS:
        raise ContentError(
            f"taggen '{node.tag.replace('tag:yaml.org,2002:', '!!')}' används inte i innehållsfiler: "
            "varje värde läses som den text som står där. Ta bort taggen (den börjar med '!').",
            file=doc.path, line=line, field=field_name(loc) or None,
        )
    if isinstance(node, yaml.ScalarNode):
        _check_text(node.value, loc, line, doc)
    elif isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != STR_TAG:
                raise ContentError(
                    "ett fältnamn saknas eller är inte text. Skriv fält på formen 'namn: värde'.",
                    file=doc.path, line=key_line,
                )
            key = key_node.value
            _check_text(key, loc, key_line, doc)  # the parent names the field: the key may be unprintable
            if key in seen:
                raise ContentError(
                    f"nyckeln '{key}' står två gånger (första gången på rad {seen[key]}). "
                    "Ta bort den ena.",
                    file=doc.path,
                    line=key_line,
                )
            seen[key] = key_line
            doc.lines[loc + (key,)] = key_line
            _record_lines(value_node, loc + (key,), doc)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _record_lines(item, loc + (i,), doc)


def _check_text(text: str, loc: Loc, line: int, doc: YamlDocument) -> None:
    """Refuse ``text`` if it is too long or holds a character Word cannot hold."""
    where: dict[str, Any] = {"file": doc.path, "line": line, "field": field_name(loc) or None}
    if len(text) > MAX_TEXT_CHARS:
        raise ContentError(
            f"texten är {_number(len(text))} tecken; ett fält får ha högst "
            f"{_number(MAX_TEXT_CHARS)} tecken. Korta texten eller lägg den i en bilaga.",
            **where,
        )
    bad = UNWRITABLE.search(text)
    if bad:
        raise ContentError(
            f"texten innehåller tecknet {describe_character(bad.group())} (tecken nr {bad.start() + 1}), "
            "som inte kan stå i ett Word-dokument. Ta bort det (i citattecken skrivs det "
            "t.ex. som \\v, \\f, \\0 eller \\u…).",
            **where,
        )


def merge_documents(base: YamlDocument, override: YamlDocument) -> YamlDocument:
    """Return ``base`` with ``override`` laid over it, remembering where each value came from.

    Mappings are merged key by key (so an override may change one sub-field); any other
    value, lists included, is replaced whole.
    """
    files = {loc: base.path for loc in base.lines if loc}
    lines = dict(base.lines)
    for loc, line in override.lines.items():
        if loc:
            lines[loc] = line
            files[loc] = override.path
    data = _deep_merge(base.data or {}, override.data or {})
    return YamlDocument(path=base.path, data=data, lines=lines, files=files)


def _deep_merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _deep_merge(base[key], value) if key in base else value
        return merged
    return override


def changed_keys(base: Any, override: Any, prefix: str = "") -> list[str]:
    """Return the dotted keys that ``override`` sets, as a reader of ``base`` sees them.

    A mapping that ``base`` also has is described key by key (``dimensioner.social``);
    anything else is named whole (``handläggare``).
    """
    if not (isinstance(override, dict) and isinstance(base, dict)):
        return [prefix] if prefix else []
    keys = []
    for key, value in override.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        keys += changed_keys(base.get(key), value, name) if key in base else [name]
    return keys
