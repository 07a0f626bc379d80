"""The web face comes in by one door: `web/actions.py` (and it by `generator.pipeline`).

``generator/web/*`` may import from ``generator`` only ``pipeline``, ``errors`` and its own
modules. ``web/actions.py`` is the web's door into the library: what it still imports
besides (``DOOR``) is what is left to move behind ``pipeline``. What the other web modules
still import besides (``LEFT``) is what is left to move behind ``actions``. Both lists only
shrink: an entry that is no longer imported fails the test until it is removed.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WEB = REPO / "generator" / "web"

OPEN = {"generator.pipeline", "generator.errors"}
"""What every module of the web page may import from the library."""

DOOR = {
    "generator.cache", "generator.content", "generator.jobs", "generator.mail", "generator.model", "generator.outfolder",
    "generator.readability", "generator.review", "generator.runreport", "generator.scaffold", "generator.send",
    "generator.templates", "generator.convert", "generator.bundleparts", "generator.files", "generator.wording",
    "generator.agenda", "generator.expediering", "generator.minutes", "generator.protokollet", "generator.sammantrade",
    "generator.protokollcheck", "generator.protokollscaffold",
    "generator.smtpsettings", "generator.yamlfile",
    "generator.findings",  # STOPP, VARNING: moved out of review (a split, not a new way in)
}
"""What ``web/actions.py`` still imports from the library besides ``OPEN``: to move behind ``pipeline``."""

LEFT: dict[str, set[str]] = {
    # actions imports forms (for the new ärende's YAML), so forms cannot import actions without a circle
    "forms": {"generator.bilagor", "generator.files", "generator.yamlerrors"},
}
"""What the other web modules still import from the library besides ``OPEN``: to move behind ``actions``."""


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


def test_the_web_reaches_the_library_only_through_its_door():
    beyond = {}
    for name, imported in web_modules().items():
        allowed = OPEN | (DOOR if name == "actions" else LEFT.get(name, set()))
        if imported - allowed:
            beyond[name] = sorted(imported - allowed)
    assert beyond == {}, ("import from the library through web/actions.py (and actions through pipeline), "
                          f"not directly: {beyond}")


def test_what_is_left_to_move_is_still_imported():
    """Remove an entry from DOOR or LEFT when its import is gone, so the lists show what is left."""
    modules = web_modules()
    gone = {name: sorted(left - modules.get(name, set())) for name, left in [("actions", DOOR), *LEFT.items()]}
    assert {name: g for name, g in gone.items() if g} == {}


def test_the_walker_sees_relative_absolute_and_nested_imports():
    source = ("from .. import pipeline, errors\nfrom ..content import X\nfrom . import forms\nfrom .pages import page\n"
              "import generator.review\n\ndef f():\n    from ..bundle import check_pdf\n")
    assert library_imports(source) == {"generator.pipeline", "generator.errors", "generator.content",
                                       "generator.review", "generator.bundle"}
