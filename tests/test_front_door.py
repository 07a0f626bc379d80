"""The faces (the CLI, the web page) come in by the front door: ``generator.pipeline``.

A face imports, of ``generator``, only ``pipeline``, ``errors``, the package itself (for
``__version__``) and its own modules. The imports are read with ``ast``, at module level and
inside functions, ``TYPE_CHECKING`` blocks included; nothing is imported. To check another
face, add it to ``FACES``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

FRONT_DOOR = {"generator", "generator.pipeline", "generator.errors"}
"""What every face may import of ``generator``."""

CLI = {"generator.cli", "generator.cli.shell", "generator.cli.swedish", "generator.cli.papers",
       "generator.cli.utskick", "generator.cli.meetings"}
"""The CLI face's own modules (``generator/cli/``)."""

FACES: dict[str, set[str]] = {
    **{path.relative_to(REPO).as_posix(): CLI for path in sorted((REPO / "generator" / "cli").glob("*.py"))},
    "generator/web/command.py": {"generator.web.server", "generator.web.security"},
    # the program: the two faces joined (neither imports the other), and python -m generator
    "generator/beslut.py": {"generator.cli", "generator.web.command"},
    "generator/__main__.py": {"generator.beslut"},
}
"""Each face module (a path in the repository) and its own modules it may import besides the front door."""


def imported_modules(path: Path, root: Path = REPO) -> list[tuple[int, str]]:
    """Return (line, dotted name) of every ``generator`` module the file imports, anywhere in it.

    ``from . import x`` counts as ``generator.x`` when ``x`` is a module of the package, and
    as ``generator`` (the package) otherwise, e.g. ``from . import __version__``.
    """
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "generator"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "generator":
                continue
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                where = root / Path(*candidate.split("."))
                is_module = where.with_suffix(".py").is_file() or where.is_dir()
                found.append((node.lineno, candidate if is_module else module))
    return found


@pytest.mark.parametrize("face", sorted(FACES))
def test_face_imports_only_the_front_door(face: str):
    allowed = FRONT_DOOR | FACES[face]
    offenders = [f"{face}:{line} imports {module}" for line, module in imported_modules(REPO / face)
                 if module not in allowed]
    assert not offenders, ("a face imports only generator.pipeline and generator.errors (add a function to "
                           "pipeline for what it needs):\n" + "\n".join(offenders))


def test_the_walker_sees_every_kind_of_import(tmp_path: Path):
    """Module level, inside a function, TYPE_CHECKING, relative and absolute: each one is seen."""
    package = tmp_path / "generator"
    (package / "web").mkdir(parents=True)
    for name in ("__init__", "pipeline", "errors", "content", "face", "web/__init__", "web/server"):
        (package / f"{name}.py").write_text("")
    (package / "face.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import __version__, pipeline\n"
        "from .errors import BeslutError\n"
        "if TYPE_CHECKING:\n    from .content import X\n"
        "def f():\n    import generator.web.server\n    from .web import server\n")
    modules = [m for _, m in imported_modules(package / "face.py", tmp_path)]
    assert modules == ["generator", "generator.pipeline", "generator.errors", "generator.content",
                       "generator.web.server", "generator.web.server"]


def test_the_front_door_is_written_down():
    """Every name in ``pipeline.__all__`` exists and says what it is for."""
    from generator import pipeline

    undocumented = [name for name in pipeline.__all__ if not (getattr(pipeline, name).__doc__ or "").strip()]
    assert undocumented == []
    assert {"plan_arende", "run", "review_arenden", "check_templates", "plan_mailing"} <= set(pipeline.__all__)


def test_the_program_exits_in_one_place():
    """Of the faces, only ``cli/shell.py`` calls ``sys.exit`` (``BeslutGroup.invoke`` and ``fail``), for every command."""
    faces = {REPO / face for face in FACES} | set((REPO / "generator" / "web").glob("*.py"))
    exits = [f"{path.relative_to(REPO)}:{node.lineno}"
             for path in sorted(faces) if path.name != "shell.py"
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "exit"
             and isinstance(node.func.value, ast.Name) and node.func.value.id == "sys"]
    assert exits == []


def test_the_program_has_both_faces_commands_and_the_cli_only_its_own():
    from generator import beslut, cli

    assert "web" in beslut.main.commands and "web" not in cli.main.commands
    assert set(beslut.main.commands) - {"web"} == set(cli.main.commands)
    assert [p.name for p in beslut.main.commands["web"].params[:3]] == ["organisationer", "out", "mallar"]
