"""PDF/A-2a and PDF/UA-1, checked with the independent validator page-validation (real LibreOffice)."""

from __future__ import annotations

from pathlib import Path

import docx
import pikepdf
import pytest
from click.testing import CliRunner
from conftest import ORGANISATIONER, REPO, SAMPLE

from generator.cli import main
from generator.conformance import make_conformant, validate_pdf

UTSKICK = REPO / "content" / "utskick" / "2023-08-handlingsplaner"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """Build the bolag paper, the nämnd paper and one letter of the sample."""
    out = tmp_path_factory.mktemp("out")
    result = run("build", SAMPLE, "--out", out, "--organisationer", ORGANISATIONER,
                 "--organisation", "gota-lejon", "--organisation", "forskolenamnden")
    assert result.exit_code == 0, result.output
    result = run("letters", UTSKICK, "--till", "gota-lejon", "--pdf", "--out", out,
                 "--organisationer", ORGANISATIONER)
    assert result.exit_code == 0, result.output
    return out


PAPERS = ["arenden/2023-10-handlingsplaner/gota-lejon/beslutsunderlag.pdf",
          "arenden/2023-10-handlingsplaner/forskolenamnden/tjänsteutlåtande.pdf",
          "utskick/2023-08-handlingsplaner/gota-lejon.pdf"]


@pytest.mark.parametrize("name", PAPERS)
@pytest.mark.parametrize("profile", ["2a", "ua1"])
def test_papers_and_letters_pass_pdfa2a_and_pdfua1(sample: Path, name: str, profile: str):
    assert validate_pdf(sample / name, profile) == []


@pytest.mark.parametrize("name", PAPERS)
def test_papers_claim_pdfa2a_and_pdfua1_with_title(sample: Path, name: str):
    with pikepdf.open(sample / name) as pdf:
        meta = pdf.open_metadata()
        assert (meta["pdfaid:part"], meta["pdfaid:conformance"], meta["pdfuaid:part"]) == ("2", "A", "1")
        assert meta["dc:title"]
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        assert all(page.obj.Tabs == "/S" for page in pdf.pages)


def structure_types(pdf: pikepdf.Pdf) -> list[tuple[int, str]]:
    """Return (depth, type) of every structure element in reading order."""
    found = []

    def walk(node, depth):
        kids = node.get("/K")
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                found.append((depth, str(kid.S)))
                walk(kid, depth + 1)

    walk(pdf.Root.StructTreeRoot, 0)
    return found


def test_header_block_is_layout_and_bilagor_a_real_list(sample: Path):
    with pikepdf.open(sample / PAPERS[0]) as pdf:
        types = [kind for _, kind in structure_types(pdf)]
        role_map = pdf.Root.StructTreeRoot.RoleMap
        assert "/Table" not in types  # the header block is layout, not a data table
        assert all(role_map[key] != pikepdf.Name(key) for key in role_map.keys())
        # The four bilagor are one list of four items: L, then (LI, LBody, Bilagelista) x 4.
        start = types.index("/Bilagelista") - 3
        assert types[start:start + 13] == ["/L"] + ["/LI", "/LBody", "/Bilagelista"] * 4


def test_no_private_use_bullets(sample: Path):
    with pikepdf.open(sample / PAPERS[0]) as pdf:
        fonts = {str(font.get("/BaseFont")) for page in pdf.pages
                 for font in (page.obj.Resources.get("/Font") or {}).values()}
    assert fonts and not any("OpenSymbol" in font for font in fonts), fonts


def test_a_level_is_claimed_only_when_it_passes(tmp_path: Path, converter):
    """Word's own default bullets (Symbol) are Private Use characters: no PDF/A-2a claim then."""
    document = docx.Document()
    document.core_properties.title = "Punktlista med Symbol"
    document.add_heading("Rubrik", 1)
    document.add_paragraph("En punkt", style="List Bullet")
    document.add_paragraph("En punkt till", style="List Bullet")
    document.save(tmp_path / "symbol.docx")
    pdf_path = converter.to_pdf(tmp_path / "symbol.docx", tmp_path / "symbol.pdf")
    with pikepdf.open(pdf_path) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:conformance"] == "B"
    assert validate_pdf(pdf_path, "ua1") == []  # the bullets are no PDF/UA problem
    # Run again on the file: the validator names the reason.
    result = make_conformant(pdf_path)
    assert result.pdfa == "2b"
    assert any("PUA" in rule for rule, _ in result.failures["2a"])


def test_content_stream_ending_in_cr_is_ended_otherwise(tmp_path: Path):
    """A zlib stream whose last byte is CR reads as a CR LF before endstream: /Length one byte off."""
    import zlib

    from generator.conformance import no_cr_before_endstream

    data = b"BT /F1 12 Tf 72 720 Td (Hej) Tj ET\n"
    while not zlib.compress(data).endswith(b"\r"):
        data += b" "
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.pages[0].obj.Contents = pdf.make_stream(zlib.compress(data), Filter=pikepdf.Name.FlateDecode)
    no_cr_before_endstream(pdf)
    stream = pdf.pages[0].obj.Contents
    assert not stream.read_raw_bytes().endswith(b"\r")
    assert stream.read_bytes().rstrip(b"\n") == data  # only line feeds added, which draw nothing


def test_letter_whose_page_stream_ended_in_cr_is_pdfa_2a(tmp_path: Path):
    """Familjebostäder's sample letter: page 2's stream ended in CR and the validator refused 2a."""
    result = run("letters", UTSKICK, "--out", tmp_path, "--organisationer", ORGANISATIONER,
                 "--till", "familjebostader", "--pdf")
    assert result.exit_code == 0, result.output
    letter = tmp_path / "utskick" / UTSKICK.name / "familjebostader.pdf"
    assert validate_pdf(letter, "2a") == []
    with pikepdf.open(letter) as pdf, pdf.open_metadata() as meta:
        assert meta.get("pdfaid:conformance") == "A"
