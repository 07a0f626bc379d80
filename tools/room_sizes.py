"""Print the rooms of ``generator/`` that are too big and the import circles between them.

    python tools/room_sizes.py            # modules over 450 lines, then circles
    python tools/room_sizes.py --limit 300 --graph

An import is an edge from the importing module to the imported one, read with ``ast``
(nothing is imported). Imports under ``if TYPE_CHECKING:`` are not edges (they never run);
imports inside a function are, and are marked "lazy": a circle closed by a lazy import
does not fail at import time, but the two modules still cannot be understood apart.
Exit status: 0, also when something is printed (this is a report, not a gate).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "generator"
LIMIT = 450


def module_name(path: Path, root: Path = ROOT) -> str:
    """Return the dotted name of the module at ``path`` (``generator/web/app.py`` -> ``generator.web.app``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def iter_modules(root: Path = ROOT, package: str = PACKAGE):
    """Yield ``(name, path)`` for every module of ``package`` under ``root``."""
    for path in sorted((root / package).rglob("*.py")):
        yield module_name(path, root), path


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk_imports(body, lazy: bool):
    """Yield ``(node, lazy)`` for every import statement that runs, skipping TYPE_CHECKING blocks."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, lazy
        elif isinstance(node, ast.If) and _is_type_checking(node):
            yield from _walk_imports(node.orelse, lazy)
        else:
            inner = lazy or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from _walk_imports(list(ast.iter_child_nodes(node)), inner)


def imports_of(name: str, path: Path, known: set[str]) -> dict[str, bool]:
    """Return the package modules ``name`` imports, each mapped to True when only lazily."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    found: dict[str, bool] = {}

    def add(target: str, lazy: bool) -> None:
        while target and target not in known:  # `from .x import y` where y is a name, not a module
            target = target.rpartition(".")[0]
        if target and target != name:
            found[target] = found.get(target, True) and lazy

    for node, lazy in _walk_imports(tree.body, False):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, lazy)
            continue
        if node.level:
            base = here.split(".")
            base = base[: len(base) - (node.level - 1)]
            stem = ".".join(base + ([node.module] if node.module else []))
        else:
            stem = node.module or ""
        for alias in node.names:
            full = f"{stem}.{alias.name}"
            add(full if full in known else stem, lazy)
    return found


def import_graph(root: Path = ROOT, package: str = PACKAGE) -> dict[str, dict[str, bool]]:
    """Return ``{module: {imported module: lazy}}`` for every module of ``package``."""
    modules = dict(iter_modules(root, package))
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def find_circles(graph: dict[str, dict[str, bool]]) -> list[list[str]]:
    """Return every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def oversized(limit: int = LIMIT, root: Path = ROOT, package: str = PACKAGE) -> list[tuple[str, int]]:
    """Return ``(module, lines)`` for every module of ``package`` longer than ``limit`` lines, longest first."""
    sizes = [(name, len(path.read_text(encoding="utf-8").splitlines())) for name, path in iter_modules(root, package)]
    return sorted(((n, s) for n, s in sizes if s > limit), key=lambda item: -item[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=LIMIT, help="lines a module may have (default %(default)s)")
    parser.add_argument("--graph", action="store_true", help="also print every module's imports")
    args = parser.parse_args(argv)
    big = oversized(args.limit)
    print(f"modules over {args.limit} lines: {len(big)}")
    for name, lines in big:
        print(f"  {lines:5d}  {name}")
    graph = import_graph()
    circles = find_circles(graph)
    print(f"import circles: {len(circles)}")
    for group in circles:
        members = set(group)
        edges = [f"{a} -> {b}{' (lazy)' if graph[a][b] else ''}"
                 for a in group for b in sorted(graph[a]) if b in members]
        print("  " + ", ".join(group))
        for edge in edges:
            print(f"      {edge}")
    if args.graph:
        for name in sorted(graph):
            print(f"{name}: {', '.join(sorted(graph[name]))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
