"""Every Jinja template beslut renders, shipped or supplied, is rendered in Jinja's sandbox."""

from __future__ import annotations

import ast
from pathlib import Path

from jinja2.sandbox import SandboxedEnvironment

from generator import scaffold
from generator.render import jinja_environment
from generator.web.pages import make_templates

REPO = Path(__file__).resolve().parents[1]


def test_no_module_builds_a_plain_jinja_environment():
    plain = []
    for path in sorted((REPO / "generator").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in ("Environment", "Template"):
                    plain.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert plain == [], "build a jinja2.sandbox.SandboxedEnvironment (or sandbox.TemplateSandbox) instead"


def test_each_environment_is_a_sandbox():
    assert isinstance(jinja_environment(), SandboxedEnvironment)  # Word templates
    assert isinstance(make_templates(), SandboxedEnvironment)  # the web page's own
    assert isinstance(scaffold._skeletons(), SandboxedEnvironment)  # beslut new's skeletons
