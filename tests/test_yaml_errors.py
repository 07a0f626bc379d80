"""YAML mistakes and hostile YAML: a Swedish message at the right line, refused at validate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import ORGANISATIONER, write_arende
from test_values_as_written import BASE, arende_text

from generator.cli import main
from generator.errors import ContentError
from generator.yamlfile import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, MAX_TEXT_CHARS, read_yaml

ENGLISH = re.compile(
    r"\b(expected|found|mapping|scanning|while|stream|block|token|parsing|allowed|character|"
    r"alias|anchor|document|unexpected|could not|special)\b", re.IGNORECASE)


def validate(folder: Path, *options: str):
    return CliRunner().invoke(
        main, [*options, "validate", str(folder), "--organisationer", str(ORGANISATIONER)],
        catch_exceptions=False)


def refused(tmp_path: Path, text: str) -> str:
    """Validate an ärende with ``text`` as arende.yaml; assert exit 3 in Swedish; return the message."""
    folder = write_arende(tmp_path / "a", text)
    result = validate(folder)
    assert result.exit_code == 3, result.output
    message = result.stderr
    assert message.startswith("Fel: ") and "Traceback" not in result.output
    assert not ENGLISH.search(message), message
    return message


# --- syntax errors in Swedish, at the right line -------------------------------------------


@pytest.mark.parametrize("old, new, line, advice", [
    ("rubrik: Information om handlingsplaner", "rubrik: Beslut: ny plan", 2,
     "sätt citattecken runt texten"),
    ("rubrik: Information om handlingsplaner", "\trubrik: Information", 2, "använd mellanslag"),
    ("  namn: Petra Willquist", "\tnamn: Petra Willquist", 6, "använd mellanslag"),
    ("  - Styrelsen antecknar informationen.",
     "  - Styrelsen antecknar informationen.\n - Styrelsen beslutar.", 11,
     "raden ska ha samma indrag som rad 10"),
    ("  telefon: 031-368 55 14", " telefon: 031-368 55 14", 7, "raden ska ha samma indrag som rad 6"),
    ("  telefon: 031-368 55 14", "   telefon: 031-368 55 14", 7, "samma indrag som rad 6"),
    ("rubrik: Information om handlingsplaner", 'rubrik: "Information om handlingsplaner', 2,
     "citattecknet"),
    ("rubrik: Information om handlingsplaner", "rubrik: 'Information om handlingsplaner", 2,
     "citattecknet"),
    ("rubrik: Information om handlingsplaner", 'rubrik: "Plan" för 2024', 2,
     "sätt citattecken runt hela texten"),
    ("rubrik: Information om handlingsplaner", "rubrik: [Utkast] plan", 2,
     "sätt citattecken runt hela texten"),
    ("sammanfattning: En sammanfattning.", "sammanfattning: *Viktigt* att läsa", 11,
     "sätt citattecken runt texten"),
    ("sammanfattning: En sammanfattning.", "sammanfattning: @kommunen", 11,
     "sätt citattecken runt texten"),
    ("rubrik: Information om handlingsplaner", "rubrik: [Utkast, plan", 2, "']'"),
    ("rubrik: Information om handlingsplaner", "rubrik: Information\nrubrik: Igen", 3,
     "nyckeln 'rubrik' står två gånger (första gången på rad 2)"),
    ("bedömning: Bedömningen.", "bedömning: Bedömningen.\n---\nrubrik: x", 23, "'---'"),
    ("bedömning: Bedömningen.", "bedömning: [Bedömningen.", 22, "']'"),
    ("rubrik: Information om handlingsplaner", 'rubrik: "C:\\q"', 2, "Skriv '\\\\' för ett bakstreck"),
    ("organisation: gota-lejon", "organisation gota-lejon", 1, "raden saknar ':' efter fältnamnet"),
])
def test_yaml_error_is_swedish_at_the_right_line(tmp_path: Path, old, new, line, advice):
    message = refused(tmp_path, arende_text((old, new)))
    assert f"rad {line}:" in message or f"rad {line}," in message, message
    assert advice in message, message


def test_colon_in_a_value_shows_how_to_quote(tmp_path: Path):
    message = refused(tmp_path, arende_text(("rubrik: Information om handlingsplaner",
                                             "rubrik: Beslut: ny plan")))
    assert "rubrik: 'Beslut: ny plan'" in message


def test_unclosed_quote_names_the_line_where_it_opened(tmp_path: Path):
    text = arende_text(("rubrik: Information om handlingsplaner", 'rubrik: "Information om handlingsplaner'))
    message = refused(tmp_path, text)
    assert "rad 2" in message and f"rad {len(text.splitlines())}" not in message


def test_parser_text_follows_with_debug(tmp_path: Path):
    folder = write_arende(tmp_path / "a", arende_text(("rubrik: Information om handlingsplaner",
                                                       "rubrik: Beslut: ny plan")))
    with pytest.raises(ContentError) as info:
        validate(folder, "--debug")
    assert isinstance(info.value.__cause__, yaml.YAMLError)
    assert "mapping values are not allowed" in str(info.value.__cause__)
    assert "sätt citattecken" in info.value.message


def test_file_that_is_a_list_is_refused(tmp_path: Path):
    message = refused(tmp_path, "- a\n- b\n")
    assert "namn: värde" in message


# --- what Word cannot hold -----------------------------------------------------------------


@pytest.mark.parametrize("escape, code", [
    ("\\v", "U+000B"), ("\\f", "U+000C"), ("\\0", "U+0000"), ("\\uFFFE", "U+FFFE"),
    ("\\uFFFF", "U+FFFF"), ("\\uD800", "U+D800"), ("\\e", "U+001B"), ("\\r", "U+000D"),
    ("\\x7f", "U+007F"), ("\\x85", "U+0085"),
])
def test_character_word_cannot_hold_is_refused_with_line_and_field(tmp_path: Path, escape, code):
    text = arende_text(("beskrivning: Beskrivningen.", f'beskrivning: "Före{escape}efter"'))
    message = refused(tmp_path, text)
    assert code in message and "rad 21" in message and "fält 'beskrivning'" in message


def test_unprintable_key_is_refused_without_printing_it(tmp_path: Path):
    message = refused(tmp_path, arende_text(("  social: Socialt.", '  "soc\\uD800": Socialt.')))
    assert "U+D800" in message and "rad 15" in message and "fält 'dimensioner'" in message


def test_control_character_written_raw_is_refused_at_its_line(tmp_path: Path):
    message = refused(tmp_path, arende_text(("  social: Socialt.", "  social: Soc\x0bialt.")))
    assert "U+000B" in message and "rad 15" in message


def test_tab_and_newline_are_allowed(tmp_path: Path):
    folder = write_arende(tmp_path / "a", arende_text(("beskrivning: Beskrivningen.",
                                                       'beskrivning: "Ett\\tTvå\\nTre"')))
    assert validate(folder).exit_code == 0


# --- anchors, aliases, depth and size ------------------------------------------------------

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_billion_laughs_is_refused_at_its_first_anchor(tmp_path: Path):
    message = refused(tmp_path, BILLION_LAUGHS)
    assert "rad 1" in message and "'&'" in message, "refused at the anchor, before any alias"


@pytest.mark.parametrize("text, line", [
    ("a: &a [*a]\n", 1),
    ("organisation: gota-lejon\nx: &namn Petra\nnamn: *namn\n", 2),
    ("organisation: gota-lejon\nnamn: *namn\n", 2),
])
def test_anchors_and_aliases_are_refused(tmp_path: Path, text, line):
    message = refused(tmp_path, text)
    assert f"rad {line}" in message and ("'&'" in message or "'*'" in message)


def test_refusing_an_alias_does_not_follow_it(tmp_path: Path):
    path = tmp_path / "x.yaml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    with pytest.raises(ContentError) as info:
        read_yaml(path)
    assert info.value.line == 1


@pytest.mark.parametrize("text", ["a: " + "[" * 5000 + "]" * 5000 + "\n", "a: " + "{b: " * 5000 + "c" + "}" * 5000,
                                  "".join("  " * i + f"k{i}:\n" for i in range(200))])
def test_deep_nesting_is_refused(tmp_path: Path, text):
    message = refused(tmp_path, text)
    assert f"{MAX_DEPTH} nivåer" in message


def test_too_many_values_are_refused(tmp_path: Path):
    message = refused(tmp_path, "a:\n" + "  - x\n" * (MAX_NODES + 1))
    assert "10 000 värden" in message


def test_long_text_field_is_refused_with_the_limit(tmp_path: Path):
    long = "x" * (MAX_TEXT_CHARS + 1)
    message = refused(tmp_path, arende_text(("beskrivning: Beskrivningen.", f"beskrivning: {long}")))
    assert "200 000 tecken" in message and "rad 21" in message and "fält 'beskrivning'" in message


def test_text_at_the_limit_is_allowed(tmp_path: Path):
    folder = write_arende(tmp_path / "a", arende_text(("beskrivning: Beskrivningen.",
                                                       f"beskrivning: {'x' * MAX_TEXT_CHARS}")))
    assert validate(folder).exit_code == 0


def test_large_file_is_refused_before_reading(tmp_path: Path):
    text = BASE + "# " + "x" * MAX_FILE_BYTES + "\n"
    message = refused(tmp_path, text)
    assert "500 000 byte" in message


@pytest.mark.parametrize("value", ["!!int 0755", "!!float 1.10", "!!python/object:os.system x", "!ny text"])
def test_explicit_tags_are_refused(tmp_path: Path, value):
    message = refused(tmp_path, arende_text(("diarienummer: GLF 2023/17", f"diarienummer: {value}")))
    assert "rad 4" in message and "'!'" in message
