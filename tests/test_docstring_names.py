"""The functions that docstrings and the README name exist (a rename leaves no stale pointer)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

from conftest import REPO

GENERATOR = REPO / "generator"
MODULES = {p.stem: ".".join(p.relative_to(REPO).with_suffix("").parts)
           for p in GENERATOR.rglob("*.py") if p.stem != "__init__"}
CALL = re.compile(r"([A-Za-z_][\w.]*)\(.*\)")


def named_in(path: Path) -> list[tuple[int, str]]:
    """Return (line, ``name``) for every code reference in ``path``: ``x`` in Python, `x` in Markdown."""
    text = path.read_text(encoding="utf-8")
    pattern = r"``([^`\n]+)``" if path.suffix == ".py" else r"(?<!`)`([^`\n]+)`(?!`)"
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in re.finditer(pattern, text)]


def missing(path: Path, reference: str) -> str | None:
    """Return why ``reference`` names nothing, or None if it is not a name of ours or exists."""
    call = CALL.fullmatch(reference)
    dotted = call.group(1) if call else reference
    if not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*", dotted):
        return None  # an expression (``server.should_exit = True``), not a name
    parts = dotted.split(".")
    if len(parts) >= 2 and parts[0] in MODULES and not (len(parts) == 2 and parts[1] == "py"):
        target = importlib.import_module(MODULES[parts[0]])
        for part in parts[1:]:
            if not hasattr(target, part):
                return f"{dotted}: no {part}"
            target = getattr(target, part)
        return None
    if call and len(parts) == 1 and path.suffix == ".py":
        module = importlib.import_module(MODULES[path.stem]) if path.stem in MODULES else None
        anywhere = [m for m in MODULES.values() if hasattr(importlib.import_module(m), parts[0])]
        if (not (module is not None and hasattr(module, parts[0])) and not anywhere and _is_ours(parts[0])
                and parts[0] not in _parameters(path)):
            return f"{parts[0]}(): defined nowhere in generator/"
    return None


def _parameters(path: Path) -> set[str]:
    """Return the names of the parameters of every function in ``path`` (callbacks are named so)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {arg.arg for node in ast.walk(tree) if isinstance(node, ast.arguments)
            for arg in [*node.posonlyargs, *node.args, *node.kwonlyargs]}


def _is_ours(name: str) -> bool:
    """Return True if ``name`` looks like one of our verb_noun functions (not a library's)."""
    return "_" in name.strip("_") and name.islower()


def test_every_named_function_exists():
    problems = [
        f"{path.relative_to(REPO)}:{line}: {why}"
        for path in [*sorted(GENERATOR.rglob("*.py")), REPO / "README.md"]
        for line, reference in named_in(path)
        if (why := missing(path, reference))
    ]
    assert problems == []


def test_the_check_finds_a_stale_name(tmp_path: Path):
    stale = tmp_path / "stale.py"
    stale.write_text('"""Uses ``runner.render_all`` and ``make_everything()``; ``runner.run_plan`` exists."""\n')
    found = [missing(stale, reference) for _, reference in named_in(stale)]
    assert found == ["runner.render_all: no render_all", "make_everything(): defined nowhere in generator/", None]
