"""beslut new: a new ärende (single, nämnd, shared) that validates and renders as written."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import docx
import pytest
import yaml
from click.testing import CliRunner
from conftest import ORGANISATIONER

from generator.arendefields import placeholders
from generator.cli import main
from generator.content import find_registry, load_organisationer
from generator.errors import ContentError
from generator.scaffold import create_arende


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def new(folder: Path, *ids: str):
    args = ["new", folder, "--organisationer", ORGANISATIONER]
    for org_id in ids:
        args += ["--organisation", org_id]
    return run(*args)


def validate(folder: Path):
    return run("validate", folder, "--organisationer", ORGANISATIONER)


def leaf_strings(data, where=()):
    """Yield (path, value) for every string in a loaded YAML document."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from leaf_strings(value, where + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from leaf_strings(value, where + (index,))
    elif isinstance(data, str):
        yield where, data


def assert_commented(text: str):
    """Assert that every top-level key has a comment line right above it."""
    lines = text.splitlines()
    keys = [i for i, line in enumerate(lines) if line and line[0] not in "# "]
    assert keys
    for i in keys:
        assert lines[i - 1].startswith("#"), f"no comment above {lines[i]!r}"


def test_new_bolag_validates_and_is_commented(tmp_path):
    folder = tmp_path / "2024-03-budget"
    result = new(folder, "gota-lejon")
    assert result.exit_code == 0, result.output
    assert f"Skrev {folder / 'arende.yaml'}" in result.output
    assert (folder / "bilagor" / "README.txt").is_file()
    text = (folder / "arende.yaml").read_text(encoding="utf-8")
    assert_commented(text)
    assert "beslutsunderlag till styrelsen för Försäkrings AB Göta Lejon" in text
    assert '"Bolagets bedömning"' in text and "tjänsteutlåtande" not in text
    data = yaml.safe_load(text)
    assert data["organisation"] == "gota-lejon"
    assert str(data["utfärdat"]) == date.today().isoformat()
    # every text the user writes is a placeholder in square brackets, from the one list
    texts = {path: value for path, value in leaf_strings(data) if path != ("organisation",)}
    assert texts and all(v.strip().startswith("[") and v.strip().endswith("]") for v in texts.values())
    assert {v.strip() for v in texts.values()} <= set(placeholders().values())

    checked = validate(folder)
    assert checked.exit_code == 0, checked.output
    assert "OK:" in checked.output and "beslutsunderlag för Försäkrings AB Göta Lejon" in checked.output


def test_new_namnd_is_a_tjansteutlatande(tmp_path):
    folder = tmp_path / "forskola"
    assert new(folder, "forskolenamnden").exit_code == 0
    text = (folder / "arende.yaml").read_text(encoding="utf-8")
    assert_commented(text)
    assert "tjänsteutlåtande från Förskoleförvaltningen till Förskolenämnden" in text
    assert '"I förskolenämnden:"' in text and '"Förvaltningens bedömning"' in text
    assert "Bolagets bedömning" not in text and "beslutsunderlag" not in text
    assert placeholders()["bedomning_namnd"] in text
    checked = validate(folder)
    assert checked.exit_code == 0, checked.output
    assert "tjänsteutlåtande för Förskolenämnden" in checked.output


def test_new_shared_arende_has_override_files_and_validates(tmp_path):
    folder = tmp_path / "gemensamt"
    result = new(folder, "gota-lejon", "forskolenamnden")
    assert result.exit_code == 0, result.output
    shared = (folder / "arende.yaml").read_text(encoding="utf-8")
    assert "organisation" not in yaml.safe_load(shared)
    assert "bedömning" not in yaml.safe_load(shared)
    assert_commented(shared)
    overrides = sorted(p.name for p in (folder / "organisationer").iterdir())
    assert overrides == ["forskolenamnden.yaml", "gota-lejon.yaml"]
    bolag = (folder / "organisationer" / "gota-lejon.yaml").read_text(encoding="utf-8")
    namnd = (folder / "organisationer" / "forskolenamnden.yaml").read_text(encoding="utf-8")
    for text in (bolag, namnd):
        assert_commented(text)
        assert "utom organisation" in text and "dimensioner:" in text  # what an override may change
    assert '"Bolagets bedömning"' in bolag and '"Förvaltningens bedömning"' in namnd
    checked = validate(folder)
    assert checked.exit_code == 0, checked.output
    assert "beslutsunderlag för Försäkrings AB Göta Lejon" in checked.output
    assert "tjänsteutlåtande för Förskolenämnden" in checked.output


def test_repeated_id_is_one_organisation(tmp_path):
    folder = tmp_path / "ett"
    assert new(folder, "gota-lejon", "gota-lejon").exit_code == 0
    assert not (folder / "organisationer").exists()
    assert yaml.safe_load((folder / "arende.yaml").read_text(encoding="utf-8"))["organisation"] == "gota-lejon"


