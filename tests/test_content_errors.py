"""Bad input: every mistake gets a Swedish message naming file, line and field, and no output."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ORGANISATIONER, VALID_ARENDE, write_arende

from generator.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def assert_rejected(folder: Path, out: Path, *expected: str, command: str = "render"):
    result = run(command, str(folder), "--organisationer", str(ORGANISATIONER), "--out", str(out))
    assert result.exit_code == 3, result.output
    message = result.stderr
    assert message.startswith("Fel: ")
    assert "Traceback" not in result.output
    for text in expected:
        assert text in message, message
    assert not out.exists() or not any(out.rglob("*")), "inget får skrivas vid fel"
    return message


def test_valid_arende_validates_and_writes_nothing(arende_dir, tmp_path: Path):
    out = tmp_path / "out"
    result = run("validate", str(arende_dir()), "--organisationer", str(ORGANISATIONER), "--out", str(out))
    assert result.exit_code == 0
    assert "OK" in result.stdout and "Försäkrings AB Göta Lejon" in result.stdout
    assert not out.exists()


def test_yaml_file_can_be_given_instead_of_folder(arende_dir, tmp_path: Path):
    out = tmp_path / "out"
    result = run("render", str(arende_dir() / "arende.yaml"), "--organisationer", str(ORGANISATIONER),
                 "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "arenden" / "arende" / "beslutsunderlag.docx").is_file()


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path):
    folder = write_arende(tmp_path / "a", "organisation: gota-lejon\nrubrik: [obalanserad\nutfärdat: 2023-10-02\n")
    message = assert_rejected(folder, tmp_path / "out", "arende.yaml", "YAML-syntaxfel")
    assert "rad 3" in message or "rad 2" in message


def test_missing_field(arende_dir, tmp_path: Path):
    folder = arende_dir(samverkan=None)
    assert_rejected(folder, tmp_path / "out", "arende.yaml", "fält 'samverkan'", "saknas")


def test_missing_nested_field_has_the_parent_line(arende_dir, tmp_path: Path):
    folder = arende_dir(**{"handläggare": {"namn": "Petra Willquist", "telefon": "031-1"}})
    message = assert_rejected(folder, tmp_path / "out", "fält 'handläggare.e-post'", "saknas")
    text = (folder / "arende.yaml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, row in enumerate(text, 1) if row.startswith("handläggare:"))
    assert f"rad {line}" in message


def test_wrong_type(arende_dir, tmp_path: Path):
    folder = arende_dir(**{"utfärdat": "andra oktober"})
    assert_rejected(folder, tmp_path / "out", "fält 'utfärdat'", "ÅÅÅÅ-MM-DD")


def test_list_expected(arende_dir, tmp_path: Path):
    folder = arende_dir(**{"förslag_till_beslut": {"ett": "två"}})
    assert_rejected(folder, tmp_path / "out", "fält 'förslag_till_beslut'", "lista")


def test_unknown_key_suggests_the_meant_one(arende_dir, tmp_path: Path):
    data = dict(VALID_ARENDE)
    data["sammanfatning"] = data.pop("sammanfattning")
    folder = write_arende(tmp_path / "a", data)
    message = assert_rejected(folder, tmp_path / "out", "okänt fält 'sammanfatning'",
                              "Menade du 'sammanfattning'?")
    assert "saknas" not in message, "stavfelet ska inte också rapporteras som saknat fält"


def test_ascii_spelling_suggests_swedish_key(arende_dir, tmp_path: Path):
    data = dict(VALID_ARENDE)
    data["utfardat"] = data.pop("utfärdat")
    folder = write_arende(tmp_path / "a", data)
    assert_rejected(folder, tmp_path / "out", "okänt fält 'utfardat'", "Menade du 'utfärdat'?")


def test_unknown_organisation_suggests_nearest_ids(arende_dir, tmp_path: Path):
    folder = arende_dir(organisation="gota-lejonet")
    assert_rejected(folder, tmp_path / "out", "fält 'organisation'", "okänd organisation 'gota-lejonet'",
                    "'gota-lejon'")


def test_missing_bilaga_file(arende_dir, tmp_path: Path):
    folder = arende_dir(bilagor=[{"titel": "Finns", "fil": "bilaga.pdf"},
                                 {"titel": "Borta", "fil": "saknas.pdf"}])
    assert_rejected(folder, tmp_path / "out", "fält 'bilagor[2].fil'", "bilaga 2", "'Borta'", "saknas.pdf")


def test_several_problems_are_reported_together(arende_dir, tmp_path: Path):
    folder = arende_dir(samverkan=None, rubrik="  ")
    message = assert_rejected(folder, tmp_path / "out", "2 fel", "fält 'samverkan'", "fält 'rubrik'")
    assert "tomt" in message


def test_missing_arende_file(tmp_path: Path):
    assert_rejected(tmp_path / "finns-inte", tmp_path / "out", "arende.yaml")


def test_bad_registry_is_reported(arende_dir, tmp_path: Path):
    registry = tmp_path / "org.yaml"
    registry.write_text("organisationer:\n  - {id: x, namn: X, typ: nämnd}\n", encoding="utf-8")
    result = run("render", str(arende_dir()), "--organisationer", str(registry), "--out", str(tmp_path / "out"))
    assert result.exit_code == 3
    assert "förvaltning" in result.stderr and "org.yaml" in result.stderr


def test_failed_render_keeps_earlier_output(arende_dir, tmp_path: Path):
    out = tmp_path / "out"
    folder = arende_dir()
    assert run("render", str(folder), "--organisationer", str(ORGANISATIONER), "--out", str(out)).exit_code == 0
    target = out / "arenden" / "arende" / "beslutsunderlag.docx"
    before = target.read_bytes()
    (folder / "arende.yaml").write_text("rubrik: [trasig\n", encoding="utf-8")
    result = run("render", str(folder), "--organisationer", str(ORGANISATIONER), "--out", str(out))
    assert result.exit_code == 3
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["beslutsunderlag.docx", "manifest.json"]


@pytest.mark.parametrize("args", [["render"], ["nosuch"]])
def test_usage_errors_are_swedish(args):
    result = run(*args)
    assert result.exit_code == 2
    assert "Fel:" in result.output


def test_every_problem_is_also_a_located_error(arende_dir):
    """The web page shows each problem at its field from the error's parts, not from its text."""
    from generator import pipeline
    from generator.errors import ContentError

    folder = arende_dir(samverkan=None, rubrik="  ", **{"utfärdat": "2023-02-30"})
    with pytest.raises(ContentError) as caught:
        pipeline.validate_arende(folder, ORGANISATIONER)
    located = caught.value.located()
    assert sorted(e.field for e in located) == ["rubrik", "samverkan", "utfärdat"]
    assert all(e.file == folder / "arende.yaml" for e in located)
    assert all(e.line for e in located if e.field != "samverkan")
    assert "\n".join(e.format() for e in located) in caught.value.format()
