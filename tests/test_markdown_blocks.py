"""Markdown tables, footnotes and page-break rules: in the .docx and in the PDF (real LibreOffice)."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import docx
import pikepdf
import pytest
from conftest import VALID_ARENDE, all_paragraphs, render_paper, write_arende
from docx.oxml.ns import qn
from lxml import etree

from generator.conformance import validate_pdf
from generator.markdowncheck import find_stray_table_lines

ROWS = "\n".join(f"| Rad {i} | {i * 1000} kr | Klart |" for i in range(1, 45))
BESKRIVNING = (
    "Kostnaderna per post, se not[^1]:\n\n"
    "| Post | Belopp | Status |\n|:-----|------:|:------:|\n" + ROWS + "\n\n"
    "Styrelsen ska göra följande:\n\n- ett\n- två\n- tre\n\n"
    "[^1]: Beloppen är preliminära {{ inte_mall }} och *ungefärliga*.\n"
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """Render an ärende with a long table, a footnote and a list intro, as .docx and PDF."""
    folder = tmp_path_factory.mktemp("arende")
    write_arende(folder, {**VALID_ARENDE, "beskrivning": BESKRIVNING,
                          "bedömning": "Trasig:\n\n| a | b |\n| 1 | 2 |\n"})
    result = render_paper(folder, tmp_path_factory.mktemp("out"), pdf=True)
    docx_path, pdf_path = result.files
    return docx_path, pdf_path, result.outcomes[0].warnings


def test_pipe_table_is_a_word_table_with_repeated_header(rendered):
    document = docx.Document(str(rendered[0]))
    table = next(t for t in document.tables if t.style.name == "Tabell")
    assert table.style.name == "Tabell"
    assert len(table.rows) == 45 and len(table.columns) == 3
    assert [c.text for c in table.rows[0].cells] == ["Post", "Belopp", "Status"]
    header = table.rows[0]._tr.trPr
    assert header.find(qn("w:tblHeader")) is not None
    assert table.rows[1]._tr.trPr.find(qn("w:tblHeader")) is None
    aligns = [c.paragraphs[0].paragraph_format.alignment for c in table.rows[5].cells]
    assert [str(a).split(".")[-1].split(" ")[0] if a is not None else None for a in aligns] == ["LEFT", "RIGHT", "CENTER"]


def test_table_cells_are_th_and_td_in_the_pdf_and_header_repeats(rendered):
    pdf_path = rendered[1]
    with pikepdf.open(pdf_path) as pdf:
        kinds = []

        def walk(node):
            kids = node.get("/K")
            for kid in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    kinds.append(str(kid.S))
                    walk(kid)

        walk(pdf.Root.StructTreeRoot)
        pages = len(pdf.pages)
    assert kinds.count("/TH") >= 3 and kinds.count("/TD") == 44 * 3
    assert pages >= 2
    second = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(pdf_path), "-"],
                            capture_output=True, text=True, check=True).stdout
    assert "Rad 44" in second and "Rad 1\n" not in second
    assert "Post" in second and "Belopp" in second  # the header row again on the next page


def test_footnote_is_a_word_footnote_at_the_page_bottom(rendered):
    docx_path, pdf_path, _ = rendered
    with zipfile.ZipFile(docx_path) as zf:
        body = zf.read("word/document.xml").decode()
        notes = zf.read("word/footnotes.xml").decode()
    assert body.count("<w:footnoteReference ") == 1
    notes_text = "".join(etree.fromstring(notes.encode()).itertext())
    assert "Beloppen är preliminära {{ inte_mall }} och ungefärliga." in notes_text  # content, not template code
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf_path), "-"],
                          capture_output=True, text=True, check=True).stdout
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    note = next(i for i, line in enumerate(lines) if "Beloppen är preliminära" in line)
    assert note >= len(lines) - 3  # below the text, just above the footer
    assert "{{ inte_mall }}" in lines[note]


def test_table_and_footnote_keep_pdfa2a_and_pdfua1(rendered):
    assert validate_pdf(rendered[1], "2a") == []
    assert validate_pdf(rendered[1], "ua1") == []


def test_malformed_table_gets_a_warning_with_its_line(rendered):
    warnings = [w for w in rendered[2] if "tabellrad" in w]
    assert len(warnings) == 1
    assert warnings[0].startswith("bedömning, rad 3 i texten: '| a | b |'")
    assert find_stray_table_lines("| a |\n|---|\n| 1 |\n\n```\n| kod |\n```\n") == []


def test_list_intros_short_lists_and_bilagor_keep_together(rendered):
    document = docx.Document(str(rendered[0]))
    paragraphs = all_paragraphs(document)
    table_intro = next(p for p in paragraphs if p.text.startswith("Kostnaderna per post"))
    assert table_intro.paragraph_format.keep_with_next is True
    # A short list and its intro share one cell of a table whose row may not break.
    intro = next(p for p in paragraphs if p.text == "Styrelsen ska göra följande:")
    items = [p for p in paragraphs if p.style.name == "List Bullet" and p.text in ("ett", "två", "tre")]
    cell = intro._p.getparent()
    assert cell.tag == qn("w:tc") and [p._p.getparent() for p in items] == [cell] * 3
    assert len(cell) == 5 and cell.getparent().find(f"{qn('w:trPr')}/{qn('w:cantSplit')}") is not None
    # The Bilagor list is in a one-cell table whose row may not break across pages.
    heading = next(p for p in paragraphs if p.text == "Bilagor")
    assert heading.paragraph_format.keep_with_next or heading.style.paragraph_format.keep_with_next
    block = heading._p.getnext()
    assert block.tag == qn("w:tbl") and block.find(f".//{qn('w:cantSplit')}") is not None
    cell_styles = {p.find(f".//{qn('w:pStyle')}").get(qn("w:val")) for p in block.iter(qn("w:p"))}
    assert cell_styles == {"Bilagelista"}


def test_long_lists_may_break(tmp_path: Path):
    folder = write_arende(tmp_path / "a", {**VALID_ARENDE, "beskrivning": "\n".join(f"- punkt {i}" for i in range(8))})
    document = docx.Document(str(render_paper(folder, tmp_path / "out").files[0]))
    items = [p for p in all_paragraphs(document) if p.text.startswith("punkt ")]
    assert len(items) == 8 and not any(p.paragraph_format.keep_with_next for p in items)
    assert all(p._p.getparent().tag == qn("w:body") for p in items)  # not in an unbreakable block
