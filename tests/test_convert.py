"""Tests of generator.convert against a real LibreOffice: no mocks.

The session's warm Converter (``converter`` in conftest.py) serves the module; only the
tests of a missing, a dead or hung LibreOffice and of a killed caller start converters of
their own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import date, datetime
from pathlib import Path

import docx
import pikepdf
import pptx
import pytest
import xlsxwriter  # comes with python-pptx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from PIL import Image
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from generator.convert import Converter
from generator.errors import ConversionError
from generator.libreoffice import libreoffice_available

needs_libreoffice = pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice saknas: bash scripts/setup.sh")

A4 = (595, 842)


def make_docx(path: Path, *, title: str = "Tjänsteutlåtande Göta Lejon") -> Path:
    """Write a two-page .docx whose default language (styles docDefaults) is sv-SE."""
    document = docx.Document()
    rpr = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "sv-SE")
    document.core_properties.title = title
    document.add_heading("Förslag till beslut", 1)
    document.add_paragraph("Styrelsen antecknar informationen om handlingsplaner.")
    document.add_page_break()
    document.add_paragraph("Sida två: bedömning.")
    document.save(path)
    return path


def make_pptx(path: Path) -> Path:
    presentation = pptx.Presentation()
    for text in ("Första bilden", "Andra bilden"):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = text
    presentation.save(path)
    return path


def make_xlsx(path: Path) -> Path:
    with xlsxwriter.Workbook(path) as workbook:
        sheet = workbook.add_worksheet("Budget")
        sheet.write_row(0, 0, ["Post", "Belopp"])
        sheet.write_row(1, 0, ["Personal", 125000])
    return path


ODF_NAMESPACES = " ".join(f'xmlns:{prefix}="urn:oasis:names:tc:opendocument:xmlns:{name}"' for prefix, name in [
    ("office", "office:1.0"), ("text", "text:1.0"), ("table", "table:1.0"), ("draw", "drawing:1.0"),
    ("svg", "svg-compatible:1.0"), ("manifest", "manifest:1.0")])
ODF_BODIES = {
    "text": "<office:text><text:p>Hej från ODF</text:p></office:text>",
    "spreadsheet": '<office:spreadsheet><table:table table:name="Blad1"><table:table-row>'
                   '<table:table-cell office:value-type="string"><text:p>Hej från ODF</text:p>'
                   "</table:table-cell></table:table-row></table:table></office:spreadsheet>",
    "presentation": '<office:presentation><draw:page draw:name="s1"><draw:frame svg:x="2cm" svg:y="2cm" '
                    'svg:width="20cm" svg:height="3cm"><draw:text-box><text:p>Hej från ODF</text:p>'
                    "</draw:text-box></draw:frame></draw:page></office:presentation>",
}


def make_odf(path: Path, kind: str) -> Path:
    """Write a minimal ODF file (mimetype, content.xml, manifest) of ``kind``: text, spreadsheet …"""
    mime = f"application/vnd.oasis.opendocument.{kind}"
    with zipfile.ZipFile(path, "w") as odf:
        odf.writestr("mimetype", mime)  # first and stored, as ODF wants
        odf.writestr("content.xml", f'<office:document-content {ODF_NAMESPACES} office:version="1.2">'
                                    f"<office:body>{ODF_BODIES[kind]}</office:body></office:document-content>")
        odf.writestr("META-INF/manifest.xml", f'<manifest:manifest {ODF_NAMESPACES} manifest:version="1.2">'
                     f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mime}"/>'
                     '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                     "</manifest:manifest>")
    return path


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def page_size(path: Path) -> tuple[int, int]:
    box = PdfReader(path).pages[0].mediabox
    return round(float(box.width)), round(float(box.height))


def soffice_processes(marker: str) -> list[int]:
    """Return the pids of live processes whose command line contains ``marker``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "soffice" in cmdline and marker in cmdline:
                pids.append(int(entry.name))
    return pids


@pytest.fixture(scope="module")
def sample_docx(tmp_path_factory) -> Path:
    return make_docx(tmp_path_factory.mktemp("docx") / "tjansteutlatande.docx")


