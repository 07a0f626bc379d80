"""Values are read as the handläggare wrote them; dates and lists are checked, never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ORGANISATIONER, REPO, SAMPLE, docx_lines, render_paper, write_arende

from generator import pipeline
from generator.cli import main
from generator.content import load_organisationer, load_utskick

BASE = """\
organisation: gota-lejon
rubrik: Information om handlingsplaner
utfärdat: 2023-10-02
diarienummer: GLF 2023/17
handläggare:
  namn: Petra Willquist
  telefon: 031-368 55 14
  e-post: petra.willquist@gotalejon.goteborg.se
förslag_till_beslut:
  - Styrelsen antecknar informationen.
sammanfattning: En sammanfattning.
dimensioner:
  ekonomisk: Ekonomi.
  ekologisk: Ekologi.
  social: Socialt.
samverkan: Ingen samverkan.
bilagor:
  - titel: En bilaga
    fil: bilaga.pdf
ärendet: Ärendet i korthet.
beskrivning: Beskrivningen.
bedömning: Bedömningen.
"""


def arende_text(*edits: tuple[str, str]) -> str:
    """Return BASE with each (old, new) line replacement made; every old text must be there."""
    text = BASE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def line_of(text: str, start: str) -> int:
    """Return the number of the first line of ``text`` starting with ``start``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def validate(folder: Path):
    return CliRunner().invoke(main, ["validate", str(folder), "--organisationer", str(ORGANISATIONER)],
                              catch_exceptions=False)


def load(tmp_path: Path, *edits: tuple[str, str]):
    folder = write_arende(tmp_path / "a", arende_text(*edits))
    return pipeline.validate_arende(folder, ORGANISATIONER)[0].arende


def refused(tmp_path: Path, *edits: tuple[str, str]) -> str:
    """Validate BASE with ``edits`` through the CLI; assert exit 3 and return the message."""
    folder = write_arende(tmp_path / "a", arende_text(*edits))
    result = validate(folder)
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    return result.stderr


# --- values kept verbatim ------------------------------------------------------------------


@pytest.mark.parametrize("old, new, get, expected", [
    ("  telefon: 031-368 55 14", "  telefon: 0701234567", lambda a: a.handlaggare.telefon, "0701234567"),
    ("diarienummer: GLF 2023/17", "diarienummer: 0755", lambda a: a.diarienummer, "0755"),
    ("diarienummer: GLF 2023/17", "diarienummer: 12:30", lambda a: a.diarienummer, "12:30"),
    ("rubrik: Information om handlingsplaner", "rubrik: 1.10", lambda a: a.rubrik, "1.10"),
    ("rubrik: Information om handlingsplaner", "rubrik: yes", lambda a: a.rubrik, "yes"),
    ("samverkan: Ingen samverkan.", "samverkan: no", lambda a: a.samverkan, "no"),
    ("beskrivning: Beskrivningen.", "beskrivning: on", lambda a: a.beskrivning, "on"),
    ("bedömning: Bedömningen.", "bedömning: 1e3", lambda a: a.bedomning, "1e3"),
    ("  - Styrelsen antecknar informationen.", "  - 2023-10-02", lambda a: a.forslag_till_beslut[0],
     "2023-10-02"),
])
def test_value_is_kept_as_written(tmp_path: Path, old, new, get, expected):
    assert get(load(tmp_path, (old, new))) == expected


def test_kept_values_reach_the_document(tmp_path: Path):
    folder = write_arende(tmp_path / "a", arende_text(
        ("  telefon: 031-368 55 14", "  telefon: 0701234567"),
        ("diarienummer: GLF 2023/17", "diarienummer: 0755"),
        ("rubrik: Information om handlingsplaner", "rubrik: 1.10"),
    ))
    assert validate(folder).exit_code == 0
    text = "\n".join(docx_lines(render_paper(folder, tmp_path / "out").files[0]))
    assert "0701234567" in text and "0755" in text and "1.10" in text
    assert "117782903" not in text and "493" not in text


def test_empty_optional_field_is_none(tmp_path: Path):
    assert load(tmp_path, ("diarienummer: GLF 2023/17", "diarienummer:")).diarienummer is None


