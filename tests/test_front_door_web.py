"""The web face comes in by the front door: ``generator.pipeline``.

Every module of ``generator/web/`` imports from ``generator`` only ``pipeline``, ``errors``
and the web's own modules (anywhere in the module: at its top, inside a function, under
``TYPE_CHECKING``), never a room of the pipeline package (``generator.pipeline.papers``).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WEB = REPO / "generator" / "web"

OPEN = {"generator.pipeline", "generator.errors"}
"""What every module of the web page may import from the library."""


def library_imports(source: str, package: str = "generator.web") -> set[str]:
    """Return the modules of ``generator`` outside ``generator.web`` that ``source`` imports (anywhere in it)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            if node.module is None:  # from .. import pipeline: the names are modules
                found |= {f"{module}.{alias.name}" for alias in node.names}
            else:
                found.add(module)
    return {m for m in found if (m == "generator" or m.startswith("generator."))
            and not (m == "generator.web" or m.startswith("generator.web."))}


def web_modules() -> dict[str, set[str]]:
    return {p.stem: library_imports(p.read_text(encoding="utf-8")) for p in sorted(WEB.glob("*.py"))}


def test_the_web_imports_only_the_front_door():
    beyond = {name: sorted(imported - OPEN) for name, imported in web_modules().items() if imported - OPEN}
    assert beyond == {}, f"import from the library through generator.pipeline (add what is missing there): {beyond}"


def test_the_walker_sees_relative_absolute_and_nested_imports():
    source = ("from .. import pipeline, errors\nfrom ..content import X\nfrom . import forms\nfrom .pages import page\n"
              "import generator.review\nfrom ..pipeline import ARENDE_FILE\nfrom ..pipeline.papers import run\n\n"
              "def f():\n    from ..bundle import check_pdf\n")
    assert library_imports(source) == {"generator.pipeline", "generator.errors", "generator.content",
                                       "generator.review", "generator.bundle", "generator.pipeline.papers"}


def test_the_web_asks_pipeline_for_the_layout_of_out():
    """``out/``'s layout (the bilaga cache, the manifest) is the library's: the web asks ``pipeline.output_folder``."""
    spelled = {p.stem: [name for name in ('".cache"', '"manifest.json"') if name in p.read_text(encoding="utf-8")]
               for p in sorted(WEB.glob("*.py"))}
    assert {stem: names for stem, names in spelled.items() if names} == {}
