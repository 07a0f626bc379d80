"""Word fields that pull in other files (INCLUDEPICTURE, INCLUDETEXT, LINK, DDE) are not followed."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import docx
from pypdf import PdfReader
from test_hostile_office import listener  # noqa: F401 (a fixture)

from generator.officefile import copy_office_file, neutralise_fields

W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def complex_field(instruction: str, result: str) -> str:
    """Return the runs of a Word field with ``instruction`` split over two instrText runs."""
    half = len(instruction) // 2
    return ('<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
            f'<w:r><w:instrText xml:space="preserve">{instruction[:half]}</w:instrText></w:r>'
            f'<w:r><w:instrText xml:space="preserve">{instruction[half:]}</w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
            f'<w:r><w:t>{result}</w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r>')


def field_docx(path: Path, paragraphs: list[str]) -> Path:
    """Write a .docx whose body has a paragraph per item of ``paragraphs`` (runs as XML)."""
    document = docx.Document()
    document.add_paragraph("Bilaga med fält")
    buf = io.BytesIO()
    document.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src:
        entries = {i.filename: src.read(i) for i in src.infolist()}
    body = "".join(f"<w:p>{runs}</w:p>" for runs in paragraphs).encode()
    entries["word/document.xml"] = entries["word/document.xml"].replace(b"<w:sectPr", body + b"<w:sectPr", 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries.items():
            dst.writestr(name, data)
    return path


def test_include_fields_are_not_followed_by_libreoffice(converter, listener, tmp_path):  # noqa: F811
    url, hits = listener
    secret = tmp_path / "hemlig.txt"
    secret.write_text("HEMLIG TEXT FRÅN DISKEN", encoding="utf-8")
    src = field_docx(tmp_path / "falt.docx", [
        complex_field(f' INCLUDEPICTURE "{url}/bild.png" \\* MERGEFORMATINET \\d ', "Bild"),
        f'<w:fldSimple w:instr=" INCLUDEPICTURE &quot;{url}/enkel.png&quot; \\d "><w:r><w:t>Enkel</w:t></w:r></w:fldSimple>',
        complex_field(f' INCLUDETEXT "{secret}" ', "Sparad text"),
        complex_field(" PAGE ", "1"),
    ])

    out = converter.to_pdf(src, tmp_path / "falt.pdf")

    time.sleep(0.5)  # a request in flight would arrive by now
    assert hits == []
    text = " ".join(p.extract_text() for p in PdfReader(out).pages)
    assert "HEMLIG" not in text
    assert "Sparad text" in text and "Bilaga med fält" in text  # the cached results stay


def test_copy_removes_linking_fields_and_keeps_others(tmp_path):
    src = field_docx(tmp_path / "in.docx", [
        complex_field(' LINK Excel.Sheet.12 "C:\\\\data\\\\tabell.xlsx" "Blad1!R1C1:R2C2" \\a ', "Tabell"),
        complex_field(' DDEAUTO Excel "C:\\\\a.xlsx" "R1C1" ', "Dde"),
        '<w:fldSimple w:instr=" INCLUDETEXT c:\\\\x.docx "/>',
        complex_field(' HYPERLINK "https://goteborg.se/" ', "goteborg.se"),
        complex_field(" PAGE ", "1"),
    ])

    assert copy_office_file(src, tmp_path / "ut.docx") == 3
    with zipfile.ZipFile(tmp_path / "ut.docx") as zf:
        xml = zf.read("word/document.xml").decode()
    assert "tabell.xlsx" not in xml and "DDEAUTO" not in xml and "INCLUDETEXT" not in xml
    assert "Tabell" in xml and "Dde" in xml  # the cached results stay, as plain runs
    assert "goteborg.se/" in xml and xml.count("<w:instrText") == 4  # HYPERLINK and PAGE stay
    assert xml.count('w:fldCharType="begin"') == xml.count('w:fldCharType="end"') == 2
    assert docx.Document(str(tmp_path / "ut.docx")).paragraphs[1].text == "Tabell"


def test_nested_field_inside_a_kept_field():
    inner = complex_field(' INCLUDEPICTURE "http://127.0.0.1:9/x.png" ', "Bild").encode()
    outer = (b'<w:p ' + W + b'><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> IF 1 = 1 "</w:instrText></w:r>'
             + inner + b'<w:r><w:instrText>"</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>')
    data, removed = neutralise_fields(outer)
    assert removed == 1
    assert b"127.0.0.1" not in data and b"IF 1 = 1" in data and b"Bild" in data
    assert data.count(b'fldCharType="begin"') == data.count(b'fldCharType="end"') == 1


def test_field_name_written_with_a_character_reference_is_still_found():
    data, removed = neutralise_fields(b'<w:p ' + W + b'><w:fldSimple w:instr=" &#73;NCLUDETEXT &quot;a&gt;b&quot; > c"/></w:p>')
    assert removed == 1 and b"fldSimple" not in data
