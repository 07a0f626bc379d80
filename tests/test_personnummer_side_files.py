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
