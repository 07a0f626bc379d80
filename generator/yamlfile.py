"""Reading YAML content files so that every value keeps the line it came from.

The handläggare writes YAML by hand; when something is wrong the message must say on which
line. ``read_yaml`` returns the data together with a map from each value's path
(``("handläggare", "telefon")``, ``("bilagor", 0, "fil")``) to its line number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ContentError

Loc = tuple[str | int, ...]


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


def read_yaml(path: Path) -> YamlDocument:
    """Read ``path`` as YAML; raise ContentError with the line of a syntax error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ContentError("filen finns inte. Kontrollera sökvägen.", file=path) from e
    except UnicodeDecodeError as e:
        raise ContentError(
            "filen är inte sparad som UTF-8. Spara den som UTF-8 i din textredigerare.", file=path
        ) from e
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        column = f" (kolumn {mark.column + 1})" if mark else ""
        raise ContentError(
            f"YAML-syntaxfel{column}: {e.problem or e.context}. Kontrollera indrag, kolon och "
            "citattecken på den raden och raden före.",
            file=path,
            line=mark.line + 1 if mark else None,
        ) from e
    except yaml.YAMLError as e:
        raise ContentError(f"YAML-syntaxfel: {e}", file=path) from e

    doc = YamlDocument(path=path, data=None)
    if node is None:
        return doc
    _record_lines(node, (), doc)
    loader = yaml.SafeLoader("")
    try:
        doc.data = loader.construct_document(node)
    except yaml.constructor.ConstructorError as e:
        mark = e.problem_mark
        raise ContentError(
            f"ogiltigt värde ({e.problem}).", file=path, line=mark.line + 1 if mark else None
        ) from e
    finally:
        loader.dispose()
    return doc


def _record_lines(node: yaml.Node, loc: Loc, doc: YamlDocument) -> None:
    """Record the line of ``node`` and its children in ``doc.lines``; reject duplicate keys."""
    doc.lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ContentError(
                    f"nyckeln '{key}' står två gånger (första gången på rad {seen[key]}). "
                    "Ta bort den ena.",
                    file=doc.path,
                    line=line,
                )
            seen[key] = line
            doc.lines[loc + (key,)] = line
            _record_lines(value_node, loc + (key,), doc)
            doc.lines[loc + (key,)] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _record_lines(item, loc + (i,), doc)


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