def test_names_with_yaml_characters_stay_in_comments(tmp_path):
    """(A line break in a name is refused by the registry itself: test_content_edges.)"""
    registry = tmp_path / "organisationer.yaml"
    registry.write_text(
        'organisationer:\n'
        '  - {id: konstig, namn: "Bolag: \\"X\\" # 1 & {Co} AB", typ: bolag}\n'
        '  - {id: annan, namn: "- [N]ämnd: *a", typ: nämnd, förvaltning: "F # förvaltning: x"}\n',
        encoding="utf-8",
    )
    organisationer = load_organisationer(registry)
    for folder, ids in ((tmp_path / "a", ["konstig"]), (tmp_path / "b", ["konstig", "annan"])):
        files = create_arende(folder, ids, organisationer)
        assert all(f.is_file() for f in files)
        result = run("validate", folder, "--organisationer", registry)
        assert result.exit_code == 0, result.output
    assert "Bolag: \"X\" # 1 & {Co} AB" in (tmp_path / "a" / "arende.yaml").read_text(encoding="utf-8")


def test_refuses_an_existing_folder_and_writes_nothing(tmp_path):
    folder = tmp_path / "finns"
    folder.mkdir()
    (folder / "arende.yaml").write_text("rubrik: Mitt arbete\n", encoding="utf-8")
    result = new(folder, "gota-lejon")
    assert result.exit_code == 3
    assert "finns redan" in result.output and "skriver aldrig över" in result.output
    assert [p.name for p in folder.iterdir()] == ["arende.yaml"]
    assert (folder / "arende.yaml").read_text(encoding="utf-8") == "rubrik: Mitt arbete\n"

    a_file = tmp_path / "fil"
    a_file.write_text("x", encoding="utf-8")
    result = new(a_file, "gota-lejon")
    assert result.exit_code == 3 and "finns redan en fil" in result.output
    assert a_file.read_text(encoding="utf-8") == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fil", "finns"]  # no temporary folder left


def test_an_empty_existing_folder_is_filled(tmp_path):
    folder = tmp_path / "tom"
    folder.mkdir()
    assert new(folder, "gota-lejon").exit_code == 0
    assert validate(folder).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tom"]


def test_unknown_organisation_suggests_ids_and_writes_nothing(tmp_path):
    folder = tmp_path / "x"
    result = new(folder, "gota-lejon", "forskolenamden")
    assert result.exit_code == 3
    assert "okänd organisation 'forskolenamden'" in result.output
    assert "Menade du 'forskolenamnden'" in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []

    with pytest.raises(ContentError, match="okänd organisation 'nej'"):
        create_arende(folder, ["nej"], load_organisationer(ORGANISATIONER))


def test_new_requires_an_organisation(tmp_path):
    result = run("new", tmp_path / "x", "--organisationer", ORGANISATIONER)
    assert result.exit_code == 2
    assert "Flagga saknas: '--organisation'" in result.output


def test_render_a_new_arende(tmp_path):
    folder = tmp_path / "nytt"
    assert new(folder, "gota-lejon").exit_code == 0
    out = tmp_path / "out"
    # The placeholders are stopp for the review: a final document is refused, a draft is not.
    refused = run("render", folder, "--organisationer", ORGANISATIONER, "--out", out)
    assert refused.exit_code == 8
    assert placeholders()["rubrik"] in refused.stderr
    assert not out.exists() or not any(out.rglob("*.docx"))
    result = run("render", folder, "--organisationer", ORGANISATIONER, "--out", out, "--utkast")
    assert result.exit_code == 0, result.output
    paper = out / "arenden" / "nytt" / "utkast" / "beslutsunderlag.docx"
    text = "\n".join(p.text for p in docx.Document(paper).paragraphs)
    assert placeholders()["rubrik"] in text
    assert "I styrelsen för Försäkrings AB Göta Lejon:" in text
    assert "Bolagets bedömning" in text and placeholders()["bedomning_bolag"] in text


def test_registry_and_out_found_from_a_subfolder(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    (root / "content").mkdir(parents=True)
    shutil.copy(ORGANISATIONER, root / "content" / "organisationer.yaml")
    folder = root / "content" / "arenden" / "nytt"
    create_arende(folder, ["gota-lejon"], load_organisationer(ORGANISATIONER))

    monkeypatch.chdir(folder)
    assert find_registry(Path(".")) == Path("../../../content/organisationer.yaml")
    result = run("validate", ".")
    assert result.exit_code == 0, result.output
    assert "OK:" in result.output
    result = run("render", ".", "--utkast")  # '.' is named by the folder's real name
    assert result.exit_code == 0, result.output
    assert (root / "out" / "arenden" / "nytt" / "utkast" / "beslutsunderlag.docx").is_file()
    assert not (folder / "out").exists()

    monkeypatch.chdir(root)
    assert find_registry(Path(".")) == Path("content/organisationer.yaml")


def test_missing_registry_says_where_to_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("new", "x", "--organisation", "gota-lejon")
    assert result.exit_code == 3
    assert "organisationsregistret finns inte" in result.output and "--organisationer" in result.output
    assert not (tmp_path / "x").exists()


def test_new_in_the_current_empty_folder(tmp_path, monkeypatch):
    folder = tmp_path / "2024-03-budget"
    folder.mkdir()
    monkeypatch.chdir(folder)
    result = new(Path("."), "gota-lejon")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["arende.yaml", "bilagor"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024-03-budget"]
    assert validate(Path(".")).exit_code == 0


def test_a_yaml_file_is_not_a_folder(tmp_path):
    result = new(tmp_path / "x" / "arende.yaml", "gota-lejon")
    assert result.exit_code == 3
    assert "ange ärendets mapp" in result.output
    assert list(tmp_path.iterdir()) == []
