"""handlingar.pdf and PDF/UA-1, the tillgänglighetsrapport, and print-ready spreadsheet bilagor.

Real LibreOffice, real PDFs, checked with the independent validator page-validation.
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path

import docx
import openpyxl
import pikepdf
import pptx
import xlsxwriter
from conftest import SAMPLE, VALID_ARENDE, render_paper, write_arende
from PIL import Image
from pptx.util import Inches

from generator.conformance import validate_pdf
from generator.officefile import copy_office_file
from generator.sheetprint import fit_sheet_to_a4

A4 = {(595, 842), (842, 595)}
HEADERS = [f"Kolumn{i}" for i in range(1, 13)]


def png() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 30, 30)).save(data, "PNG")
    data.seek(0)
    return data


def make_docx(path: Path, heading: str, *, alt: str | None) -> Path:
    """Write a Word file with a heading, text and, if ``alt`` is given, an image with that alt text."""
    document = docx.Document()  # python-docx's default is US Letter: handlingar.pdf makes it A4
    document.add_heading(heading, 1)
    document.add_paragraph("Ett stycke text i bilagan.")
    if alt is not None:
        document.add_picture(png())
        document.inline_shapes[0]._inline.docPr.set("descr", alt)
    document.save(path)
    return path


def make_xlsx(path: Path, rows: int = 8) -> Path:
    """Write a workbook with 12 wide columns (XlsxWriter's default page setup: no fitting)."""
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Data")
    sheet.set_column(0, 11, 16)
    sheet.write_row(0, 0, HEADERS)
    for r in range(1, rows + 1):
        sheet.write_row(r, 0, [f"värde {r}-{c}" for c in range(1, 13)])
    book.close()
    return path


def make_pptx(path: Path) -> Path:
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "En bild"
    picture = slide.shapes.add_picture(png(), Inches(1), Inches(2))
    picture._element.nvPicPr.cNvPr.set("descr", "En röd rektangel")
    deck.save(path)
    return path


def arende_with(folder: Path, bilagor: list[tuple[str, Path]]) -> Path:
    """Write a valid ärende whose bilagor are the given (titel, file) pairs in ``folder``."""
    data = dict(VALID_ARENDE, bilagor=[{"titel": titel, "fil": file.name} for titel, file in bilagor])
    return write_arende(folder, data)


def pages_text(pdf: Path, first: int, last: int) -> str:
    return subprocess.run(["pdftotext", "-f", str(first), "-l", str(last), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def visual_sizes(pdf: Path) -> list[tuple[int, int]]:
    """Return each page's size as shown (cropbox, /Rotate applied), rounded to points."""
    sizes = []
    with pikepdf.open(pdf) as doc:
        for page in doc.pages:
            box = [float(v) for v in page.obj.get("/CropBox", page.mediabox)]
            w, h = round(abs(box[2] - box[0])), round(abs(box[3] - box[1]))
            sizes.append((h, w) if int(page.obj.get("/Rotate", 0)) % 180 else (w, h))
    return sizes


# --- handlingar.pdf passes PDF/UA-1 when its parts do --------------------------------------


def test_bundle_of_word_bilagor_with_alt_text_passes_pdfua1(tmp_path, converter):
    folder = tmp_path / "arende"
    folder.mkdir()
    bilagor = [("Bilaga med bild", make_docx(folder / "bild.docx", "Bilagans rubrik", alt="En röd rektangel")),
               ("Bilaga med text", make_docx(folder / "text.docx", "Andra bilagan", alt=None))]
    report = render_paper(arende_with(folder, bilagor), tmp_path / "out", bundle=True, converter=converter)

    bundle = next(f for f in report.files if f.name == "handlingar.pdf")
    assert validate_pdf(bundle, "ua1") == []
    with pikepdf.open(bundle) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfuaid:part"] == "1" and meta["dc:title"] == VALID_ARENDE["rubrik"]
        assert "pdfaid:part" not in meta
        assert pdf.Root.MarkInfo.Marked is True and pdf.Root.Lang == "sv-SE"
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        assert all(page.obj.Tabs == "/S" for page in pdf.pages)
        parts = pdf.Root.StructTreeRoot.K[0].K
        assert [str(p.T) for p in parts] == ["Beslutsunderlag", "Bilaga 1 – Bilaga med bild", "Bilaga 2 – Bilaga med text"]
        assert {str(p.S) for p in parts} == {"/Part"}
    assert set(visual_sizes(bundle)) <= A4  # the US Letter bilagor are A4 now
    assert not [w for w in report.outcomes[0].warnings if "PDF/UA" in w]

    text = (bundle.parent / "tillganglighetsrapport.txt").read_text(encoding="utf-8")
    assert "handlingar.pdf uppfyller PDF/UA-1" in text
    data = json.loads((bundle.parent / "tillganglighetsrapport.json").read_text(encoding="utf-8"))
    assert data["uppfyller_pdfua"] is True
    assert [(d["del"], d["uppfyller_pdfua"]) for d in data["delar"]] == [
        ("Beslutsunderlag", True), ("Bilaga 1 – Bilaga med bild", True), ("Bilaga 2 – Bilaga med text", True)]


def test_sample_report_names_the_slides_without_alt_text(tmp_path, converter):
    report = render_paper(SAMPLE, tmp_path / "out", org_ids=["gota-lejon"], bundle=True, converter=converter)
    bundle = next(f for f in report.files if f.name == "handlingar.pdf")
    assert {f.name for f in report.files} >= {"tillganglighetsrapport.txt", "tillganglighetsrapport.json"}

    text = (bundle.parent / "tillganglighetsrapport.txt").read_text(encoding="utf-8")
    assert "Bilaga 1: 20 bilder saknar alternativtext — lägg till alternativtext i PowerPoint" in text
    assert "Bilaga 2:" not in text  # the Word bilaga has no problem …
    assert "Uppfyller kraven: Beslutsunderlag; Bilaga 2 – Följebrev om nya handlingsplaner" in text  # … and says so
    data = json.loads((bundle.parent / "tillganglighetsrapport.json").read_text(encoding="utf-8"))
    first, second = data["delar"][1], data["delar"][2]
    assert first["fil"] == "1-presentationsmaterial.pptx" and not first["uppfyller_pdfua"]
    alt = next(p for p in first["problem"] if p["regel"] == "PDFUA1-FIGURE-ALTERNATIVE-TEXT-001")
    assert alt["antal"] == 20
    assert second["uppfyller_pdfua"] and second["problem"] == []

    summary = [w for w in report.outcomes[0].warnings if "PDF/UA-1" in w]
    assert summary == ["handlingar.pdf uppfyller inte kraven för tillgänglig PDF (PDF/UA-1): problem i bilaga 1. "
                       "Se tillganglighetsrapport.txt bredvid handlingar.pdf för vad som behöver rättas."]
    with pikepdf.open(bundle) as pdf:  # no claim it does not pass, but a title
        assert "pdfuaid:part" not in pdf.open_metadata()
        assert pdf.open_metadata()["dc:title"] == "Information om handlingsplaner"
    stamped = next(i for i, size in enumerate(visual_sizes(bundle)) if size == (842, 595))
    assert "Bilaga 1" in pages_text(bundle, stamped + 1, stamped + 1)  # slides: A4 landscape, stamped


def test_report_says_what_libreoffice_cannot_tag(tmp_path, converter):
    folder = tmp_path / "arende"
    folder.mkdir()
    bilagor = [("Tabell", make_xlsx(folder / "tabell.xlsx")), ("Bildspel", make_pptx(folder / "bildspel.pptx"))]
    report = render_paper(arende_with(folder, bilagor), tmp_path / "out", bundle=True, converter=converter)
    bundle = next(f for f in report.files if f.name == "handlingar.pdf")

    text = (bundle.parent / "tillganglighetsrapport.txt").read_text(encoding="utf-8")
    assert "Bilaga 1: PDF-filen saknar taggar" in text and "LibreOffice kan inte tagga kalkylblad" in text
    assert "Bilaga 2: innehåll (text, former eller linjer) är inte taggat" in text
    assert "LibreOffice taggar inte alla former, linjer och bakgrunder i presentationer" in text
    assert "problem i bilaga 1 och bilaga 2" in " ".join(report.outcomes[0].warnings)
    # The spreadsheet: A4 landscape, all 12 columns on its first page.
    sizes = visual_sizes(bundle)
    paper_pages = len(pikepdf.open(next(f for f in report.files if f.suffix == ".pdf" and f != bundle)).pages)
    assert sizes[paper_pages] == (842, 595)
    first = pages_text(bundle, paper_pages + 1, paper_pages + 1)
    assert all(header in first for header in HEADERS)
    assert set(sizes) <= A4


# --- print-ready spreadsheets ------------------------------------------------------------


def sheet_setup(xlsx: Path) -> tuple[dict, dict]:
    """Return the attributes of the first sheet's pageSetup and pageSetUpPr."""
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    from lxml import etree

    with zipfile.ZipFile(xlsx) as z:
        root = etree.fromstring(fit_sheet_to_a4(z.read("xl/worksheets/sheet1.xml")))
    order = [child.tag.replace(ns, "") for child in root]
    assert order.index("pageSetup") > order.index("sheetData")  # where the schema wants it
    return dict(root.find(f"{ns}pageSetup").attrib), dict(root.find(f"{ns}sheetPr/{ns}pageSetUpPr").attrib)


def test_wide_sheet_is_set_up_landscape_one_page_wide(tmp_path):
    setup, fit = sheet_setup(make_xlsx(tmp_path / "bred.xlsx"))
    assert setup == {"paperSize": "9", "fitToWidth": "1", "fitToHeight": "0", "orientation": "landscape"}
    assert fit == {"fitToPage": "1"}


def test_tall_sheet_is_set_up_portrait_and_keeps_its_gridlines_setting(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    for r in range(200):
        sheet.append([f"rad {r}", r])
    sheet.print_options.gridLines = True
    book.save(tmp_path / "lang.xlsx")
    setup, _ = sheet_setup(tmp_path / "lang.xlsx")
    assert setup["orientation"] == "portrait" and setup["paperSize"] == "9"
    with zipfile.ZipFile(tmp_path / "lang.xlsx") as z:
        assert b'gridLines="1"' in fit_sheet_to_a4(z.read("xl/worksheets/sheet1.xml"))


def _print_titles(xlsx: Path) -> dict[str, str]:
    """Return the ``_xlnm.Print_Titles`` of LibreOffice's copy of ``xlsx`` by sheet index."""
    from lxml import etree

    copy = xlsx.with_name("kopia.xlsx")
    copy_office_file(xlsx, copy)
    with zipfile.ZipFile(copy) as z:
        root = etree.fromstring(z.read("xl/workbook.xml"))
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    return {name.get("localSheetId"): name.text for name in root.iterfind(f"{ns}definedNames/{ns}definedName")
            if name.get("name") == "_xlnm.Print_Titles"}


def test_split_sheet_repeats_its_frozen_headings_and_only_split_sheets_get_titles(tmp_path):
    book = xlsxwriter.Workbook(str(tmp_path / "bok.xlsx"))
    small = book.add_worksheet("Liten")
    small.write_row(0, 0, ["a", "b"])
    wide = book.add_worksheet("Kvinnors & mäns 'tid' 2024")
    wide.freeze_panes(2, 2)  # two heading rows, two label columns
    for r in range(20):
        wide.write_row(r, 0, [f"r{r}c{c}" for c in range(200)])
    plain = book.add_worksheet("Utan")
    for r in range(3, 20):
        plain.write_row(r, 1, [r * c for c in range(200)])  # used range B4:…
    book.close()
    quoted = "'Kvinnors & mäns ''tid'' 2024'"
    assert _print_titles(tmp_path / "bok.xlsx") == {
        "1": f"{quoted}!$A:$B,{quoted}!$1:$2",
        "2": "'Utan'!$B:$B,'Utan'!$4:$4"}


def test_sheet_keeps_print_titles_of_its_own(tmp_path):
    book = xlsxwriter.Workbook(str(tmp_path / "egen.xlsx"))
    sheet = book.add_worksheet("Data")
    for r in range(10):
        sheet.write_row(r, 0, [r * c for c in range(200)])
    sheet.repeat_rows(2, 3)
    book.close()
    assert _print_titles(tmp_path / "egen.xlsx") == {"0": "Data!$3:$4"}


def test_twelve_column_sheet_converts_to_one_a4_page_width(tmp_path, converter):
    pdf = tmp_path / "tabell.pdf"
    converter.to_pdf(make_xlsx(tmp_path / "tabell.xlsx"), pdf, pdfa=False)
    sizes = visual_sizes(pdf)
    assert len(sizes) == 1 or set(sizes) == {(842, 595)}
    first = pages_text(pdf, 1, 1)
    assert all(header in first for header in HEADERS)
