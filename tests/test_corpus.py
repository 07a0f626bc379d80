"""Real-world bilagor (tests/corpus/, see its README): each built alone with the real ``beslut build``.

Every file here once broke a build (issue 19). Each is built as the only bilaga of an
ärende in a fresh ``beslut`` process (its stderr and exit code as a user sees them) and
must be bundled correctly, or refused with a Swedish message naming it and exit 6; never
70. The spreadsheets too wide or too long to exist small are made with XlsxWriter.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
import yaml
from conftest import ORGANISATIONER, VALID_ARENDE

from generator.libreoffice import DEFAULT_TIMEOUT, conversion_timeout, libreoffice_available

CORPUS = Path(__file__).resolve().parent / "corpus"

pytestmark = pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice saknas: bash scripts/setup.sh")

ENGLISH_NOISE = re.compile(r"Xref|xref|Object \d+ \d+ found|Ignoring|Traceback|WARNING|programfel")


@dataclass
class Built:
    """What ``beslut build`` did with one bilaga."""

    rc: int
    stdout: str
    stderr: str
    folder: Path
    """The ärende's output folder (handlingar.pdf, manifest.json …)."""
    name: str
    """The bilaga's file name."""

    @property
    def noise(self) -> re.Match | None:
        """Return the first English library line (or bug report) on stderr, file names aside."""
        return ENGLISH_NOISE.search(self.stderr.replace(self.name, "bilagan"))

    @property
    def bundle(self) -> Path:
        return self.folder / "handlingar.pdf"

    @property
    def manifest(self) -> dict:
        return json.loads((self.folder / "manifest.json").read_text(encoding="utf-8"))

    def bilaga_text(self) -> str:
        """Return the text of the bilaga's pages (every page after the paper's)."""
        with pikepdf.open(self.bundle) as pdf:
            total = len(pdf.pages)
        paper = _pages(self.folder / "beslutsunderlag.pdf")
        return _pdftotext(self.bundle, paper + 1, total)