def test_docx_becomes_tagged_pdfa2a_and_pdfua1_with_title_and_swedish(converter, sample_docx, tmp_path):
    out = converter.to_pdf(sample_docx, tmp_path / "ut.pdf")

    assert out == tmp_path / "ut.pdf"
    assert len(PdfReader(out).pages) == 2
    assert "Styrelsen antecknar informationen" in pdf_text(out)
    with pikepdf.open(out) as pdf:
        meta = pdf.open_metadata()
        assert (meta["pdfaid:part"], meta["pdfaid:conformance"], meta["pdfuaid:part"]) == ("2", "A", "1")
        assert pdf.Root.MarkInfo.Marked is True
        assert "/StructTreeRoot" in pdf.Root
        assert str(pdf.Root.Lang) == "sv-SE"
        assert str(pdf.docinfo.Title) == meta["dc:title"] == "Tjänsteutlåtande Göta Lejon"
    assert [p.name for p in tmp_path.iterdir()] == ["ut.pdf"]  # no temporary file left


def test_title_argument_replaces_title_and_keeps_pdfa(converter, sample_docx, tmp_path):
    out = converter.to_pdf(sample_docx, tmp_path / "ut.pdf", title="Bilaga 1: Handlingsplan")

    with pikepdf.open(out) as pdf:
        meta = pdf.open_metadata()
        assert str(pdf.docinfo.Title) == meta["dc:title"] == "Bilaga 1: Handlingsplan"
        assert meta["pdfaid:part"] == "2"


def test_without_pdfa_is_tagged_but_not_pdfa(converter, sample_docx, tmp_path):
    out = converter.to_pdf(sample_docx, tmp_path / "ut.pdf", pdfa=False)

    with pikepdf.open(out) as pdf:
        assert "pdfaid:part" not in pdf.open_metadata()
        assert "/StructTreeRoot" in pdf.Root


def test_pptx_gives_one_page_per_slide(converter, tmp_path):
    out = converter.to_pdf(make_pptx(tmp_path / "bildspel.pptx"), tmp_path / "bildspel.pdf")

    assert len(PdfReader(out).pages) == 2
    text = pdf_text(out)
    assert "Första bilden" in text and "Andra bilden" in text
    with pikepdf.open(out) as pdf:
        assert pdf.open_metadata()["pdfaid:part"] == "2"


def test_xlsx(converter, tmp_path):
    out = converter.to_pdf(make_xlsx(tmp_path / "budget.xlsx"), tmp_path / "budget.pdf")

    assert len(PdfReader(out).pages) == 1
    assert "Personal" in pdf_text(out) and "125000" in pdf_text(out)


@pytest.mark.parametrize("ext, kind", [(".odt", "text"), (".ods", "spreadsheet"), (".odp", "presentation")])
def test_odf(converter, tmp_path, ext, kind):
    out = converter.to_pdf(make_odf(tmp_path / f"in{ext}", kind), tmp_path / "ut.pdf")

    assert len(PdfReader(out).pages) == 1
    assert "Hej från ODF" in pdf_text(out)


def test_wide_png_lands_on_landscape_a4(converter, tmp_path):
    src = tmp_path / "karta.png"
    Image.new("RGBA", (800, 400), (0, 90, 160, 255)).save(src)

    out = converter.to_pdf(src, tmp_path / "karta.pdf")

    assert len(PdfReader(out).pages) == 1
    assert page_size(out) == A4[::-1]
    assert PdfReader(out).metadata.title == "karta"
    assert len(PdfReader(out).pages[0].images) == 1


def test_jpg_is_embedded_as_jpeg(converter, tmp_path):
    src = tmp_path / "foto.jpg"
    Image.new("RGB", (300, 400), (200, 30, 30)).save(src, quality=90)

    out = converter.to_pdf(src, tmp_path / "foto.pdf", title="Foto")

    assert page_size(out) == A4
    assert PdfReader(out).metadata.title == "Foto"
    with pikepdf.open(out) as pdf:
        (image,) = pdf.pages[0].get_images().values()
        assert list(image.Filter) == ["/DCTDecode"]  # the original JPEG, not re-encoded


def test_jpg_with_exif_orientation_is_turned_upright(converter, tmp_path):
    src = tmp_path / "mobil.jpeg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90° clockwise to view
    Image.new("RGB", (400, 300), "white").save(src, exif=exif)

    out = converter.to_pdf(src, tmp_path / "mobil.pdf")

    assert page_size(out) == A4  # 300 x 400 upright: portrait


