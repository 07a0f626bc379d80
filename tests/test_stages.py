"""The house reads in pipeline order: each stage imports only earlier stages, nothing imports in a circle.

The imports are read with ``ast`` by ``tools/room_sizes.py`` (nothing is imported), so a
module that imports a later stage only inside a function counts too. ``TYPE_CHECKING``
imports do not count (they never run).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

STAGES: list[tuple[str, set[str]]] = [
    ("foundation", {"generator", "errors", "files", "runtemp", "yamlerrors", "wordxml", "readability", "anslag",
                    "personnummer", "outfolder", "meetingfiles"}),
    ("content", {"yamlfile", "model", "validation", "arendefields", "wording", "content", "bilagor", "findings", "review",
                 "scaffold", "sammantrade", "protokollet", "paragrafnummer", "protokollcheck", "protokollscaffold",
                 "markdowncheck"}),
    ("word", {"markdown", "markdownwriter", "sandbox", "sandboxcheck", "officefile", "templatefile", "context",
              "watermark", "render", "docxcheck", "letters", "kallelsedocx", "protokolldocx", "templates",
              "sheetprint"}),
    ("pdf", {"officeserver", "convert", "pdfmeta", "conformance", "sanitize", "tags", "stampfont", "pdfwatermark",
             "cache", "letterbatch", "bundle", "accessibility", "agendaparts", "agendapdf", "agendapublic",
             "inputformats", "imagepdf", "libreoffice", "pagegeometry", "bundleparts"}),
    ("mail", {"mail", "smtpsettings", "smtpsession", "sendlog"}),
    ("plan and run", {"jobs", "runreport", "runcommit", "runfinish", "runner", "planning"}),
    ("front door", {"pipeline", "send", "agenda", "minutes", "expediering"}),
    ("faces", {"cli", "web", "beslut", "__main__"}),
]
"""Every module of ``generator`` by stage, in pipeline order (``cli``, ``pipeline`` and ``web`` stand for
``generator.cli.*``, ``generator.pipeline.*`` and ``generator.web.*``)."""

ALLOWED_UPWARD: dict[tuple[str, str], str] = {}
"""Imports of a later stage that are there on purpose, with the reason."""

KNOWN_CIRCLES: list[list[str]] = []
"""Circles that exist today and are being removed elsewhere; remove an entry when it is gone."""


def _room_sizes():
    spec = importlib.util.spec_from_file_location("room_sizes", REPO / "tools" / "room_sizes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def graph() -> dict[str, dict[str, bool]]:
    return _room_sizes().import_graph(REPO)


def stage_of(module: str) -> int:
    """Return the index in STAGES of ``module`` (a dotted name); fail when it is not listed."""
    parts = module.split(".")
    short = "generator" if len(parts) == 1 else parts[1]
    for index, (_, members) in enumerate(STAGES):
        if short in members:
            return index
    pytest.fail(f"{module} is in no stage: add it to STAGES in tests/test_stages.py, "
                "in the stage whose modules it may use (and that may use it)")


def test_every_module_has_a_stage(graph):
    for module in graph:
        stage_of(module)


def test_no_module_imports_a_later_stage(graph):
    upward = []
    for module, targets in graph.items():
        for target in targets:
            if stage_of(target) > stage_of(module) and (module, target) not in ALLOWED_UPWARD:
                upward.append(f"{module} ({STAGES[stage_of(module)][0]}) imports {target} "
                              f"({STAGES[stage_of(target)][0]})")
    assert not upward, "\n".join(upward)


def test_no_import_circle(graph):
    circles = _room_sizes().find_circles(graph)
    assert [c for c in circles if c not in KNOWN_CIRCLES] == []
    gone = [c for c in KNOWN_CIRCLES if c not in circles]
    assert not gone, f"remove from KNOWN_CIRCLES, the circle is gone: {gone}"


def test_the_graph_sees_a_circle_and_a_lazy_import(tmp_path: Path):
    """The walker itself: a circle closed inside a function is found; TYPE_CHECKING is not an import."""
    package = tmp_path / "generator"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import X\n")
    (package / "b.py").write_text("X = 1\n\ndef f():\n    from . import a\n    return a\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import X\n")
    room_sizes = _room_sizes()
    graph = room_sizes.import_graph(tmp_path)
    assert graph["generator.a"] == {"generator.b": False}
    assert graph["generator.b"] == {"generator.a": True}
    assert graph["generator.c"] == {}
    assert room_sizes.find_circles(graph) == [["generator.a", "generator.b"]]


PDF_LIBRARIES = ("pypdf", "pikepdf", "page", "reportlab")


@pytest.mark.parametrize("module", ["generator.render", "generator.letters", "generator.templates",
                                    "generator.watermark"])
def test_word_stage_loads_no_pdf_library(module: str):
    """Rendering a Word file needs no PDF tool: importing the Word stage loads none (a fresh interpreter)."""
    code = (f"import sys, {module}\n"
            f"print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {PDF_LIBRARIES!r})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.split() == []


def test_the_pdf_check_can_fail():
    """The same check sees a PDF library where one is loaded (the bundle stage)."""
    code = ("import sys, generator.bundle\n"
            f"print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {PDF_LIBRARIES!r})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert {"pypdf", "pikepdf", "reportlab"} <= set(result.stdout.split())


def test_send_keeps_its_names():
    """Settings, session, log and lock moved out of send.py; what other modules import from it stays."""
    from generator import send, sendlog, smtpsession, smtpsettings

    assert send.load_smtp_settings is smtpsettings.load_smtp_settings
    assert send._Connection is smtpsession.SmtpSession and send._locked is sendlog.locked
    for name in send.__all__:
        assert hasattr(send, name), name


def test_office_namespaces_are_written_in_wordxml_only():
    """Office Open XML names are defined once (``generator/wordxml.py``); other modules import them."""
    uris = ("http://schemas.openxmlformats.org/", "http://schemas.microsoft.com/office/", "http://purl.oclc.org/ooxml/")
    found = [f"{path.relative_to(REPO)}:{n}" for path in sorted((REPO / "generator").rglob("*.py"))
             if path.name != "wordxml.py"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if any(uri in line for uri in uris)]
    assert found == []


def test_no_room_over_the_limit():
    """No module of ``generator/`` is over ``room_sizes.LIMIT`` (450) lines: split it by what it does (issue 21)."""
    room_sizes = _room_sizes()
    assert room_sizes.oversized() == [], f"split these modules into rooms of at most {room_sizes.LIMIT} lines"


def test_the_size_check_can_fail(tmp_path: Path):
    package = tmp_path / "generator"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "big.py").write_text("x = 1\n" * 451)
    (package / "small.py").write_text("x = 1\n" * 450)
    assert _room_sizes().oversized(root=tmp_path) == [("generator.big", 451)]