def build_alone(source: Path, tmp_path: Path, name: str | None = None, *options: str) -> Built:
    """Build an ärende whose only bilaga is a copy of ``source`` (named ``name``) in a fresh process."""
    arende = tmp_path / "arende"
    arende.mkdir(parents=True)
    bilaga = arende / (name or source.name)
    shutil.copyfile(source, bilaga)
    data = {**VALID_ARENDE, "bilagor": [{"titel": "Bilagan", "fil": bilaga.name}]}
    (arende / "arende.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "generator", *options, "build", "--organisationer", str(ORGANISATIONER),
         "--out", str(out), str(arende)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    return Built(done.returncode, done.stdout, done.stderr, out / "arenden" / "arende", bilaga.name)


def _pages(pdf: Path) -> int:
    with pikepdf.open(pdf) as opened:
        return len(opened.pages)


def _pdftotext(pdf: Path, first: int, last: int, *extra: str) -> str:
    return subprocess.run(["pdftotext", *extra, "-f", str(first), "-l", str(last), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def assert_bundled(built: Built) -> None:
    """Assert a clean build: exit 0, a handlingar.pdf qpdf finds nothing wrong with, no English noise."""
    assert built.rc == 0, built.stderr
    assert built.bundle.is_file()
    check = subprocess.run(["qpdf", "--check", str(built.bundle)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert not built.noise, built.stderr


def assert_refused(built: Built, *words: str) -> None:
    """Assert a refusal with exit 6 and a Swedish message naming the bilaga; nothing bundled."""
    assert built.rc == 6, (built.rc, built.stderr)
    assert "Bilaga 1" in built.stderr or "bilaga 1" in built.stderr
    for word in words:
        assert word in built.stderr, built.stderr
    assert not built.bundle.exists()
    assert not built.noise, built.stderr


# --- office files -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["python-docx-comments-rich-para.docx", "python-docx-comments-rich-para.odt"])
def test_document_with_comments_is_bundled_and_the_comments_are_reported(tmp_path, name):
    built = build_alone(CORPUS / name, tmp_path)
    assert_bundled(built)
    assert "Some text worthy of note." in built.bilaga_text()
    assert "4 kommentarer togs bort" in built.stderr
    cleaned = built.manifest["rensat"]
    assert [c["borttaget"] for c in cleaned] == [{"comment": 4}]


def test_one_comment_docx_from_poi_is_bundled(tmp_path):
    built = build_alone(CORPUS / "poi-comment.docx", tmp_path)
    assert_bundled(built)
    assert "En kommentar togs bort" in built.stderr


@pytest.mark.parametrize("name", ["poi-bug53475-password-is-pass.docx", "poi-protected_passtika.xlsx"])
def test_password_protected_office_file_is_refused_as_such(tmp_path, name):
    built = build_alone(CORPUS / name, tmp_path)
    assert_refused(built, "skyddad med lösenord", name)
    assert "skadad" not in built.stderr


@pytest.mark.parametrize(("source", "name"), [("poi-FldSimple.docx", "Rapport om budget.docx"),
                                              ("poi-45544.xlsx", "Kostnader 2024.xlsx")])
def test_file_name_fields_print_the_bilaga_s_own_name(tmp_path, source, name):
    built = build_alone(CORPUS / source, tmp_path, name=name)
    assert_bundled(built)
    text = built.bilaga_text()
    assert name in text
    assert "bilaga.docx" not in text and "bilaga.xlsx" not in text


def wide_sheet(path: Path, columns: int = 350, rows: int = 30) -> Path:
    """Write a budget-like sheet ``columns`` wide: a header row and rows of numbers."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Budget")
    sheet.write_row(0, 0, [f"Konto {c + 1}" for c in range(columns)])
    for r in range(1, rows):
        sheet.write_row(r, 0, [1000 * r + c + 0.25 for c in range(columns)])
    book.close()
    return path


def large_sheet(path: Path, rows: int) -> Path:
    """Write a long data sheet of ``rows`` rows and eight columns (constant memory)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Data")
    for r in range(rows):
        sheet.write_row(r, 0, [r, f"Rad {r}", r * 1.5, r % 7, f"Kommun {r % 290}", r * 3, "text", r / 3])
    book.close()
    return path


def test_very_wide_sheet_is_split_across_legible_pages_in_reading_order(tmp_path):
    built = build_alone(wide_sheet(tmp_path / "bred.xlsx"), tmp_path)
    assert_bundled(built)
    paper = _pages(built.folder / "beslutsunderlag.pdf")
    total = _pages(built.bundle)
    assert total - paper > 3  # split, not shrunk onto three pages
    text = built.bilaga_text()
    assert "###" not in text
    numbers = [float(n) for n in re.findall(r"\b\d+\.25\b", text)]
    assert len(set(numbers)) == 29 * 350  # every number printed (column A's on every page)
    heights = [float(m[1]) - float(m[0]) for m in re.findall(
        r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', _pdftotext(built.bundle, paper + 1, total, "-bbox"))]
    assert min(heights) > 5  # 0.9 pt before
    first, second = (_pdftotext(built.bundle, p, p, "-raw") for p in (paper + 1, paper + 2))
    last_on_first = max(int(n) for n in re.findall(r"Konto (\d+)", first))
    on_second = {int(n) for n in re.findall(r"Konto (\d+)", second)}
    assert min(on_second - {1}) == last_on_first + 1  # left to right; column A repeats on every page


def test_split_sheet_repeats_its_heading_row_and_first_column_on_every_page(tmp_path):
    """Wide and long: split both across and down; every page shows the headings and the row names."""
    import xlsxwriter

    path = tmp_path / "budget.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Budget 2024")
    sheet.write_row(0, 0, ["Förvaltning"] + [f"Konto {c}" for c in range(1, 120)])
    for r in range(1, 90):
        sheet.write_row(r, 0, [f"Enhet {r}"] + [1000 * r + c + 0.25 for c in range(1, 120)])
    book.close()
    built = build_alone(path, tmp_path)
    assert_bundled(built)
    paper = _pages(built.folder / "beslutsunderlag.pdf")
    total = _pages(built.bundle)
    assert total - paper >= 4  # split across and down
    for page in range(paper + 1, total + 1):
        text = _pdftotext(built.bundle, page, page, "-layout")
        assert re.search(r"Förvaltning\s*Konto \d+", text), (page, text[:300])  # the heading row
        rows = [line.strip() for line in text.splitlines() if ".25" in line]
        assert rows and all(re.match(r"Enhet \d+\s", line) for line in rows), (page, rows[:2])  # column A
    numbers = re.findall(r"\b\d+\.25\b", built.bilaga_text())
    assert len(numbers) == 89 * 119  # every number once: only the titles repeat


def test_numbers_wider_than_their_columns_print_in_full(tmp_path):
    """Numbers with thousands separators in default-width columns (as XlsxWriter leaves them)."""
    import xlsxwriter

    path = tmp_path / "smala.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Budget")
    money = book.add_format({"num_format": "#,##0.00"})
    sheet.write_row(0, 0, [f"Konto {c + 1}" for c in range(14)])
    for r in range(1, 40):
        sheet.write_row(r, 0, [123456.25 + 1000 * r + c for c in range(14)], money)
    book.close()
    built = build_alone(path, tmp_path)
    assert_bundled(built)
    text = built.bilaga_text()
    assert "###" not in text  # every one of them was ### before
    assert len(re.findall(r"\b\d{3},\d{3}\.25\b", text)) == 39 * 14


def test_large_sheet_gets_time_in_proportion_to_its_size(tmp_path):
    sheet = large_sheet(tmp_path / "stor.xlsx", 120_000)
    assert conversion_timeout(sheet, DEFAULT_TIMEOUT) > DEFAULT_TIMEOUT
    assert conversion_timeout(CORPUS / "poi-45544.xlsx", DEFAULT_TIMEOUT) == DEFAULT_TIMEOUT


# --- PDFs ---------------------------------------------------------------------------------

def test_linearized_pdf_leaves_the_console_its_warnings(tmp_path):
    built = build_alone(CORPUS / "qpdf-minimal-linearized.pdf", tmp_path)
    assert_bundled(built)
    assert "Varning" in built.stderr and "saknar taggar" in built.stderr


@pytest.mark.parametrize("name", ["qpdf-dangling-bad-xref.pdf", "qpdf-xref-errors.pdf", "qpdf-no-space-in-xref.pdf"])
def test_pdf_the_validator_cannot_parse_is_bundled_with_a_report(tmp_path, name):
    built = build_alone(CORPUS / name, tmp_path)
    assert_bundled(built)
    report = (built.folder / "tillganglighetsrapport.txt").read_text(encoding="utf-8")
    assert "Bilaga 1" in report
    assert "PDFUA1-" not in report


def test_library_log_lines_show_only_with_debug(tmp_path):
    quiet = build_alone(CORPUS / "qpdf-no-space-in-xref.pdf", tmp_path / "tyst")
    assert_bundled(quiet)
    debug = build_alone(CORPUS / "qpdf-no-space-in-xref.pdf", tmp_path / "debug", None, "--debug")
    assert debug.rc == 0, debug.stderr
    assert "logg (pypdf" in debug.stderr and "Xref" in debug.stderr


@pytest.mark.parametrize("name", ["qpdf-bad-xref.pdf", "qpdf-many-nulls.pdf", "qpdf-dangling-bad-xref.pdf",
                                  "pdfjs-bug1011159.pdf"])
def test_pdf_qpdf_repairs_is_bundled_and_said_to_be_repaired(tmp_path, name):
    built = build_alone(CORPUS / name, tmp_path)
    assert_bundled(built)  # qpdf --check passes on handlingar.pdf
    assert "rättades automatiskt" in built.stderr
    try:
        pages = _pages(CORPUS / name)
    except pikepdf.PdfError:  # pikepdf cannot open it (beslut asked the qpdf program): poppler's count
        pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
            ["pdfinfo", str(CORPUS / name)], capture_output=True, text=True).stdout)[1])
    assert _pages(built.bundle) == _pages(built.folder / "beslutsunderlag.pdf") + pages


def test_jbig2_scan_is_bundled_checked_and_readable(tmp_path):
    """A JBIG2 image (how scanners compress black-and-white pages): jbig2dec decodes it for the check."""
    from pikepdf import PdfImage

    built = build_alone(CORPUS / "pdfjs-jbig2_symbol_offset.pdf", tmp_path)
    assert_bundled(built)
    assert "inte gick att rätta" not in built.stderr and "rättades" not in built.stderr
    with pikepdf.open(built.bundle) as pdf:
        assert pdf.check_pdf_syntax() == []
        images = [PdfImage(image) for image in pdf.pages[-1].get_images().values()]
        jbig2 = [image for image in images if image.filters == ["/JBIG2Decode"]]
        assert jbig2  # copied as it was, not re-encoded
        pixels = jbig2[0].as_pil_image().convert("L")  # needs jbig2dec
    black = sum(pixels.histogram()[:128])
    assert 0 < black < pixels.width * pixels.height / 4  # the text "JBIG2 TEXT", not a blank or black box


def test_jbig2_bomb_is_refused_without_eating_the_memory(tmp_path):
    """pdf.js's bomb: JBIG2 streams of 40 KB that claim a 100 000-row page (jbig2dec took 1.7 GB unbounded)."""
    import resource

    built = build_alone(CORPUS / "pdfjs-bomb_giant.pdf", tmp_path)
    assert_refused(built, "skadad")
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 1024 * 1024  # KiB: no child reached 1 GiB


def test_jbig2dec_is_given_a_memory_limit_and_fails_on_a_bomb():
    from generator.bundleparts import JBIG2_MEMORY

    with pikepdf.open(CORPUS / "pdfjs-bomb_giant.pdf") as pdf:
        stream = next(o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Filter") == "/JBIG2Decode")
        with pytest.raises(pikepdf.PdfError):
            stream.read_bytes()  # decoded by jbig2dec, which gives up at the limit
    assert JBIG2_MEMORY <= 256 * 1024 * 1024


def test_tagged_pdf_with_null_under_document_is_bundled_tagged(tmp_path):
    built = build_alone(CORPUS / "pdfjs-bug1365930.pdf", tmp_path)
    assert_bundled(built)
    with pikepdf.open(built.bundle) as pdf:
        assert "/StructTreeRoot" in pdf.Root
    report = (built.folder / "tillganglighetsrapport.txt").read_text(encoding="utf-8")
    assert not re.search(r"PDFUA1-|teknisk regel", report)


def test_form_leaves_no_acroform_in_the_bundle(tmp_path):
    built = build_alone(CORPUS / "pypdf-libreoffice-form.pdf", tmp_path)
    assert_bundled(built)
    with pikepdf.open(built.bundle) as pdf:
        assert "/AcroForm" not in pdf.Root
        assert not any(a.get("/Subtype") == "/Widget" for p in pdf.pages for a in p.obj.get("/Annots", []))


def test_bare_marked_content_number_under_document_is_bundled_tagged(tmp_path, converter):
    """A tagged LibreOffice PDF with an MCID right under /Document (legal) keeps its tags in the bundle."""
    from generator.bundle import write_bundle
    from generator.bundleparts import BundlePart

    paper, bilaga = tmp_path / "paper.pdf", tmp_path / "bilaga.pdf"
    converter.to_pdf(CORPUS / "poi-FldSimple.docx", paper)
    converter.to_pdf(CORPUS / "python-docx-comments-rich-para.docx", bilaga)
    with pikepdf.open(bilaga, allow_overwriting_input=True) as pdf:
        document = pdf.Root.StructTreeRoot.K
        document = document[0] if isinstance(document, pikepdf.Array) else document
        assert document.S == "/Document"
        paragraph = next(k for k in document.K if isinstance(k, pikepdf.Dictionary) and "/Pg" in k
                         and isinstance(k.get("/K"), pikepdf.Array) and any(isinstance(m, int) for m in k.K))
        mcid = next(int(m) for m in paragraph.K if isinstance(m, int))
        document.Pg = paragraph.Pg
        document.K.append(mcid)  # the paragraph's content now belongs to the Document itself
        paragraph.K = pikepdf.Array([m for m in paragraph.K if m != mcid])
        pdf.save(bilaga)
    parts = [BundlePart(pdf=paper, bookmark="Beslutsunderlag", label=None, stamp=None),
             BundlePart(pdf=bilaga, bookmark="Bilaga 1 – Bilagan", label="Bilaga 1:", stamp="Bilaga 1", nummer=1)]
    out = tmp_path / "handlingar.pdf"
    write_bundle(parts, out, title="Test")
    with pikepdf.open(out) as pdf:
        part = pdf.Root.StructTreeRoot.K[0].K[1]
        assert part.T == "Bilaga 1 – Bilagan"
        sections = [k for k in part.K if k.S == "/Sect"]
        assert sections and any(isinstance(k, int) for k in sections[0].K)
        assert sections[0].Pg.objgen == pdf.pages[-1].obj.objgen


def test_pdf_with_a_null_in_its_cropbox_is_repaired_and_bundled_on_a4(tmp_path):
    """A real PDF whose first page's /CropBox holds a null (made from a corpus file) bundles, repaired."""
    damaged = tmp_path / "beskuren.pdf"
    with pikepdf.open(CORPUS / "qpdf-minimal-linearized.pdf") as pdf:
        pdf.pages[0].obj["/CropBox"] = pikepdf.Object.parse(b"[0 0 null 792]")
        pdf.save(damaged)
    built = build_alone(damaged, tmp_path)
    assert_bundled(built)
    assert "rättades automatiskt" in built.stderr
    with pikepdf.open(built.bundle) as pdf:
        last = pdf.pages[-1]
        assert [round(float(v)) for v in last.mediabox] in ([0, 0, 595, 842], [0, 0, 842, 595])
        assert "/CropBox" not in last.obj or None not in list(last.obj.CropBox)


@pytest.mark.parametrize("name", ["pdfjs-boundingBox_invalid.pdf", "pdfjs-annotation-text-without-popup.pdf"])
def test_pdf_pages_pypdf_trips_over_are_repaired_and_bundled_on_a4(tmp_path, name):
    built = build_alone(CORPUS / name, tmp_path)
    assert_bundled(built)  # was "PDF-filen kunde inte kopieras"
    assert "rättades automatiskt" in built.stderr
    with pikepdf.open(CORPUS / name) as original, pikepdf.open(built.bundle) as bundle:
        bilaga = list(bundle.pages)[-len(original.pages):]
        assert len(bundle.pages) == _pages(built.folder / "beslutsunderlag.pdf") + len(original.pages)
        for page in bilaga:
            assert sorted(round(float(v)) for v in page.mediabox[2:]) == [595, 842]