def test_pdf_is_copied_as_is(converter, tmp_path):
    src = tmp_path / "in.pdf"
    canvas = Canvas(str(src))
    canvas.drawString(100, 700, "Redan en PDF")
    canvas.save()

    out = converter.to_pdf(src, tmp_path / "sub" / "ut.pdf")

    assert out.read_bytes() == src.read_bytes()


def test_unknown_extension_lists_accepted_formats(converter, tmp_path):
    src = tmp_path / "anteckning.txt"
    src.write_text("hej")

    with pytest.raises(ConversionError) as info:
        converter.to_pdf(src, tmp_path / "ut.pdf")

    message = str(info.value)
    assert "anteckning.txt" in message and "'.txt'" in message
    assert all(ext in message for ext in (".docx", ".odt", ".pptx", ".xlsx", ".png", ".jpeg", ".pdf"))


def test_missing_file(converter, tmp_path):
    with pytest.raises(ConversionError, match="finns inte"):
        converter.to_pdf(tmp_path / "borta.docx", tmp_path / "ut.pdf")


def test_pdf_that_is_not_a_pdf(converter, tmp_path):
    src = tmp_path / "falsk.pdf"
    src.write_bytes(b"PK\x03\x04 not a pdf")

    with pytest.raises(ConversionError, match="ingen giltig PDF"):
        converter.to_pdf(src, tmp_path / "ut.pdf")
    assert not (tmp_path / "ut.pdf").exists()


def _broken_docx(path: Path, good: Path) -> Path:
    """Write a .docx whose zip and content types are fine but whose document.xml is not."""
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, b"<w:document trasig" if item.filename == "word/document.xml" else data)
    return path


@pytest.mark.parametrize("case", ["random-bytes.docx", "empty.pptx", "word-named.xlsx", "broken-inside.docx"])
def test_unreadable_office_file_names_file_and_what_to_do(converter, sample_docx, tmp_path, case):
    src = tmp_path / case
    if case == "random-bytes.docx":
        src.write_bytes(os.urandom(4000))
    elif case == "empty.pptx":
        src.touch()
    elif case == "word-named.xlsx":
        src.write_bytes(sample_docx.read_bytes())
    else:
        _broken_docx(src, sample_docx)

    start = time.monotonic()
    with pytest.raises(ConversionError) as info:
        converter.to_pdf(src, tmp_path / "ut.pdf")

    assert time.monotonic() - start < 10
    assert info.value.file == src
    assert "spara den igen" in str(info.value)
    assert not (tmp_path / "ut.pdf").exists()
    assert converter.to_pdf(sample_docx, tmp_path / "efter.pdf").exists()  # server still fine


def test_missing_libreoffice_says_how_to_install(monkeypatch, sample_docx, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "tom"))
    assert not libreoffice_available()
    png = tmp_path / "bild.png"
    Image.new("RGB", (10, 10)).save(png)

    with Converter() as conv:
        with pytest.raises(ConversionError) as info:
            conv.to_pdf(sample_docx, tmp_path / "ut.pdf")
        assert conv.to_pdf(png, tmp_path / "bild.pdf").exists()  # images need no LibreOffice

    assert "bash scripts/setup.sh" in str(info.value)
    assert info.value.file == sample_docx


