"""The whole chain with the real LibreOffice: PDF/A paper, handlingar.pdf, bad bilagor."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner
from conftest import PDF_SAMPLES, SAMPLE, VALID_ARENDE, write_arende
from pypdf import PdfReader

from generator.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def page_text(pdf: Path, page: int) -> str:
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    result = run("build", SAMPLE, "--out", out, "--organisation", "gota-lejon", "--organisation", "forskolenamnden")
    assert result.exit_code == 0, result.output
    return out / "arenden" / SAMPLE.name


def test_paper_pdf_is_tagged_pdfa_with_title_and_language(built: Path):
    with pikepdf.open(built / "gota-lejon" / "beslutsunderlag.pdf") as pdf:
        meta = pdf.open_metadata()
        assert meta.get("pdfaid:part") == "2" and meta.get("pdfaid:conformance") == "A"
        assert meta.get("pdfuaid:part") == "1"
        assert pdf.Root.MarkInfo.Marked is True
        assert "/StructTreeRoot" in pdf.Root
        assert str(pdf.Root.Lang) == "sv-SE"
        assert str(pdf.docinfo.Title) == "Information om handlingsplaner"


def test_paper_pdf_has_the_footer_with_page_numbers(built: Path):
    text = page_text(built / "gota-lejon" / "beslutsunderlag.pdf", 1)
    pages = len(PdfReader(built / "gota-lejon" / "beslutsunderlag.pdf").pages)
    assert f"Göteborgs Stad Försäkrings AB Göta Lejon, beslutsunderlag 1 ({pages})" in text
    text = page_text(built / "forskolenamnden" / "tjänsteutlåtande.pdf", 1)
    assert "Göteborgs Stad Förskoleförvaltningen, tjänsteutlåtande 1 (" in text


def test_handlingar_has_one_bookmark_and_numbering_per_part(built: Path):
    bundle = built / "gota-lejon" / "handlingar.pdf"
    reader = PdfReader(bundle)
    titles = [item.title for item in reader.outline]
    assert titles[0] == "Beslutsunderlag"
    assert titles[1] == "Bilaga 1 – Presentationsmaterial om handlingsplaner"
    assert len(titles) == 5
    starts = [reader.get_destination_page_number(item) for item in reader.outline]
    assert starts == sorted(starts) and starts[0] == 0
    for number, start in enumerate(starts[1:], 1):
        assert reader.page_labels[start] == f"Bilaga {number}:1"
        assert f"Bilaga {number}" in page_text(bundle, start + 1)

    # The Bilagor list printed in the paper is the same list, with the same numbers.
    paper = " ".join(page_text(built / "gota-lejon" / "beslutsunderlag.pdf", p) for p in (1, 2))
    paper = re.sub(r"\s+", " ", paper)
    for title in titles[1:]:
        number, name = re.match(r"Bilaga (\d+) – (.*)", title).groups()
        assert f"{number}. {name[:40]}" in paper


def test_sample_handlingar_are_tagged(built: Path):
    with pikepdf.open(built / "gota-lejon" / "handlingar.pdf") as pdf:
        assert pdf.Root.MarkInfo.Marked is True
        role_map = pdf.Root.StructTreeRoot.RoleMap
        assert all(role_map[key] != pikepdf.Name(key) for key in role_map.keys())
        parts = pdf.Root.StructTreeRoot.K[0].K
        assert [str(p.T) for p in parts] == [item.title for item in PdfReader(built / "gota-lejon" / "handlingar.pdf").outline]


def test_bundle_manifest_lists_pdfs_with_pages(built: Path):
    manifest = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    entries = {(e["mottagare"], e["fil"]): e for e in manifest["dokument"]}
    bundle = entries[("gota-lejon", "gota-lejon/handlingar.pdf")]
    assert bundle["sidor"] == len(PdfReader(built / "gota-lejon" / "handlingar.pdf").pages)
    assert ("forskolenamnden", "forskolenamnden/tjänsteutlåtande.pdf") in entries


def test_without_libreoffice_nothing_half_done_is_written(arende_dir, tmp_path: Path, monkeypatch):
    folder = arende_dir()
    out = tmp_path / "out"
    assert run("render", folder, "--out", out).exit_code == 0
    before = (out / "arenden" / "arende" / "beslutsunderlag.docx").read_bytes()
    (folder / "arende.yaml").write_text(
        (folder / "arende.yaml").read_text(encoding="utf-8").replace("Information om", "Ny rubrik om"),
        encoding="utf-8")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = run("render", folder, "--out", out, "--pdf")
    assert result.exit_code == 5
    assert "scripts/setup.sh" in result.stderr
    # The job commits all its files or none: no new .docx beside a missing (or old) PDF.
    assert (out / "arenden" / "arende" / "beslutsunderlag.docx").read_bytes() == before
    assert not (out / "arenden" / "arende" / "beslutsunderlag.pdf").exists()
    assert not (out / ".beslut-arbete").exists()


def bundle_with_bilaga(tmp_path: Path, source: Path | bytes, name: str):
    folder = tmp_path / "arende"
    data = dict(VALID_ARENDE, bilagor=[{"titel": "Bra bilaga", "fil": "bilaga.pdf"},
                                       {"titel": "Trasig bilaga", "fil": name}])
    write_arende(folder, data)
    target = folder / name
    if isinstance(source, Path):
        shutil.copy(source, target)
    else:
        target.write_bytes(source)
    out = tmp_path / "out"
    return run("bundle", folder, "--out", out), out / "arenden" / "arende"


def test_bilaga_with_user_password_is_refused(tmp_path: Path):
    result, out = bundle_with_bilaga(tmp_path, PDF_SAMPLES / "libreoffice-writer-password.pdf", "hemlig.pdf")
    assert result.exit_code == 6
    assert "Bilaga 2" in result.stderr and "Trasig bilaga" in result.stderr and "hemlig.pdf" in result.stderr
    assert "lösenord" in result.stderr
    assert not (out / "handlingar.pdf").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "inga halvfärdiga filer"


def test_unreadable_office_bilaga_is_refused(tmp_path: Path):
    result, out = bundle_with_bilaga(tmp_path, b"\x00\x01 inte ett dokument" * 50, "presentation.pptx")
    assert result.exit_code == 6
    assert "bilaga 2" in result.stderr.lower() and "presentation.pptx" in result.stderr
    assert not (out / "handlingar.pdf").exists()


def test_owner_password_bilaga_is_included_with_a_warning(tmp_path: Path):
    source = tmp_path / "skyddad.pdf"
    with pikepdf.open(PDF_SAMPLES / "minimal-document.pdf") as pdf:
        pdf.save(source, encryption=pikepdf.Encryption(owner="ägare", user="", allow=pikepdf.Permissions(extract=False)))
    result, out = bundle_with_bilaga(tmp_path, source, "skyddad.pdf")
    assert result.exit_code == 0, result.output
    assert "Varning" in result.stderr and "Bilaga 2" in result.stderr
    assert "blir inte taggad" in result.stderr and "Bilaga 1 – Bra bilaga" in result.stderr
    assert len(PdfReader(out / "handlingar.pdf").outline) == 3
