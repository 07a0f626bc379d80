"""No personnummer in the files beside the documents: a bilaga's file name is reviewed, and the
tillgänglighetsrapport and manifest.json never carry a number the review would stop."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import ORGANISATIONER, PDF_SAMPLES, VALID_ARENDE, write_arende

from generator import pipeline
from generator.cli import main
from generator.findings import STOPP
from generator.personnummer import luhn_valid, mask_personnummer
from generator.review import review_arende


def with_check_digit(nine: str) -> str:
    for digit in "0123456789":
        if luhn_valid(nine + digit):
            return nine + digit
    raise AssertionError


PNR = with_check_digit("811218987")
NUMBER = f"19{PNR[:6]}-{PNR[6:]}"
"""ÅÅÅÅMMDD-NNNN, Luhn-valid."""
MASKED = NUMBER[:-4] + "****"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def arende_with_file(tmp_path: Path, file_name: str, **changes) -> Path:
    folder = tmp_path / "arende"
    folder.mkdir(parents=True)
    shutil.copyfile(PDF_SAMPLES / "minimal-document.pdf", folder / file_name)
    data = {**VALID_ARENDE, "bilagor": [{"titel": "Utredning", "fil": file_name}],
            "beskrivning": "Se bilaga 1.", **changes}
    return write_arende(folder, data)


def findings_of(folder: Path):
    (loaded,) = pipeline.validate_arende(folder, ORGANISATIONER)
    return review_arende(loaded)


def test_personnummer_in_a_bilaga_file_name_is_stopp(tmp_path: Path):
    for i, name in enumerate([f"utredning {NUMBER}.pdf", f"utredning_{PNR}.pdf", f"{PNR[:6]}-{PNR[6:]}.pdf"]):
        stopp = [f for f in findings_of(arende_with_file(tmp_path / str(i), name)) if f.severity == STOPP]
        assert [(f.code, f.field) for f in stopp] == [("personnummer", "bilagor[1].fil")], name
        assert PNR[-4:] not in stopp[0].message and "filnamn" in stopp[0].message


def test_review_command_stops_and_masks(tmp_path: Path):
    folder = arende_with_file(tmp_path, f"utredning {NUMBER}.pdf")
    result = run("review", folder, "--organisationer", ORGANISATIONER)
    assert result.exit_code == 8
    assert "bilagor[1].fil" in result.output and MASKED in result.output and NUMBER not in result.output


def test_an_ordinary_file_name_and_an_allowed_one_pass(tmp_path: Path):
    plain = arende_with_file(tmp_path / "a", "utredning-2023-10-02-version-1234.pdf")
    assert "personnummer" not in [f.code for f in findings_of(plain)]
    allowed = arende_with_file(tmp_path / "b", f"utredning {NUMBER}.pdf",
                               **{"tillåt_personnummer": {"bilagor[1].fil": "Publiceras inte."}})
    assert "personnummer" not in [f.code for f in findings_of(allowed)]


def test_mask_personnummer_leaves_other_numbers():
    text = f"filen utredning_{PNR}.pdf, tel 0701234567, 556677-8899, {NUMBER}"
    assert mask_personnummer(text) == (f"filen utredning_{PNR[:-4]}****.pdf, tel 0701234567, 556677-8899, "
                                       f"{MASKED}")


def test_a_draft_build_writes_no_personnummer_beside_handlingar(tmp_path: Path):
    folder = arende_with_file(tmp_path, f"utredning {NUMBER}.pdf", rubrik=f"Ärende om {NUMBER}")
    out = tmp_path / "out"
    result = run("build", folder, "--utkast", "--organisationer", ORGANISATIONER, "--out", out)
    assert result.exit_code == 0, result.output
    side_files = [out / "arenden" / "arende" / "utkast" / name for name in
                  ("tillganglighetsrapport.txt", "tillganglighetsrapport.json", "manifest.json")]
    for path in side_files:
        text = path.read_text(encoding="utf-8")
        assert NUMBER not in text and PNR not in text, path.name
    report = json.loads(side_files[1].read_text(encoding="utf-8"))
    assert any(part["fil"] == f"utredning {MASKED}.pdf" for part in report["delar"])
    manifest = json.loads(side_files[2].read_text(encoding="utf-8"))
    assert manifest["titel"] == f"Ärende om {MASKED}"
    assert all(Path(out / "arenden" / "arende" / "utkast" / d["fil"]).exists() for d in manifest["dokument"])


OTHER = "19" + with_check_digit("750305123")[:6] + "-" + with_check_digit("750305123")[6:]
"""A second Luhn-valid personnummer, never allowed."""
OTHER_MASKED = OTHER[:-4] + "****"


def side_files(out: Path, folder: str) -> tuple[str, dict, dict]:
    base = out / "arenden" / "arende" / folder
    return ((base / "tillganglighetsrapport.txt").read_text(encoding="utf-8"),
            json.loads((base / "tillganglighetsrapport.json").read_text(encoding="utf-8")),
            json.loads((base / "manifest.json").read_text(encoding="utf-8")))


def test_a_number_the_arende_allows_is_written_as_it_is_beside_the_paper(tmp_path: Path):
    # the rubrik's number is allowed; the bilaga's file name carries another one (a draft builds anyway)
    folder = arende_with_file(tmp_path, f"utredning {OTHER}.pdf", rubrik=f"Ärende om {NUMBER}",
                              **{"tillåt_personnummer": {"rubrik": "Ärendet gäller en namngiven person."}})
    out = tmp_path / "out"
    result = run("build", folder, "--utkast", "--organisationer", ORGANISATIONER, "--out", out)
    assert result.exit_code == 0, result.output
    text, report, manifest = side_files(out, "utkast")
    assert manifest["titel"] == f"Ärende om {NUMBER}"
    assert report["arende"] == f"Ärende om {NUMBER}" and f"Ärende om {NUMBER}" in text
    assert any(part["fil"] == f"utredning {OTHER_MASKED}.pdf" for part in report["delar"])
    for written in (text, json.dumps(report, ensure_ascii=False), json.dumps(manifest, ensure_ascii=False)):
        assert OTHER not in written and OTHER[2:8] + OTHER[-4:] not in written


def test_a_final_build_keeps_an_allowed_bilaga_title_and_masks_the_rest(tmp_path: Path):
    # a final paper: the review lets the allowed bilaga title through; the same number written
    # in a field not listed would have stopped the build, so only the allowed one is in the paper
    folder = arende_with_file(
        tmp_path, "utredning.pdf", rubrik="Ärende om en utredning",
        bilagor=[{"titel": f"Utredning om {NUMBER}", "fil": "utredning.pdf"}],
        **{"tillåt_personnummer": {"bilagor[1].titel": "Bilagan gäller en namngiven person."}})
    out = tmp_path / "out"
    result = run("build", folder, "--organisationer", ORGANISATIONER, "--out", out)
    assert result.exit_code == 0, result.output
    text, report, manifest = side_files(out, "")
    assert f"Bilaga 1 – Utredning om {NUMBER} (filen utredning.pdf)" in text
    assert [part["del"] for part in report["delar"]][1:] == [f"Bilaga 1 – Utredning om {NUMBER}"]
    # the bilaga is an untagged PDF: the run's warning names it, in manifest.json too
    assert any(f"Utredning om {NUMBER}" in w["varning"] for w in manifest["varningar"])


def test_mask_personnummer_leaves_an_allowed_number_however_written():
    from generator.personnummer import PERSONNUMMER, personnummer_key
    allowed = {personnummer_key(PERSONNUMMER.search(NUMBER))}
    text = f"{NUMBER}, {PNR}, {PNR[:6]}-{PNR[6:]} och {OTHER}"
    assert mask_personnummer(text, allowed) == f"{NUMBER}, {PNR}, {PNR[:6]}-{PNR[6:]} och {OTHER_MASKED}"
    assert mask_personnummer(text) == f"{MASKED}, {PNR[:-4]}****, {PNR[:6]}-****" + f" och {OTHER_MASKED}"
