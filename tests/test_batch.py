"""Batches: följebrev to many recipients, and a shared ärende with one paper per organisation."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import docx
import pytest
import yaml
from click.testing import CliRunner
from conftest import ORGANISATIONER, REPO, VALID_ARENDE, docx_lines, write_arende

from generator.cli import main
from generator.content import load_organisationer

UTSKICK = {
    "avsändare": "Stadsledningskontoret",
    "datum": "2023-08-21",
    "rubrik": "Information till {{ organisation }}",
    "mottagare": "bolag",
    "underskrift": {"namn": "Christina Eide", "titel": "Direktör"},
    "brödtext": "Hej {{ mottagare }}!\n\nInformera {{ beslutsorgan }}. Texten {% if x %} och { x } står kvar.\n",
}


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def write_utskick(folder: Path, **changes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = {k: v for k, v in {**UTSKICK, **changes}.items() if v is not None}
    (folder / "utskick.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def registry():
    return load_organisationer(ORGANISATIONER)


def test_letters_to_every_bolag_with_manifest(tmp_path: Path):
    folder = write_utskick(tmp_path / "brev")
    out = tmp_path / "out"
    result = run("letters", folder, "--out", out, "--workers", "2")
    assert result.exit_code == 0, result.output
    bolag = [o for o in registry().organisationer if o.is_bolag]
    letters = sorted((out / "utskick" / "brev").glob("*.docx"))
    assert [p.stem for p in letters] == sorted(o.id for o in bolag)
    assert f"Klart: {len(bolag)} av {len(bolag)} mottagare" in result.stdout

    lines = docx_lines(out / "utskick" / "brev" / "liseberg.docx")
    assert "Liseberg AB" in lines[:8]
    assert "Information till Liseberg AB" in lines
    assert "Hej Liseberg AB!" in lines
    assert "Informera styrelsen. Texten {% if x %} och { x } står kvar." in lines
    assert lines[-2:] == ["Christina Eide", "Direktör"]
    assert docx.Document(str(out / "utskick" / "brev" / "liseberg.docx")).core_properties.title == "Information till Liseberg AB"

    manifest = json.loads((out / "utskick" / "brev" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["lyckade"] == len(bolag) and manifest["fel"] == []
    entries = {e["mottagare"]: e for e in manifest["dokument"]}
    assert set(entries) == {o.id for o in bolag}
    entry = entries["liseberg"]
    assert entry["fil"] == "liseberg.docx"
    assert entry["sha256"] == hashlib.sha256((out / "utskick" / "brev" / "liseberg.docx").read_bytes()).hexdigest()


def test_namnd_letter_goes_to_the_forvaltning(tmp_path: Path):
    folder = write_utskick(tmp_path / "brev", mottagare=["forskolenamnden"])
    out = tmp_path / "out"
    assert run("letters", folder, "--out", out).exit_code == 0
    lines = docx_lines(out / "utskick" / "brev" / "forskolenamnden.docx")
    assert "Förskoleförvaltningen" in lines[:8]
    assert "Hej Förskoleförvaltningen!" in lines
    assert "Informera nämnden. Texten {% if x %} och { x } står kvar." in lines


def test_till_and_utom_choose_recipients(tmp_path: Path):
    folder = write_utskick(tmp_path / "brev", mottagare="alla", utom=["liseberg"])
    out = tmp_path / "out"
    assert run("letters", folder, "--out", out, "--till", "liseberg", "--till", "higab").exit_code == 0
    assert sorted(p.stem for p in (out / "utskick" / "brev").glob("*.docx")) == ["higab"]
    out2 = tmp_path / "out2"
    assert run("letters", folder, "--out", out2, "--till", "nämnder").exit_code == 0
    namnder = [o.id for o in registry().organisationer if not o.is_bolag]
    assert sorted(p.stem for p in (out2 / "utskick" / "brev").glob("*.docx")) == sorted(namnder)


def test_unknown_recipient_suggests_ids(tmp_path: Path):
    folder = write_utskick(tmp_path / "brev", mottagare=["liseber"])
    result = run("letters", folder, "--out", tmp_path / "out")
    assert result.exit_code == 3
    assert "okänd organisation 'liseber'" in result.stderr and "'liseberg'" in result.stderr
    assert "mottagare[1]" in result.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_merge_field_is_an_error_before_anything_is_written(tmp_path: Path):
    folder = write_utskick(tmp_path / "brev", brödtext="Första raden.\n\nHej {{ kontaktperson }}!\n")
    result = run("letters", folder, "--out", tmp_path / "out")
    assert result.exit_code == 3
    assert "okänt kopplingsfält '{{ kontaktperson }}'" in result.stderr
    assert "fält 'brödtext'" in result.stderr and "{{ organisation }}" in result.stderr
    assert not (tmp_path / "out").exists()


def test_one_failing_recipient_loses_none_of_the_others(tmp_path: Path):
    folder = write_utskick(tmp_path / "brev", mottagare=["higab", "liseberg", "got-event", "boplats"])
    out = tmp_path / "out"
    (out / "utskick" / "brev" / "liseberg.docx").mkdir(parents=True)  # e.g. a file locked by someone else
    result = run("letters", folder, "--out", out, "--workers", "2")
    assert result.exit_code == 1
    assert "1 misslyckades" in result.stderr and "liseberg (Liseberg AB)" in result.stderr
    assert sorted(p.stem for p in (out / "utskick" / "brev").glob("*.docx") if p.is_file()) == ["boplats", "got-event", "higab"]
    manifest = json.loads((out / "utskick" / "brev" / "manifest.json").read_text(encoding="utf-8"))
    assert [f["mottagare"] for f in manifest["fel"]] == ["liseberg"]
    assert manifest["lyckade"] == 3


def test_rerun_is_idempotent(tmp_path: Path):
    folder = write_utskick(tmp_path / "brev")
    out = tmp_path / "out"
    assert run("letters", folder, "--out", out).exit_code == 0
    first = {p.name: p.read_bytes() for p in (out / "utskick" / "brev").iterdir()}
    assert run("letters", folder, "--out", out, "--workers", "1").exit_code == 0
    second = {p.name: p.read_bytes() for p in (out / "utskick" / "brev").iterdir()}
    assert first == second


def test_sample_utskick_is_valid_and_renders(tmp_path: Path):
    out = tmp_path / "out"
    result = run("letters", REPO / "content" / "utskick" / "2023-08-handlingsplaner", "--out", out, "--till", "gota-lejon")
    assert result.exit_code == 0, result.output
    lines = docx_lines(out / "utskick" / "2023-08-handlingsplaner" / "gota-lejon.docx")
    assert "Information om nya handlingsplaner inom Göteborgs Stad" in lines
    assert lines[-2:] == ["Christina Eide", "Direktör, Utveckling av stadens verksamheter"]


# --- a shared ärende ------------------------------------------------------------------------


def write_shared(folder: Path, overrides: dict[str, dict | str]) -> Path:
    shared = {k: v for k, v in VALID_ARENDE.items() if k not in ("organisation", "handläggare", "bedömning")}
    write_arende(folder, shared)
    (folder / "organisationer").mkdir()
    for org_id, data in overrides.items():
        text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
        (folder / "organisationer" / f"{org_id}.yaml").write_text(text, encoding="utf-8")
    return folder


def person(name: str) -> dict:
    return {"namn": name, "telefon": "031-00 00 00", "e-post": "a@goteborg.se"}


def test_shared_arende_gives_one_paper_per_organisation(tmp_path: Path):
    folder = write_shared(tmp_path / "gemensamt", {
        "liseberg": {"handläggare": person("Lisa Berg"), "bedömning": "Lisebergs bedömning.",
                     "diarienummer": "L-1"},
        "forskolenamnden": {"handläggare": person("Frida Skog"), "bedömning": "Förvaltningens text.",
                            "dimensioner": {"social": "Barnens perspektiv."}},
    })
    out = tmp_path / "out"
    validate = run("validate", folder)
    assert validate.exit_code == 0, validate.output
    line = next(row for row in validate.stdout.splitlines() if "liseberg.yaml" in row)
    changed = line.split("ändrar: ")[1].rstrip(").").split(", ")
    assert changed == ["bedömning", "diarienummer", "handläggare"]
    assert "dimensioner.social" in validate.stdout

    result = run("render", folder, "--out", out)
    assert result.exit_code == 0, result.output
    liseberg = docx_lines(out / "arenden" / "gemensamt" / "liseberg" / "beslutsunderlag.docx")
    assert "Lisa Berg" in liseberg and "Diarienummer L-1" in liseberg
    assert "Lisebergs bedömning." in liseberg and "Socialt." in liseberg
    namnd = docx_lines(out / "arenden" / "gemensamt" / "forskolenamnden" / "tjänsteutlåtande.docx")
    assert "Frida Skog" in namnd and "Barnens perspektiv." in namnd and "Socialt." not in namnd
    assert "Ekonomi." in namnd, "det som inte ändras kommer från det gemensamma ärendet"
    manifest = json.loads((out / "arenden" / "gemensamt" / "manifest.json").read_text(encoding="utf-8"))
    assert {e["mottagare"] for e in manifest["dokument"]} == {"liseberg", "forskolenamnden"}

    only = run("render", folder, "--out", tmp_path / "out2", "--organisation", "liseberg")
    assert only.exit_code == 0
    assert [p.name for p in (tmp_path / "out2" / "arenden" / "gemensamt").iterdir() if p.is_dir()] == ["liseberg"]


def test_override_of_unknown_key_is_an_error_naming_the_override_file(tmp_path: Path):
    folder = write_shared(tmp_path / "gemensamt", {
        "liseberg": "handläggare:\n  namn: Lisa\n  telefon: '1'\n  e-post: a@b.se\nbedömning: x\nbedömningen: y\n",
        "higab": {"handläggare": person("Hans"), "bedömning": "ok"},
    })
    result = run("render", folder, "--out", tmp_path / "out")
    assert result.exit_code == 3
    assert "organisationer/liseberg.yaml, rad 6, fält 'bedömningen': okänt fält" in result.stderr
    assert "Menade du 'bedömning'?" in result.stderr
    assert not (tmp_path / "out").exists()


def test_override_file_must_name_a_known_organisation(tmp_path: Path):
    folder = write_shared(tmp_path / "gemensamt", {"lisberg": {"handläggare": person("L"), "bedömning": "x"}})
    result = run("validate", folder)
    assert result.exit_code == 3
    assert "lisberg" in result.stderr and "'liseberg.yaml'" in result.stderr


def test_missing_field_in_instance_names_the_organisation(tmp_path: Path):
    folder = write_shared(tmp_path / "gemensamt", {"liseberg": {"handläggare": person("L")}})
    result = run("validate", folder)
    assert result.exit_code == 3
    assert "fält 'bedömning': saknas" in result.stderr and "gäller liseberg" in result.stderr


@pytest.mark.parametrize("field", ["organisation"])
def test_shared_arende_may_not_name_an_organisation(tmp_path: Path, field: str):
    folder = write_shared(tmp_path / "gemensamt", {"liseberg": {"handläggare": person("L"), "bedömning": "x"}})
    text = (folder / "arende.yaml").read_text(encoding="utf-8")
    (folder / "arende.yaml").write_text(f"{field}: liseberg\n" + text, encoding="utf-8")
    result = run("validate", folder)
    assert result.exit_code == 3 and "ges av filnamnen" in result.stderr


def test_sample_letter_reproduces_the_reference_letter_in_order(tmp_path: Path):
    """Reference lines 196-282; the footnote is a real Word footnote, so it is checked apart."""
    out = tmp_path / "out"
    assert run("letters", REPO / "content" / "utskick" / "2023-08-handlingsplaner", "--out", out,
               "--till", "gota-lejon").exit_code == 0
    letter = out / "utskick" / "2023-08-handlingsplaner" / "gota-lejon.docx"
    text = " ".join(docx_lines(letter))
    with zipfile.ZipFile(letter) as zf:
        body, footnotes = zf.read("word/document.xml").decode(), zf.read("word/footnotes.xml").decode()
    assert body.count("<w:footnoteReference ") == 1
    reference = (Path(__file__).parent / "fixtures" / "reference-foljebrev.txt").read_text(encoding="utf-8")
    reference = reference.replace("\\(", "(").replace("\\)", ")")
    position = 0
    for raw in reference.splitlines():
        line = " ".join(raw.split()).removeprefix("- ")
        line = re.sub(r"\[(.*?)\]\(#\)", r"\1", line)
        if not line:
            continue
        if line.startswith("¹ "):  # the footnote's text, in the footnotes part
            assert line.removeprefix("¹ ") in re.sub(r"<[^>]+>", "", footnotes)
            continue
        line = line.replace("¹", "")  # the mark is Word's footnote reference, not text
        found = text.find(line, position)
        assert found >= 0, f"saknas eller i fel ordning: {line!r}"
        position = found + len(line)


def test_validate_checks_an_utskick_without_writing(tmp_path: Path):
    folder = write_utskick(tmp_path / "brev", mottagare="nämnder")
    result = run("validate", folder, "--out", tmp_path / "out")
    namnder = [o for o in registry().organisationer if not o.is_bolag]
    assert result.exit_code == 0 and f"följebrev till {len(namnder)} mottagare" in result.stdout
    bad = write_utskick(tmp_path / "trasigt", brödtext="Hej {{ namn }}")
    result = run("validate", bad / "utskick.yaml")
    assert result.exit_code == 3 and "okänt kopplingsfält" in result.stderr
    assert not (tmp_path / "out").exists()


def test_groups_and_ids_can_be_mixed(tmp_path: Path):
    folder = write_utskick(tmp_path / "brev", mottagare=["nämnder", "liseberg"], utom=["valnamnden"])
    out = tmp_path / "out"
    assert run("letters", folder, "--out", out).exit_code == 0
    namnder = {o.id for o in registry().organisationer if not o.is_bolag}
    assert {p.stem for p in (out / "utskick" / "brev").glob("*.docx")} == (namnder - {"valnamnden"}) | {"liseberg"}