def test_registry_and_utskick_still_load():
    registry = load_organisationer(ORGANISATIONER)
    assert registry.find("gota-lejon").typ == "bolag" and len(registry.ids()) > 40
    utskick = load_utskick(REPO / "content" / "utskick" / "2023-08-handlingsplaner").utskick
    assert utskick.datum.year == 2023
    assert [loaded.organisation.id for loaded in pipeline.validate_arende(SAMPLE, ORGANISATIONER)]


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("86400", "ÅÅÅÅ-MM-DD"),
    ("2025-13-01", "2025-13-01 finns inte"),
    ("2023-02-30", "2023-02-30 finns inte"),
    ("2023-2-3", "ÅÅÅÅ-MM-DD"),
    ("2023-10-02 12:00", "ÅÅÅÅ-MM-DD"),
    ("'2023-10-02'x", "sätt citattecken runt hela texten"),  # a YAML error, in Swedish
])
def test_bad_date_is_refused_with_its_line(tmp_path: Path, value, expected):
    message = refused(tmp_path, ("utfärdat: 2023-10-02", f"utfärdat: {value}"))
    assert "rad 3" in message and expected in message
    assert "fält 'utfärdat'" in message or "YAML-syntaxfel" in message


def test_valid_date_is_a_date(tmp_path: Path):
    assert load(tmp_path, ("utfärdat: 2023-10-02", "utfärdat: 2024-02-29")).utfardat.isoformat() == "2024-02-29"


# --- lists stay lists ----------------------------------------------------------------------

FOLDED = "skriv varje beslutspunkt på en egen rad som börjar med '- '"


@pytest.mark.parametrize("lines", [
    "förslag_till_beslut:\n  Styrelsen antecknar informationen.\n  Styrelsen beslutar att anta planen.",
    "förslag_till_beslut:\n  1. Styrelsen antecknar informationen.\n  2. Styrelsen beslutar att anta planen.",
    "förslag_till_beslut: 1. Styrelsen antecknar informationen. 2. Styrelsen beslutar att anta planen.",
    "förslag_till_beslut: >\n  Styrelsen antecknar informationen.\n  Styrelsen beslutar att anta planen.",
    "förslag_till_beslut: Styrelsen antecknar informationen.",
])
def test_proposals_not_written_as_a_list_are_refused(tmp_path: Path, lines):
    message = refused(tmp_path, ("förslag_till_beslut:\n  - Styrelsen antecknar informationen.", lines))
    assert FOLDED in message and "fält 'förslag_till_beslut'" in message
    assert f"rad {line_of(BASE, 'förslag_till_beslut')}" in message


def test_proposals_as_a_list_are_kept_apart(tmp_path: Path):
    arende = load(tmp_path, ("  - Styrelsen antecknar informationen.",
                             "  - Styrelsen antecknar informationen.\n  - Styrelsen beslutar att anta planen."))
    assert arende.forslag_till_beslut == ["Styrelsen antecknar informationen.", "Styrelsen beslutar att anta planen."]


# --- empty and missing required fields: one message ----------------------------------------

EMPTY = "saknas eller är tomt"


@pytest.mark.parametrize("new", ["samverkan:", "samverkan: ''", "samverkan: '   '", "samverkan: ~", ""])
def test_empty_or_missing_text_field_has_one_message(tmp_path: Path, new):
    message = refused(tmp_path, ("samverkan: Ingen samverkan.", new))
    assert EMPTY in message and "fält 'samverkan'" in message
    assert "samverkan: " in message.split("fält 'samverkan'")[1], "säger hur det rättas"


@pytest.mark.parametrize("new", ["förslag_till_beslut:", "förslag_till_beslut: []", ""])
def test_empty_or_missing_list_has_one_message(tmp_path: Path, new):
    message = refused(tmp_path, ("förslag_till_beslut:\n  - Styrelsen antecknar informationen.", new))
    assert EMPTY in message and "fält 'förslag_till_beslut'" in message and "'- '" in message


@pytest.mark.parametrize("new", ["handläggare:", ""])
def test_empty_or_missing_group_has_one_message(tmp_path: Path, new):
    old = "handläggare:\n  namn: Petra Willquist\n  telefon: 031-368 55 14\n  e-post: petra.willquist@gotalejon.goteborg.se"
    message = refused(tmp_path, (old, new))
    assert EMPTY in message and "fält 'handläggare'" in message and "e-post" in message


def test_empty_nested_field_has_its_line(tmp_path: Path):
    message = refused(tmp_path, ("  telefon: 031-368 55 14", "  telefon:"))
    assert EMPTY in message and "fält 'handläggare.telefon'" in message and "rad 7" in message
