"""Content edge cases: refused at validate with the field and line (exit 3), or handled; never 70.

Footnotes inside footnotes, footnotes without text, tables at and over the limit, line
breaks in single-line fields, named footnotes, and names in either Unicode form.
"""

from __future__ import annotations

import shutil
import unicodedata
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import ORGANISATIONER, REPO, VALID_ARENDE, write_arende
from test_convert import needs_libreoffice

from generator.cli import main
from generator.markdowncheck import MAX_TABLE_ROWS

UTSKICK = REPO / "content" / "utskick" / "2023-08-handlingsplaner"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def arende_with(tmp_path: Path, text: str, name: str = "arende", **changes) -> Path:
    """Write an ärende whose beskrivning is the block ``text`` (written with |, as users do)."""
    data = {**VALID_ARENDE, **changes, "beskrivning": "PLATS"}
    dumped = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    block = "|\n" + "".join(f"  {line}\n" if line else "\n" for line in text.split("\n"))
    return write_arende(tmp_path / name, dumped.replace("PLATS\n", block))


def line_of(folder: Path, needle: str) -> int:
    """Return the 1-based line of arende.yaml that contains ``needle``."""
    lines = (folder / "arende.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def assert_content_error(result, *expected: str) -> None:
    assert result.exit_code == 3, result.output
    for text in expected:
        assert text in result.stderr, (text, result.stderr)
    assert "programfel" not in result.output and "Traceback" not in result.output


# --- footnotes ------------------------------------------------------------------------------


def test_a_footnote_inside_a_footnote_is_refused_at_validate_with_its_line(tmp_path: Path):
    folder = arende_with(tmp_path, "Text[^1].\n\n[^1]: En not med en egen not[^2].\n\n[^2]: Den inre.")
    result = run("validate", folder, "--organisationer", ORGANISATIONER)
    line = line_of(folder, "[^1]: En not")
    assert_content_error(result, f"rad {line}", "fält 'beskrivning'", "fotnoten [^2] står i en annan fotnots text")
    assert run("render", folder, "--organisationer", ORGANISATIONER, "--out", tmp_path / "out").exit_code == 3
    assert not (tmp_path / "out").exists()


def test_a_footnote_reference_without_text_is_refused(tmp_path: Path):
    folder = arende_with(tmp_path, "Se torget[^tob] varje torsdag.")
    assert_content_error(run("validate", folder, "--organisationer", ORGANISATIONER),
                         f"rad {line_of(folder, 'Se torget')}", "fotnoten [^tob] har ingen fotnotstext")


def test_a_named_footnote_is_a_footnote_not_a_placeholder(tmp_path: Path):
    folder = arende_with(tmp_path, "ToB-torget[^tob] varannan torsdag.\n\n[^tob]: Trygghet och brottsförebyggande.")
    review = run("review", folder, "--organisationer", ORGANISATIONER)
    assert review.exit_code == 0, review.output
    assert "platshållaren" not in review.output
    result = run("render", folder, "--organisationer", ORGANISATIONER, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "out" / "arenden" / "arende" / "beslutsunderlag.docx") as z:
        footnotes = z.read("word/footnotes.xml").decode("utf-8")
        body = z.read("word/document.xml").decode("utf-8")
    assert "Trygghet och brottsförebyggande." in footnotes and "w:footnoteReference" in body
    assert "[^tob]" not in body


def test_the_sample_utskick_with_its_named_footnote_validates(tmp_path: Path):
    assert "[^tob]" in (UTSKICK / "utskick.yaml").read_text(encoding="utf-8")
    assert run("validate", UTSKICK).exit_code == 0


# --- tables ---------------------------------------------------------------------------------


def table(rows: int, columns: int = 2) -> str:
    head = "| " + " | ".join(f"K{c}" for c in range(columns)) + " |"
    rule = "|" + "---|" * columns
    body = ["| " + " | ".join(f"{r}.{c}" for c in range(columns)) + " |" for r in range(rows)]
    return "\n".join(["Tabellen:", "", head, rule, *body])


def test_a_table_over_the_limit_is_refused_at_validate_with_its_line(tmp_path: Path):
    folder = arende_with(tmp_path, table(MAX_TABLE_ROWS))  # the header row makes one more
    result = run("validate", folder, "--organisationer", ORGANISATIONER)
    assert_content_error(result, f"rad {line_of(folder, '| K0 | K1 |')}",
                         f"tabellen har {MAX_TABLE_ROWS + 1} rader, men en tabell får ha högst {MAX_TABLE_ROWS}")


def test_a_table_over_words_column_limit_is_refused(tmp_path: Path):
    folder = arende_with(tmp_path, table(2, columns=64))
    assert_content_error(run("validate", folder, "--organisationer", ORGANISATIONER),
                         "tabellen har 64 kolumner, men Word tillåter högst 63")


@needs_libreoffice
def test_a_table_at_the_limit_builds(tmp_path: Path):
    """The largest table allowed goes all the way to handlingar.pdf (it used to be exit 70 over 1024 rows)."""
    folder = arende_with(tmp_path, table(MAX_TABLE_ROWS - 1))
    result = run("build", folder, "--organisationer", ORGANISATIONER, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "arenden" / "arende" / "handlingar.pdf").is_file()


# --- line breaks in single-line fields --------------------------------------------------------


@pytest.mark.parametrize("changes, field", [
    ({"rubrik": "Information om\nhandlingsplaner"}, "rubrik"),
    ({"handläggare": {**VALID_ARENDE["handläggare"], "namn": "Petra\nWillquist"}}, "handläggare.namn"),
    ({"bilagor": [{"titel": "En\nbilaga", "fil": "bilaga.pdf"}]}, "bilagor[1].titel"),
    ({"underskrifter": [{"namn": "Eva Ek", "titel": "VD\nGöta Lejon"}]}, "underskrifter[1].titel"),
    ({"diarienummer": "2023/1\n2023/2"}, "diarienummer"),
])
def test_a_line_break_in_a_single_line_field_is_refused_with_the_field(tmp_path: Path, changes: dict, field: str):
    folder = write_arende(tmp_path / "arende", {**VALID_ARENDE, **changes})
    assert_content_error(run("validate", folder, "--organisationer", ORGANISATIONER),
                         f"fält '{field}'", "får bara vara en rad men har en radbrytning")


def test_a_line_break_in_a_registry_name_is_refused(tmp_path: Path):
    registry = yaml.safe_load(ORGANISATIONER.read_text(encoding="utf-8"))
    registry["organisationer"][0]["namn"] = "Försäkrings AB\nGöta Lejon"
    path = tmp_path / "organisationer.yaml"
    path.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    result = run("letters", UTSKICK, "--organisationer", path, "--out", tmp_path / "out", "--pdf", "--eml")
    assert_content_error(result, "fält 'organisationer[1].namn'", "får bara vara en rad")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("key", ["rubrik", "avsändare"])
def test_a_line_break_in_the_utskick_rubrik_or_avsandare_is_refused(tmp_path: Path, key: str):
    data = yaml.safe_load((UTSKICK / "utskick.yaml").read_text(encoding="utf-8"))
    data[key] = "Rad ett\nrad två"
    folder = tmp_path / "utskick"
    folder.mkdir()
    (folder / "utskick.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run("letters", folder, "--organisationer", ORGANISATIONER, "--out", tmp_path / "out")
    assert_content_error(result, f"fält '{key}'", "får bara vara en rad")


# --- Unicode names in NFC ---------------------------------------------------------------------


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_a_bilaga_named_in_nfd_on_disk_is_found(tmp_path: Path):
    folder = write_arende(tmp_path / "arende", {**VALID_ARENDE, "bilagor": [{"titel": "Bilagan", "fil": "bilaga-ä.pdf"}]})
    shutil.move(folder / "bilaga.pdf", folder / nfd("bilaga-ä.pdf"))
    assert not (folder / "bilaga-ä.pdf").exists()  # the file system keeps the two forms apart
    result = run("validate", folder, "--organisationer", ORGANISATIONER)
    assert result.exit_code == 0, result.output


def test_an_arende_written_in_nfd_reads_as_nfc(tmp_path: Path):
    folder = write_arende(tmp_path / "arende", nfd(yaml.safe_dump(
        {**VALID_ARENDE, "bilagor": [{"titel": "Bilagan", "fil": "bilaga-ö.pdf"}]}, allow_unicode=True)))
    shutil.move(folder / "bilaga.pdf", folder / "bilaga-ö.pdf")  # keys "handläggare" etc. in NFD too
    result = run("validate", folder, "--organisationer", ORGANISATIONER)
    assert result.exit_code == 0, result.output


def test_till_typed_in_nfd_is_the_group(tmp_path: Path):
    result = run("letters", UTSKICK, "--out", tmp_path / "out", "--till", nfd("nämnder"))
    assert result.exit_code == 0, result.stderr
    assert "okänd mottagare" not in result.output
