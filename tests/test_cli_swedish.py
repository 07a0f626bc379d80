"""click's own words in Swedish: help, usage errors and type errors show no English."""

from __future__ import annotations

import ast
import inspect
import re

import click
import pytest
from click.testing import CliRunner
from conftest import ORGANISATIONER, SAMPLE

from generator.beslut import main
from generator.cli import swedish
from generator.cli.shell import SwedishCommand


def click_messages() -> set[str]:
    """Return every string click's modules pass to gettext (``_`` or ``ngettext``)."""
    found = set()
    for module in swedish.MODULES:
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext"):
                found |= {a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return found


def english_words() -> set[str]:
    """Return the words of click's messages that are not also Swedish (e.g. 'argument')."""
    swedish_words = {w.lower() for text in swedish.SWEDISH.values() for w in re.findall(r"[^\W\d_]{3,}", text)}
    english = {w.lower() for text in click_messages() for w in re.findall(r"[^\W\d_]{3,}", re.sub(r"\{[^}]*\}", "", text))}
    return english - swedish_words - {"prog", "version", "uuid"}


def test_every_click_message_has_swedish():
    messages = click_messages()
    assert len(messages) > 50  # the scan found click's messages
    missing = sorted(messages - set(swedish.SWEDISH))
    assert not missing, f"click messages without Swedish in swedish.SWEDISH: {missing}"


def run(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], prog_name="beslut", catch_exceptions=False, **kwargs)


def assert_swedish(output: str):
    for phrase in ("No such", "Did you mean", "is a file", "is a directory", "does not exist",
                   "is not in the range", "Missing", "Got unexpected", "Invalid value", "Try ",
                   "for help", "Usage:", "Options:", "Commands:", "Error:", "Show this message",
                   "not a valid", "requires", "integer"):
        assert phrase not in output, f"{phrase!r} in {output!r}"
    prose = re.sub(r"'[^']*'|--?[\w-]+|beslut \w+", " ", output)  # not quoted names, options, commands
    words = {w.lower() for w in re.findall(r"[^\W\d_]{3,}", prose)}
    assert not words & english_words(), f"English {words & english_words()} in {output!r}"


@pytest.mark.parametrize("args, expected", [
    (["validate"], "Argument saknas: 'ÄRENDE'"),
    (["validate", "a", "b"], "Oväntat extra argument (b)"),
    (["validate", "a", "b", "c"], "Oväntade extra argument (b c)"),
    (["validate", "--nope", "x"], "Flaggan '--nope' finns inte"),
    (["validate", "--organisationr", "x", "y"], "Menade du någon av: '--organisation', '--organisationer'?"),
    (["letters", "x", "--pdd"], "Menade du '--pdf'?"),
    (["render", "x", "--workers", "abc"], "'abc' är inget giltigt heltal"),
    (["render", "x", "--out", "README.md"], "Mapp 'README.md' är en fil, inte en mapp"),
    (["validate", "x", "--organisationer", "generator"], "Fil 'generator' är en mapp, inte en fil"),
    (["render", "x", "--out"], "Flaggan '--out' behöver ett värde"),
    (["validat", "x"], "Kommandot 'validat' finns inte. Menade du 'validate'?"),
    (["new", "x"], "Flagga saknas: '--organisation'"),
    (["build", "x", "--pdf"], "Flaggan '--pdf' finns inte"),
])
def test_usage_errors_are_swedish(args, expected):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Fel:" in result.output
    if "--out" not in args[-1:]:
        assert "Användning: beslut" in result.output and "för hjälp." in result.output
    assert_swedish(result.output)


@pytest.mark.parametrize("args", [["--help"], ["new", "--help"], ["validate", "-h"], ["render", "--help"],
                                  ["build", "--help"], ["letters", "--help"], ["web", "--help"]])
def test_help_is_swedish(args):
    result = run(*args)
    assert result.exit_code == 0
    assert "Användning: beslut" in result.output and "Flaggor:" in result.output
    assert "Visa den här hjälpen och avsluta." in result.output
    if args == ["--help"]:
        assert "Kommandon:" in result.output and "Visa versionen och avsluta." in result.output
        assert re.search(r"^  web +Starta webbsidan där handläggare", result.output, re.M)  # the web face's command
    assert_swedish(result.output)


def test_path_that_must_exist_is_swedish(tmp_path):
    """A click.Path(exists=True), as a future option may use: 'finns inte' in Swedish."""

    @click.command(cls=SwedishCommand)
    @click.argument("fil", type=click.Path(exists=True, dir_okay=False))
    def command(fil):
        """Test command."""

    result = CliRunner().invoke(command, [str(tmp_path / "saknas.pdf")])
    assert result.exit_code == 2
    assert f"Fil '{tmp_path / 'saknas.pdf'}' finns inte." in result.output
    assert_swedish(result.output)


def test_a_good_command_still_works():
    result = run("validate", SAMPLE, "--organisationer", ORGANISATIONER)
    assert result.exit_code == 0, result.output