def soffice_bin(profile: str) -> int:
    (pid,) = [pid for pid in soffice_processes(profile)
              if b"soffice.bin" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    return pid


@needs_libreoffice
def test_dead_or_hung_libreoffice_is_replaced_and_leaves_no_orphans(sample_docx, tmp_path):
    with Converter(workdir=tmp_path, timeout=3) as conv:
        conv.to_pdf(sample_docx, tmp_path / "1.pdf")
        profiles = [str(conv.profile_dir)]

        dead = soffice_bin(profiles[-1])
        os.kill(dead, signal.SIGKILL)  # dies between two documents
        while dead in soffice_processes(profiles[-1]):
            time.sleep(0.05)
        conv.to_pdf(sample_docx, tmp_path / "2.pdf")
        profiles.append(str(conv.profile_dir))

        os.kill(soffice_bin(profiles[-1]), signal.SIGSTOP)  # hangs: the document is retried on a fresh one
        start = time.monotonic()
        conv.to_pdf(sample_docx, tmp_path / "3.pdf")
        assert 3 <= time.monotonic() - start < 30
        profiles.append(str(conv.profile_dir))
        assert conv.starts == 3 and len(set(profiles)) == 3
        assert [soffice_processes(p) == [] for p in profiles] == [True, True, False]
        assert "Styrelsen antecknar" in pdf_text(tmp_path / "3.pdf")

    assert all(soffice_processes(p) == [] and not Path(p).exists() for p in profiles)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.pdf", "2.pdf", "3.pdf"]  # no profile, no temp


@needs_libreoffice
def test_a_document_that_times_out_twice_is_blamed_as_a_hang(tmp_path):
    """Only after the retry on a fresh LibreOffice fails is the file blamed, as too slow."""
    src = tmp_path / "lang.docx"
    document = docx.Document()
    for i in range(3000):
        document.add_paragraph(f"Stycke {i}: " + "text " * 40)
    document.save(src)

    with Converter(workdir=tmp_path / "lo", timeout=0.05) as conv:
        with pytest.raises(ConversionError) as info:
            conv.to_pdf(src, tmp_path / "ut.pdf")
        assert conv.starts == 2

    message = str(info.value)
    assert "inte klart inom 0.05 sekunder, två gånger" in message and "nystartad LibreOffice" in message
    assert info.value.file == src and not (tmp_path / "ut.pdf").exists()


@needs_libreoffice
def test_killed_caller_leaves_no_libreoffice(sample_docx, tmp_path):
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from generator.convert import Converter\n"
        "conv = Converter(workdir=Path(sys.argv[2]))\n"
        "conv.to_pdf(Path(sys.argv[1]), Path(sys.argv[2]) / 'ut.pdf')\n"
        "print(conv.profile_dir, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    caller = subprocess.run([sys.executable, "-c", script, str(sample_docx), str(tmp_path)],
                            capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    assert caller.returncode == -signal.SIGKILL and (tmp_path / "ut.pdf").exists()
    profile = caller.stdout.strip()

    deadline = time.monotonic() + 10
    while soffice_processes(profile) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert soffice_processes(profile) == []


@needs_libreoffice
def test_same_docx_gives_identical_pdf_dated_from_the_document(tmp_path):
    """Two converters (two LibreOffice processes), a second apart: the same bytes."""
    src = tmp_path / "brev.docx"
    document = docx.Document(make_docx(tmp_path / "utkast.docx"))
    document.core_properties.created = document.core_properties.modified = datetime(2023, 10, 2)
    document.save(src)

    outs = []
    for n in (1, 2):
        with Converter(workdir=tmp_path / f"lo{n}") as conv:
            outs.append(conv.to_pdf(src, tmp_path / f"{n}.pdf"))
        time.sleep(1.1)  # a clock in the output would now show
    assert outs[0].read_bytes() == outs[1].read_bytes()

    with pikepdf.open(outs[0]) as pdf:
        meta = pdf.open_metadata()
        assert str(pdf.docinfo.CreationDate) == str(pdf.docinfo.ModDate) == "D:20231002000000+00'00'"
        for key in ("xmp:CreateDate", "xmp:ModifyDate", "xmp:MetadataDate"):
            assert meta[key] == "2023-10-02T00:00:00Z"  # PDF/A: XMP and Info say the same
        assert meta["pdfaid:part"] == "2"
        assert len(pdf.trailer.ID) == 2


def test_when_dates_an_image_pdf(converter, tmp_path):
    src = tmp_path / "bild.png"
    Image.new("RGB", (20, 10)).save(src)

    out = converter.to_pdf(src, tmp_path / "bild.pdf", when=date(2024, 5, 17))

    with pikepdf.open(out) as pdf:
        assert str(pdf.docinfo.CreationDate) == "D:20240517000000+00'00'"
    again = converter.to_pdf(src, tmp_path / "igen.pdf", when=date(2024, 5, 17))
    assert again.read_bytes() == out.read_bytes()


def test_early_converter_starts_libreoffice_at_once_hands_it_over_once_and_stops_it():
    """``beslut render --pdf`` and the like start LibreOffice before the engine loads."""
    from generator.officeserver import group_pids
    from generator.pipeline import early_converter

    with early_converter(False) as none:
        assert none is None
    with early_converter(True) as converters:
        first = converters()
        pgid = first.server_pgid
        assert pgid is not None and group_pids(pgid)  # launched, without waiting for a document
        second = converters()
        assert second is not first and second.server_pgid is None  # the others start as usual
        first.start()  # waits for the launched server, does not start another
        assert first.server_pgid == pgid and first.starts == 1
    assert first.server_pgid is None
    assert not group_pids(pgid)  # stopped when the command ends
