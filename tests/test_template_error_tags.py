"""A broken template's error quotes the tag it is about, not every tag of its paragraph.

docxtpl puts a paragraph on one line and Jinja names only the line, so the tag is found
by what the error names (an undefined name, a filter, an attribute, a call, an operator;
``sandboxcheck.expression_at`` / ``syntax_error_at``). Only when nothing matches are all the
paragraph's tags quoted. Real .docx templates (python-docx), the real CLI, exit 4.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from conftest import ORGANISATIONER, REPO, VALID_ARENDE, write_arende

from generator.cli import main

TEMPLATE = "beslutsunderlag.docx"
AROUND = ("{{ rubrik }} och ", " och {{ organisation }}")
"""Two good tags in the same paragraph as the broken one."""


def broken_templates(tmp_path: Path, tag: str) -> Path:
    """Return a copy of the shipped templates whose beslutsunderlag ends with a paragraph holding ``tag``."""
    folder = tmp_path / "mallar"
    shutil.copytree(REPO / "templates" / "docx", folder)
    document = docx.Document(str(folder / TEMPLATE))
    document.add_paragraph(AROUND[0] + tag + AROUND[1])
    document.save(str(folder / TEMPLATE))
    return folder


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


CASES = {
    # the broken tag: (what the message must say about it)
    "odefinierat-falt": ("{{ handlaggare.namnn }}", "mallen stoppades vid '{{ handlaggare.namnn }}'"),
    "division": ("{{ 1 / 0 }}", "mallen gick inte att fylla i vid '{{ 1 / 0 }}'"),
    "typfel": ("{{ rubrik + 1 }}", "mallen gick inte att fylla i vid '{{ rubrik + 1 }}'"),
    "anrop": ("{{ rubrik() }}", "mallen innehåller '{{ rubrik() }}', som inte är tillåtet"),
    "filter": ("{{ rubrik|foo }}", "mallen innehåller '{{ rubrik|foo }}', som inte är tillåtet"),
    "syntax": ("{{ rubrik + }}", "mallen har ett fel i taggen '{{ rubrik + }}': "),
    "okand-tagg": ("{% foo %}", "mallen har ett fel i taggen '{% foo %}': "),
    "variabel": ("{{ rubrikk }}", "mallen använder variabeln 'rubrikk' (i '{{ rubrikk }}')"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_error_quotes_only_its_tag(case: str, tmp_path: Path):
    tag, said = CASES[case]
    folder = broken_templates(tmp_path, tag)
    result = run("templates", folder)
    assert result.exit_code == 4, result.output
    assert said in result.stderr, result.stderr
    # the good tags of the paragraph are not quoted with it
    assert "{{ organisation }}" not in result.stderr and "{{ rubrik }} …" not in result.stderr, result.stderr


@pytest.mark.parametrize("case", ["odefinierat-falt", "division", "syntax", "anrop"])
def test_render_quotes_the_same_tag(case: str, tmp_path: Path):
    tag, _ = CASES[case]
    folder = broken_templates(tmp_path, tag)
    arende = write_arende(tmp_path / "arende", dict(VALID_ARENDE))
    result = run("render", arende, "--organisationer", ORGANISATIONER, "--out", tmp_path / "out", "--mallar", folder)
    assert result.exit_code == 4, result.output
    assert f"'{tag}'" in result.stderr and "{{ organisation }}" not in result.stderr, result.stderr
    assert not list((tmp_path / "out").rglob("*.docx"))


def test_an_attribute_inside_a_loop_names_its_tag(tmp_path: Path):
    folder = broken_templates(tmp_path, "{% for b in bilagor %}{{ b.titel }} {{ b.foo.bar }}{% endfor %}")
    result = run("templates", folder)
    assert result.exit_code == 4, result.output
    assert "mallen använder en variabel som inte finns vid '{{ b.foo.bar }}'" in result.stderr, result.stderr


def test_an_error_that_names_no_tag_quotes_the_whole_paragraph(tmp_path: Path):
    # truncate('x') compares a number with a text: the message names no tag and no operator of one
    folder = broken_templates(tmp_path, "{{ rubrik|truncate('x') }}")
    result = run("templates", folder)
    assert result.exit_code == 4, result.output
    assert ("vid '{{ rubrik }} … {{ rubrik|truncate('x') }} … {{ organisation }}'" in result.stderr), result.stderr


def test_an_unclosed_loop_reported_elsewhere_quotes_no_tag(tmp_path: Path):
    folder = tmp_path / "mallar"
    shutil.copytree(REPO / "templates" / "docx", folder)
    document = docx.Document(str(folder / TEMPLATE))
    document.add_paragraph("{% for b in bilagor %}{{ b.titel }}")
    document.add_paragraph("Slut på mallen: {{ rubrik }} och {{ organisation }}.")
    document.save(str(folder / TEMPLATE))
    result = run("templates", folder)
    assert result.exit_code == 4, result.output
    assert "mallen har ett fel i" in result.stderr and "{{ organisation }}" not in result.stderr, result.stderr
