"""Build the four sample bilagor of the Göta Lejon ärende from the reference text.

The files this script writes are committed sample content, not generator output: they are
made from the extracted text of a real 2023 Göteborgs Stad board package
(``/work/shared/reference/000_05fce7b8ebd0c626.txt``, see the README next to it), so that the
demo can put together a complete ``handlingar.pdf``. All wording comes from the reference
(``**bold**`` becomes bold runs, ``[text](#)`` links become plain text); only the layout is
made here, since the extraction lost it. Written into
``content/arenden/2023-10-handlingsplaner/bilagor/``:

1. ``1-presentationsmaterial.pptx`` (lines 83–195): a 16:9 PowerPoint deck, one slide per
   section, white slides with a dark blue title bar and "Göteborgs Stad" in the corner.
2. ``2-foljebrev.docx`` (lines 196–282): the cover letter from Stadsledningskontoret.
3. ``3-plan-tystnadskulturer.pdf`` (lines 284–738) and
4. ``4-handlingsplan-nyrekrytering.pdf`` (lines 739–1472): the two handlingsplaner, built as
   Word documents (cover, document facts, table of contents, headings, lists and real
   tables) and converted to PDF with LibreOffice. The table of contents gets its page
   numbers from a first conversion, so a second one shows the right numbers.

Run it again after changing it (needs python-pptx from the ``dev`` extra, LibreOffice's
``soffice`` and poppler's ``pdftotext``)::

    .venv/bin/python tools/make_sample_bilagor.py [--reference PATH]

Everything is built in a temporary folder first; each finished file is then moved into
place atomically. The .docx and .pptx files are byte-for-byte reproducible (fixed dates);
the PDFs get fixed dates and a fixed /ID, so reruns differ only if LibreOffice changes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT, WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from PIL import ImageFont
from pptx import Presentation
from pptx.dml.color import RGBColor as PptxRGB
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml.ns import qn as pqn
from pptx.oxml.xmlchemy import OxmlElement as PptxElement
from pptx.util import Inches
from pptx.util import Pt as PptxPt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from generator.files import write_bytes  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_templates import add_field, set_fonts, style_heading  # noqa: E402

REFERENCE = Path(os.environ.get("BESLUT_REFERENCE", "/work/shared/reference/000_05fce7b8ebd0c626.txt"))
TARGET = ROOT / "content" / "arenden" / "2023-10-handlingsplaner" / "bilagor"
LO_PROFILE = Path(tempfile.gettempdir()) / "lo-profile-bilagor"

FONT = "Arial"  # LibreOffice shows it as the metric-compatible Liberation Sans
CITY_BLUE_HEX = "004B89"
CITY_BLUE = RGBColor.from_string(CITY_BLUE_HEX)
LIGHT_BLUE_HEX = "DCE7F2"
GRID_HEX = "9DB3CC"
FIXED_DATE = dt.datetime(2023, 6, 30, 12, 0, 0)
PDF_DATE = "D:20230630120000Z"

# Line ranges (1-based, inclusive) and the first words each range must start with.
RANGES = {
    1: (83, 195, "**Göteborgs Stads nya handlingsplaner:"),
    2: (196, 282, "Information om nya handlingsplaner inom Göteborgs Stad"),
    3: (284, 738, "Göteborgs Stads plan för att motverka tystnadskulturer"),
    4: (739, 1472, ""),
}


ZIP_DATE = (2023, 6, 30, 12, 0, 0)


def package_bytes(document) -> bytes:
    """A python-docx or python-pptx document as bytes, every zip entry with a fixed date."""
    raw = io.BytesIO()
    document.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(item.filename))
    return out.getvalue()


# --------------------------------------------------------------------------- reference text


def read_reference(path: Path) -> dict[int, list[str]]:
    """Return the lines of each bilaga, after checking that the file is the expected one."""
    if not path.is_file():
        sys.exit(f"Hittar inte referenstexten {path} (ange en annan med --reference).")
    lines = path.read_text(encoding="utf-8").splitlines()
    parts = {}
    for number, (first, last, start) in RANGES.items():
        part = lines[first - 1 : last]
        if not part or not part[0].startswith(start):
            sys.exit(f"{path}: rad {first} börjar inte med {start!r}; är det rätt referenstext?")
        parts[number] = part
    if not any("handlingsplan för att stoppa nyrekrytering" in line for line in parts[4][:10]):
        sys.exit(f"{path}: bilaga 4 börjar inte där den ska (rad {RANGES[4][0]}).")
    return parts


LINK = re.compile(r"\[((?:[^\]\\]|\\.)+)\]\([^)]*\)")


def clean(text: str) -> str:
    """Normalise one line: no-break spaces, struck-out words, ``[text](#)`` links."""
    text = text.replace("\u00a0", " ")
    text = re.sub(r"~~.*?~~\s*", "", text)
    return LINK.sub(lambda m: re.sub(r"\\(.)", r"\1", m.group(1)), text)


def runs_of(text: str) -> list[tuple[str, bool]]:
    """Split ``**bold**`` markup into (text, bold) runs."""
    parts = text.split("**")
    return [(part, i % 2 == 1) for i, part in enumerate(parts) if part]


def plain(text: str) -> str:
    """``text`` without bold markers."""
    return text.replace("**", "")


# ----------------------------------------------------------------------------- text blocks


@dataclass
class Block:
    kind: str  # p, bullet, h, table, foot, sign
    text: str = ""
    level: int = 0
    rows: list[list[str]] = field(default_factory=list)
    feet: list[str] = field(default_factory=list)  # footnote texts shown after the block
    page_break: bool = False


FOOTNOTE = re.compile(r"^[¹²³⁴⁵]\s")


def parse_blocks(lines: list[str]) -> list[Block]:
    """Turn reference lines into paragraphs, bullets, table rows and footnotes.

    A blank line ends a paragraph; lines without a blank between them stay one paragraph
    with line breaks; a line directly after a bullet continues that bullet.
    """
    blocks: list[Block] = []
    open_block: Block | None = None
    for raw in lines:
        line = clean(raw).rstrip(" \r\n")  # keep trailing tabs: they are empty cells
        stripped = line.strip()
        if not stripped or stripped == "-":
            open_block = None
            continue
        if "\t" in line:
            blocks.append(Block("row", rows=[[cell.strip() for cell in line.split("\t")]]))
            open_block = None
        elif FOOTNOTE.match(stripped):
            blocks.append(Block("foot", stripped))
            open_block = None
        elif stripped.startswith("- "):
            open_block = Block("bullet", stripped[2:].strip())
            blocks.append(open_block)
        elif open_block is not None:
            open_block.text += "\n" + stripped
        else:
            open_block = Block("p", stripped)
            blocks.append(open_block)
    return blocks


def is_rule(cells: list[str]) -> bool:
    return all(re.fullmatch(r"-*", cell) for cell in cells)


def spans_row(cells: list[str], ncols: int) -> bool:
    """A row whose text belongs across the whole table (a sub-heading or a list)."""
    if not cells[0] or any(cells[1:]):
        return False
    return ncols >= 3 or cells[0].endswith(":") or "\n• " in cells[0] or cells[0].startswith("<ul")


def list_cell(text: str) -> str:
    """An extracted ``<ul>…</ul>`` cell as lines starting with '• '."""
    text = re.sub(r"<[^>]+>", "", text)
    items = [item.strip() for item in text.split("•") if item.strip()]
    return "\n".join("• " + item for item in items)


def build_tables(blocks: list[Block]) -> list[Block]:
    """Join consecutive table rows into tables.

    Page breaks in the original left their marks: a header row repeated (dropped), a cell
    continued on the next page in a row whose first cell is empty (appended to the row
    above), Markdown rules ``---`` (dropped).
    """
    out: list[Block] = []
    for block in blocks:
        if block.kind != "row":
            out.append(block)
            continue
        cells = block.rows[0]
        if is_rule(cells):
            continue
        cells = [list_cell(c) if c.startswith("<ul") else c for c in cells]
        table = out[-1] if out and out[-1].kind == "table" else None
        if table is None:
            out.append(Block("table", rows=[cells]))
        elif cells == table.rows[0]:
            continue
        elif not cells[0] and any(cells):
            above = table.rows[-1]
            above.extend([""] * (len(cells) - len(above)))
            for i, cell in enumerate(cells):
                if cell:
                    above[i] = f"{above[i]} {cell}".strip()
        elif cells[0].startswith("• ") and table.rows[-1][0].endswith(":") and not any(table.rows[-1][1:]):
            table.rows[-1][0] += "\n" + cells[0]
        else:
            table.rows.append(cells)
    for block in out:
        if block.kind == "table":
            ncols = max(len(row) for row in block.rows)
            for row in block.rows:
                row.extend([""] * (ncols - len(row)))
    return out


def join_split_paragraphs(blocks: list[Block]) -> list[Block]:
    """Join a paragraph that a page break cut in two (the second half starts in lower case)."""
    out: list[Block] = []
    for block in blocks:
        prev = out[-1] if out else None
        if (
            block.kind == "p"
            and prev is not None
            and prev.kind == "p"
            and block.text[:1].islower()
            and not re.search(r"[.:!?;)”\"]$", prev.text)
        ):
            prev.text = f"{prev.text} {block.text}"
            continue
        out.append(block)
    return out


def place_footnotes(blocks: list[Block], feet: list[Block]) -> None:
    """Show each footnote after the paragraph with its mark (after the section, for a heading)."""
    for foot in feet:
        mark = foot.text[0]
        for i, block in enumerate(blocks):
            if block.kind in ("p", "bullet", "h") and mark in block.text:
                if block.kind == "h":
                    block = next((b for b in blocks[i + 1 :] if b.kind == "p"), block)
                block.feet.append(foot.text)
                break
        else:
            raise SystemExit(f"Fotnoten {foot.text[:40]!r} har inget tecken i texten.")


INSATS_HEADING = re.compile(r"^(?:insats\s+)?\d:\s?\d\s+\S", re.IGNORECASE)


def structure(lines: list[str], headings: dict[str, int], insats_level: int | None = None) -> list[Block]:
    """Blocks of a document: tables joined, headings marked, split paragraphs and footnotes fixed.

    ``headings`` maps a heading's exact text to its level; with ``insats_level`` every
    paragraph starting "Insats 1:2 …" (or just "1:2 …") becomes a heading of that level.
    """
    blocks = parse_blocks(lines)
    feet = [b for b in blocks if b.kind == "foot"]
    blocks = build_tables([b for b in blocks if b.kind != "foot"])
    found = set()
    for block in blocks:
        if block.kind != "p" or "\n" in block.text:
            continue
        text = plain(block.text)
        level = headings.get(text)
        if (level is None and insats_level and INSATS_HEADING.match(text) and len(text) < 300
                and "kopplad till insats" not in text):  # "Insats 4:2 ska vara kopplad till …" is text
            level = insats_level
            text = re.sub(r"^INSATS\b", "Insats", text)
        if level:
            block.kind, block.level, block.text = "h", level, text
            found.add(plain(block.text))
    missing = [h for h in headings if h not in found]
    if missing:
        raise SystemExit(f"Rubriker saknas i referenstexten: {missing}")
    blocks = join_split_paragraphs(blocks)
    place_footnotes(blocks, feet)
    return blocks


# ------------------------------------------------------------------------- Word documents


def new_document(title: str, body_size: float = 11) -> Document:
    """An A4 document in Arial, Swedish (docDefaults w:lang sv-SE), with the city's styles."""
    doc = Document()
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = rpr.find(qn("w:lang"))
    for attr in list(lang.attrib):
        del lang.attrib[attr]
    lang.set(qn("w:val"), "sv-SE")
    lang.set(qn("w:eastAsia"), "sv-SE")
    lang.set(qn("w:bidi"), "ar-SA")
    fonts = rpr.find(qn("w:rFonts"))
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)

    styles = doc.styles
    normal = styles["Normal"]
    set_fonts(normal, FONT)
    normal.font.size = Pt(body_size)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15

    for level, size, before, after, color in (
        (1, 18, 6, 10, CITY_BLUE),
        (2, 13.5, 16, 4, CITY_BLUE),
        (3, 11.5, 12, 3, RGBColor(0, 0, 0)),
    ):
        style = styles[f"Heading {level}"]
        style_heading(style, FONT, size, before, after, color)
        style.paragraph_format.line_spacing = 1.0

    for name in ("Header", "Footer"):
        styles[name].paragraph_format.tab_stops.clear_all()
        set_fonts(styles[name], FONT)
        styles[name].font.size = Pt(8.5)
        styles[name].paragraph_format.space_after = Pt(0)
    for name in ("List Bullet", "List Number"):
        styles[name].paragraph_format.space_after = Pt(3)

    def add_style(name: str, size: float, after: float = 0, base: str = "Normal"):
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles[base]
        style.font.size = Pt(size)
        style.paragraph_format.space_after = Pt(after)
        return style

    add_style("Fotnot", 8, after=6).paragraph_format.line_spacing = 1.0
    cell = add_style("Tabelltext", 9.5, after=2)
    cell.paragraph_format.line_spacing = 1.0
    cell_bullet = add_style("Tabellpunkt", 9.5, after=1, base="List Bullet")
    cell_bullet.paragraph_format.line_spacing = 1.0
    for level, indent in ((1, 0), (2, 0.6)):
        toc = add_style(f"Innehåll {level}", 11 if level == 1 else 10.5, after=3)
        toc.paragraph_format.left_indent = Cm(indent)
        toc.paragraph_format.tab_stops.add_tab_stop(Cm(16), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
        toc.font.bold = level == 1

    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.3)
    section.header_distance, section.footer_distance = Cm(1.1), Cm(1.0)
    section.start_type = WD_SECTION.NEW_PAGE

    props = doc.core_properties
    props.title = title
    props.author = "Göteborgs Stad"
    props.last_modified_by = "Göteborgs Stad"
    props.language = "sv-SE"
    props.comments = ""
    props.created = props.modified = FIXED_DATE
    props.revision = 1

    body = doc.element.body
    for para in list(doc.paragraphs):
        body.remove(para._p)
    return doc


def add_footer(doc, text: str, first_page: bool = True) -> None:
    """Footer "<text>   <page> (<pages>)"; none on the first page if ``first_page`` is False."""
    section = doc.sections[0]
    section.different_first_page_header_footer = not first_page
    para = section.footer.paragraphs[0]
    para.paragraph_format.tab_stops.add_tab_stop(Cm(16), WD_TAB_ALIGNMENT.RIGHT)
    para.paragraph_format.right_indent = Cm(0)
    para.add_run(text + "\t")
    add_field(para, "PAGE", "1")
    para.add_run(" (")
    add_field(para, "NUMPAGES", "1")
    para.add_run(")")


def add_runs(para, text: str, size: float | None = None, bold: bool | None = None, color=None) -> None:
    for chunk, is_bold in runs_of(text):
        run = para.add_run(chunk)
        run.bold = True if is_bold else bold
        if size:
            run.font.size = Pt(size)
        if color is not None:
            run.font.color.rgb = color


def shade(cell, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def table_borders(table, color: str = GRID_HEX, val: str = "single") -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), val)
        if val != "nil":
            el.set(qn("w:sz"), "4")
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), color)
        borders.append(el)
    table._tbl.tblPr.append(borders)


def row_flag(row, tag: str) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement(f"w:{tag}")
    tr_pr.append(el)


def new_table(doc, ncols: int, widths_cm: list[float]):
    table = doc.add_table(rows=0, cols=ncols)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    for column, width in zip(table.columns, widths_cm):
        column.width = Cm(width)
    return table


def fill_cell(cell, text: str, width_cm: float, bold: bool = False, color=None, size: float = 9.5) -> None:
    """Write ``text`` into a cell: one paragraph per line, '• ' lines as list paragraphs."""
    cell.width = Cm(width_cm)
    first = True
    for line in text.split("\n") if text else [""]:
        para = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        if line.startswith("• "):
            para.style = "Tabellpunkt"
            line = line[2:]
        else:
            para.style = "Tabelltext"
        add_runs(para, line, size=size, bold=bold or None, color=color)


def column_widths(rows: list[list[str]], total: float = 16.0, minimum: float = 3.2) -> list[float]:
    """Share ``total`` cm between columns after the square root of their mean text length."""
    ncols = len(rows[0])
    weights = []
    for col in range(ncols):
        lengths = [len(row[col]) for row in rows if row[col]]
        weights.append(max(sum(lengths) / max(len(lengths), 1), 4) ** 0.5)
    widths = [total * w / sum(weights) for w in weights]
    small = [i for i, w in enumerate(widths) if w < minimum]
    if small:
        rest = total - minimum * len(small)
        big = sum(w for i, w in enumerate(widths) if i not in small)
        widths = [minimum if i in small else w * rest / big for i, w in enumerate(widths)]
    return widths


def add_data_table(doc, rows: list[list[str]]) -> None:
    """A reference table: blue header row repeated on each page, key/value tables shaded."""
    ncols = len(rows[0])
    key_value = ncols == 2 and re.match(r"Insats\b", rows[0][0]) is not None
    widths = [4.0, 12.0] if key_value else column_widths(rows)
    table = new_table(doc, ncols, widths)
    table_borders(table)
    vertical = rows[0] == ["Indikatorer", "Kommentarer"]
    merges = []
    for r, cells in enumerate(rows):
        row = table.add_row()
        row_flag(row, "cantSplit")
        if r == 0 and not key_value:
            row_flag(row, "tblHeader")
        span = r > 0 and spans_row(cells, ncols)
        for c, text in enumerate(cells):
            cell = row.cells[c]
            if r == 0:
                fill_cell(cell, text, widths[c], bold=True, color=RGBColor(255, 255, 255))
                shade(cell, CITY_BLUE_HEX)
            elif span:
                fill_cell(cell, text, widths[c], bold=ncols >= 3)
                if ncols >= 3:
                    shade(cell, LIGHT_BLUE_HEX)
            else:
                fill_cell(cell, text, widths[c], bold=key_value and c == 0)
                if key_value and c == 0:
                    shade(cell, LIGHT_BLUE_HEX)
        if span:
            merges.append(((r, 0), (r, ncols - 1)))
            for cell in row.cells:  # a sub-heading row stays with the row below it
                for para in cell.paragraphs:
                    para.paragraph_format.keep_with_next = True
    if vertical:  # an empty Kommentarer cell shares the comment above it
        for c in range(1, ncols):
            r = 1
            while r < len(rows):
                end = r
                while end + 1 < len(rows) and not rows[end + 1][c] and not spans_row(rows[end + 1], ncols):
                    end += 1
                if end > r and rows[r][c]:
                    merges.append(((r, c), (end, c)))
                r = end + 1
    for (r1, c1), (r2, c2) in merges:
        table.cell(r1, c1).merge(table.cell(r2, c2))
    if key_value:  # a short insats table stays on one page
        for row in table.rows[:-1]:
            for cell in row.cells:
                for para in cell.paragraphs:
                    para.paragraph_format.keep_with_next = True
    spacer(doc)


def spacer(doc, size: float = 6) -> None:
    para = doc.add_paragraph()
    para.paragraph_format.space_after = Pt(0)
    para.paragraph_format.line_spacing = Pt(size)


def add_paragraph(doc, block: Block, style: str | None = None):
    para = doc.add_paragraph(style=style)
    add_runs(para, block.text)
    return para


def write_blocks(doc, blocks: list[Block], page_break_before=lambda text: False) -> None:
    """Write body blocks: headings, paragraphs, bullets, tables, signatures, footnotes."""
    for block in blocks:
        if block.kind == "h":
            para = doc.add_paragraph(block.text, style=f"Heading {block.level}")
            if page_break_before(block.text):
                para.paragraph_format.page_break_before = True
        elif block.kind == "p":
            para = add_paragraph(doc, block)
            para.paragraph_format.page_break_before = block.page_break or None
        elif block.kind == "bullet":
            add_paragraph(doc, block, "List Bullet")
        elif block.kind == "table":
            add_data_table(doc, block.rows)
        elif block.kind == "sign":
            add_signature_table(doc, block.rows)
        for note in block.feet:
            doc.add_paragraph(note, style="Fotnot")


def add_signature_table(doc, pairs: list[list[str]]) -> None:
    """Signatories of the avsiktsförklaring, two per row: organisation, space to sign, name."""
    table = new_table(doc, 2, [8.0, 8.0])
    table_borders(table, val="nil")
    for i in range(0, len(pairs), 2):
        row = table.add_row()
        row_flag(row, "cantSplit")
        for c, (org, name) in enumerate(pairs[i : i + 2]):
            cell = row.cells[c]
            fill_cell(cell, f"**{org}**\n\n{name}", 8.0, size=10)
            cell.paragraphs[-1].paragraph_format.space_after = Pt(14)
    spacer(doc)


# ------------------------------------------------------------------ bilaga 2: följebrev


LETTER_H2 = [
    "Stöd i implementering av handlingsplanerna",
    "Stadens ledarforum",
    "ToB-torget¹ varannan torsdag",
    "Lanseringsträff",
    "Processtöd",
    "Chefoskopet, en fördjupad information",
    "Uppföljning av handlingsplanerna",
    "Nästa steg",
]


def build_letter(lines: list[str]) -> Document:
    """Bilaga 2: the letter from Stadsledningskontoret, signed by Christina Eide."""
    rubrik = clean(lines[0]).strip()
    blocks = structure(lines, {rubrik: 1, **{h: 2 for h in LETTER_H2}})
    name, title = blocks[-2], blocks[-1]
    if not (name.text == "Christina Eide" and title.text.startswith("Direktör")):
        raise SystemExit("Följebrevet slutar inte med underskriften (namn, titel).")

    doc = new_document(rubrik)
    header = doc.sections[0].header
    mark = header.paragraphs[0]
    run = mark.add_run("Göteborgs Stad")
    set_fonts(run, FONT)
    run.font.size = Pt(17)
    run.bold = True
    run.font.color.rgb = CITY_BLUE
    header.add_paragraph("Stadsledningskontoret", style="Header").paragraph_format.space_after = Pt(0)
    add_footer(doc, "Göteborgs Stad Stadsledningskontoret, följebrev")
    doc.sections[0].top_margin = Cm(3.4)

    write_blocks(doc, blocks[:-2])
    for para in doc.paragraphs:  # contact lines "Namn, e-post" sit close together
        if "@" in para.text and "," in para.text and len(para.text) < 90:
            para.paragraph_format.space_after = Pt(2)
    sign = doc.add_paragraph(name.text)
    sign.paragraph_format.space_before = Pt(30)
    sign.paragraph_format.space_after = Pt(0)
    sign.paragraph_format.keep_with_next = True
    doc.add_paragraph(title.text)
    return doc


# --------------------------------------------------------- bilagor 3 and 4: handlingsplaner


@dataclass
class Plan:
    number: int
    stem: str
    title: str
    footer: str
    level1: set[str]
    level3: list[str]
    level2_extra: list[str] = field(default_factory=list)


PLANS = {
    3: Plan(
        3,
        "3-plan-tystnadskulturer",
        "Göteborgs Stads plan för att motverka tystnadskulturer 2023–2025",
        "Göteborgs Stads plan för att motverka tystnadskulturer 2023–2025",
        {"Inledning", "Utgångspunkter", "Planen"},
        ["Individuell tystnad och tystnadskultur", "Otillåten påverkan och självcensur", "Planens mål"],
    ),
    4: Plan(
        4,
        "4-handlingsplan-nyrekrytering",
        "Göteborgs Stads handlingsplan för att stoppa nyrekrytering, gängkriminalitet och "
        "utvecklingen av parallella samhällen 2023–2026",
        "Handlingsplan för att stoppa nyrekrytering, gängkriminalitet och utvecklingen av "
        "parallella samhällen 2023–2026",
        {"Inledning", "Utgångspunkter", "Planen"},
        [
            "Parallella samhällsstrukturer",
            "Polismyndighetens lägesbild över utsatta områden",
            "Samband mellan hederskultur, klanstrukturer, gängkriminalitet och våldbejakande "
            "islamistisk extremism.",
            "Definition av gängkriminalitet",
            "Tillvägagångssätt vid rekrytering",
            "Cylindermodellen",
            "Kunskapscentrum mot organiserad brottslighet",
        ],
        ["Uppdraget inom fokusområdena", "Förutsättningar för samverkan"],
    ),
}


def split_plan(lines: list[str]) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """Front matter, table of contents entries (text, page) and body of a handlingsplan."""
    cleaned = [clean(line).strip() for line in lines]
    toc_at = cleaned.index("Innehåll")
    toc, i = [], toc_at + 1
    while i < len(lines):
        match = re.fullmatch(r"(.+?)\t(\d+)", clean(lines[i]).strip())
        if match:
            toc.append((match.group(1).strip(), match.group(2)))
        elif cleaned[i]:
            break
        i += 1
    return lines[:toc_at], toc, lines[i:]


def info_item(text: str) -> tuple[str, str]:
    """ "Label: value" (value may be empty, shown as "-")."""
    label, _, value = plain(" ".join(text.split("\n"))).partition(":")
    return label.strip() + ":", value.strip() or "-"


def build_front(doc, plan: Plan, front: list[str]) -> None:
    """Cover page, the city's text on styrande dokument, document facts and bilagor list."""
    blocks = build_tables(parse_blocks(front))
    texts = [plain(b.text) for b in blocks]
    title_block = next(b for b in blocks if b.kind == "p" and b.text.startswith("Göteborgs Stads ") and len(b.text) > 40)
    title = re.sub(r"–\s+", "–", title_block.text)
    after_title = blocks[blocks.index(title_block) + 1]
    period = after_title.text if re.fullmatch(r"\d{4}–\d{4}", after_title.text) else ""
    if not period and (match := re.search(r"\s(\d{4}–\d{4})$", title)):  # on its own line, as in bilaga 4
        title, period = title[: match.start()], match.group(1)
    doc_kind = "Planerande styrande dokument"
    ladder = next(b for b in blocks if b.text.startswith("Vision\nProgram")).text.split("\n")

    # Cover
    para = doc.add_paragraph()
    add_runs(para, "Göteborgs Stad", size=22, bold=True, color=CITY_BLUE)
    para = doc.add_paragraph()
    para.paragraph_format.space_before = Pt(170)
    para.paragraph_format.space_after = Pt(10)
    para.paragraph_format.line_spacing = 1.05
    add_runs(para, title, size=26, bold=True)
    if period:
        add_runs(doc.add_paragraph(), period, size=16)
    para = doc.add_paragraph()
    para.paragraph_format.space_before = Pt(150)
    add_runs(para, doc_kind, size=11, bold=True, color=CITY_BLUE)
    strip = new_table(doc, len(ladder), [3.2] * len(ladder))
    table_borders(strip, color="FFFFFF")
    row = strip.add_row()
    for c, step in enumerate(ladder):
        current = step.startswith("►")
        fill_cell(row.cells[c], step, 3.2, bold=current, color=RGBColor(255, 255, 255) if current else None, size=10)
        row.cells[c].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        row.cells[c].vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        shade(row.cells[c], CITY_BLUE_HEX if current else LIGHT_BLUE_HEX)

    # The city's standard text on styrande dokument
    start = texts.index("Göteborgs Stads styrsystem")
    first = doc.add_paragraph("Göteborgs Stads styrsystem", style="Heading 2")
    first.paragraph_format.page_break_before = True
    first.paragraph_format.space_before = Pt(0)
    facts: list[tuple[str, str]] = []
    bilagor: list[str] = []
    in_bilagor = False
    for block in blocks[start + 1 :]:
        text = plain(block.text)
        if block.kind == "table":
            diagram = [row for row in block.rows if not re.match(r"[^:]{3,40}:", row[0])]
            for row in block.rows:
                if row not in diagram:
                    facts.extend(info_item(cell) for cell in row if cell)
            if diagram:
                add_diagram(doc, diagram, doc_kind)
        elif text == "Om Göteborgs Stads styrande dokument":
            doc.add_paragraph(text, style="Heading 2")
        elif text == "Bilagor:":
            in_bilagor = True
        elif in_bilagor:
            bilagor.extend(line.strip() for line in text.split("\n") if line.strip())
        elif len(text) < 160 and re.match(r"[^:]{3,40}:", text.replace("\n", " ")):
            facts.append(info_item(block.text))
        elif text in (doc_kind, "Göteborgs\nStad") or text.startswith("Vision\n"):
            continue
        else:
            add_paragraph(doc, block)

    # Document facts and bilagor, as on the second page of the city's styrande dokument
    para = doc.add_paragraph()
    para.paragraph_format.space_before = Pt(14)
    add_runs(para, doc_kind, size=11, bold=True, color=CITY_BLUE)
    name = [f for f in facts if f[0] == "Dokumentnamn:"]
    grid = [f for f in facts if f[0] != "Dokumentnamn:"]
    table = new_table(doc, 4, [4.0] * 4)
    table_borders(table)
    if name:
        row = table.add_row()
        fill_cell(row.cells[0], f"**{name[0][0]}**\n{name[0][1]}", 4.0)
        row.cells[0].merge(row.cells[3])
    for i in range(0, len(grid), 4):
        row = table.add_row()
        row_flag(row, "cantSplit")
        for c, (label, value) in enumerate(grid[i : i + 4]):
            fill_cell(row.cells[c], f"**{label}**\n{value}", 4.0, size=9)
            shade(row.cells[c], "F3F6FA")
    spacer(doc)
    if bilagor:
        para = doc.add_paragraph()
        para.paragraph_format.space_before = Pt(8)
        add_runs(para, "Bilagor:", bold=True)
        for item in bilagor:
            para = doc.add_paragraph(item)
            para.paragraph_format.space_after = Pt(2)


def add_diagram(doc, rows: list[list[str]], current: str) -> None:
    """The styrande dokument hierarchy: an empty cell belongs to the text on its left."""
    ncols = len(rows[0])
    table = new_table(doc, ncols, [16.0 / ncols] * ncols)
    table_borders(table, color="FFFFFF")
    merges = []
    for r, cells in enumerate(rows):
        row = table.add_row()
        for c, text in enumerate(cells):
            is_current = text == current
            fill_cell(row.cells[c], text, 16.0 / ncols, bold=r == 0 or is_current,
                      color=RGBColor(255, 255, 255) if is_current else None, size=9)
            row.cells[c].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            shade(row.cells[c], CITY_BLUE_HEX if is_current else LIGHT_BLUE_HEX)
        c = 0
        while c < ncols:
            end = c
            while end + 1 < ncols and not cells[end + 1]:
                end += 1
            if end > c:
                merges.append((r, c, end))
            c = end + 1
    for r, c1, c2 in merges:
        table.cell(r, c1).merge(table.cell(r, c2))
    spacer(doc)


def mark_signatures(blocks: list[Block]) -> list[Block]:
    """In the avsiktsförklaring, the (organisation, name) paragraphs after the place and date."""
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        out.append(block)
        i += 1
        if block.kind == "p" and re.fullmatch(r"Göteborg \d{4}-\d{2}-\d{2}", block.text):
            title = out[-2] if len(out) > 1 and out[-2].kind == "p" else None
            if title is not None and title.text.startswith("Avsiktsförklaring"):  # the signature page
                title.text, title.page_break = f"**{title.text}**", True
            j = i
            while j < len(blocks) and blocks[j].kind == "p":
                j += 1
            texts = [b.text for b in blocks[i:j]]
            if len(texts) % 2:
                raise SystemExit("Avsiktsförklaringens underskrifter går inte jämnt ut i par.")
            out.append(Block("sign", rows=[texts[k : k + 2] for k in range(0, len(texts), 2)]))
            i = j
    return out


def build_plan(plan: Plan, lines: list[str], pages: list[str] | None) -> tuple[Document, list[str]]:
    """A handlingsplan as a Word document, and the headings its contents list points to.

    ``pages`` (one per contents entry, from a previous conversion) fills in the page numbers.
    """
    front, toc, body = split_plan(lines)
    body_text = [plain(clean(line).strip()) for line in body]
    entries = []  # (text as in the contents list, level, heading text in the body)
    for text, _ in toc:
        lvl = 1 if text in plan.level1 or re.match(r"Bilaga \d:", text) else 2
        # an entry may be a shortened heading ("…tystnadskultur" for "…tystnadskulturer")
        heading = text if text in body_text else next(
            (t for t in body_text if t.startswith(text) and len(t) - len(text) <= 3), None)
        if heading is None:
            raise SystemExit(f"Innehållsförteckningens rad {text!r} finns inte som rubrik.")
        entries.append((text, lvl, heading))
    level = {heading: lvl for _, lvl, heading in entries}
    for text in body_text:
        if re.fullmatch(r"Bilaga \d: .+", text):
            level.setdefault(text, 1)
    level.update({text: 2 for text in plan.level2_extra})
    level.update({text: 3 for text in plan.level3})
    blocks = mark_signatures(structure(body, level, insats_level=3))

    doc = new_document(plan.title, body_size=10.5)
    add_footer(doc, plan.footer, first_page=False)
    build_front(doc, plan, front)

    head = doc.add_paragraph()
    head.paragraph_format.page_break_before = True
    head.paragraph_format.space_after = Pt(14)
    add_runs(head, "Innehåll", size=18, bold=True, color=CITY_BLUE)
    for i, (text, lvl, _) in enumerate(entries):
        page = pages[i] if pages else "0"
        doc.add_paragraph(f"{text}\t{page}", style=f"Innehåll {lvl}")

    def breaks(text: str) -> bool:
        return text in ("Inledning", "Planen") or text.startswith("Bilaga ")

    write_blocks(doc, blocks, breaks)
    return doc, [heading for _, _, heading in entries]


def find_pages(pdf: Path, headings: list[str]) -> list[str]:
    """Page of each heading in ``pdf``, searched in order after the contents page.

    A heading is found where one to four whole lines of a page, joined, are exactly its text.
    """
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    pages = [[" ".join(line.split()) for line in page.splitlines()] for page in text.split("\f")]
    at = next(i for i, page in enumerate(pages) if "Innehåll" in page) + 1
    found = []
    for heading in headings:
        for p in range(at, len(pages)):
            lines = pages[p]
            if any(" ".join(lines[i : i + k]) == heading for i in range(len(lines)) for k in range(1, 5)):
                found.append(str(p + 1))
                at = p
                break
        else:
            raise SystemExit(f"Hittar inte rubriken {heading!r} i {pdf.name}.")
    return found


# ----------------------------------------------------------------------------- LibreOffice


def to_pdf(source: Path, outdir: Path) -> Path:
    """Convert with LibreOffice (own profile, tagged PDF) and return the PDF's path."""
    export = 'pdf:writer_pdf_Export:{"UseTaggedPDF":{"type":"boolean","value":"true"}}'
    cmd = ["soffice", "--headless", f"-env:UserInstallation={LO_PROFILE.as_uri()}",
           "--convert-to", export, "--outdir", str(outdir), str(source)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    pdf = outdir / (source.stem + ".pdf")
    if result.returncode != 0 or not pdf.exists():
        raise SystemExit(f"LibreOffice kunde inte konvertera {source.name}:\n{result.stdout}{result.stderr}")
    return pdf


def normalise_pdf(pdf: Path, title: str) -> bytes:
    """Fixed dates, title and /ID, so a rerun gives the same PDF when LibreOffice does."""
    out = pdf.with_suffix(".fixed.pdf")
    with pikepdf.open(pdf) as doc:
        doc.docinfo["/Title"] = title
        doc.docinfo["/Author"] = "Göteborgs Stad"
        doc.docinfo["/CreationDate"] = PDF_DATE
        doc.docinfo["/ModDate"] = PDF_DATE
        if "/Metadata" in doc.Root:
            del doc.Root["/Metadata"]
        for key in ("/ID", "/DocChecksum"):  # random in LibreOffice's output; qpdf derives an /ID
            if key in doc.trailer:
                del doc.trailer[key]
        doc.save(out, deterministic_id=True)
    return out.read_bytes()


def make_plan(plan: Plan, lines: list[str], work: Path) -> bytes:
    """Build a handlingsplan twice: once to learn the pages of its headings, once to show them."""
    pages = None
    for attempt in range(3):
        doc, headings = build_plan(plan, lines, pages)
        source = work / f"{plan.stem}.docx"
        source.write_bytes(package_bytes(doc))
        pdf = to_pdf(source, work)
        found = find_pages(pdf, headings)
        if found == pages:
            return normalise_pdf(pdf, plan.title)
        pages = found
    raise SystemExit(f"{plan.stem}: sidnumren i innehållsförteckningen blir inte stabila.")


# ----------------------------------------------------------------- bilaga 1: presentation


SLIDE_TITLES = [
    "Bakgrund",
    "Styrande dokument inom trygghetsskapande och brottsförebyggande området",
    "Styrande dokument inom arbetsmiljö, medarbetarskap och chef/ledarskap",
    "Samspelet mellan program och handlingsplan",
    "Handlingsplan för att stoppa nyrekrytering, gängkriminalitet och utveckling av parallella samhällen",
    "Handlingsplan motverka tystnadskulturer i stadens verksamheter",
    "Välkomna på lanseringsevent i september",
    "Stadsledningskontoret erbjuder under planperioderna",
    "Uppföljning i Stratsys",
    "Kontakt",
]
SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)
PPT_BLUE = PptxRGB.from_string(CITY_BLUE_HEX)
PPT_WHITE = PptxRGB(255, 255, 255)
PPT_TEXT = PptxRGB(0x1A, 0x1A, 0x1A)
FONT_FILES = {False: "LiberationSans-Regular.ttf", True: "LiberationSans-Bold.ttf"}


@dataclass
class Item:
    kind: str  # p, bullet, step, lead, note
    text: str


def slide_sections(lines: list[str]) -> tuple[list[Block], list[tuple[str, list[Item]]]]:
    """The title slide's blocks and (title, items) for each following section."""
    blocks = parse_blocks(lines)
    intro: list[Block] = []
    sections: list[tuple[str, list[Item]]] = []
    for block in blocks:
        text = plain(block.text)
        if block.kind == "p" and text in SLIDE_TITLES:
            sections.append((text, []))
            continue
        if not sections:
            intro.append(block)
            continue
        items = sections[-1][1]
        if block.kind == "bullet":
            items.append(Item("step" if re.match(r"\d\)", block.text) else "bullet", block.text))
        elif text.startswith("Fokusområde"):
            items.append(Item("bullet", block.text))
        elif text == "Handlingsplanen innehåller":
            items.append(Item("lead", block.text))
        elif text.startswith("*") and not block.text.startswith("**"):
            items.append(Item("note", block.text))
        else:
            items.append(Item("p", block.text))
    if [t for t, _ in sections] != SLIDE_TITLES:
        raise SystemExit("Presentationens avsnitt stämmer inte med SLIDE_TITLES.")
    return intro, sections


class Measure:
    """Line wrapping with Liberation Sans metrics (the same widths as Arial)."""

    def __init__(self):
        folder = next(p for p in (Path("/usr/share/fonts/truetype/liberation2"),
                                  Path("/usr/share/fonts/truetype/liberation")) if p.is_dir())
        self.fonts = {bold: ImageFont.truetype(str(folder / name), 100) for bold, name in FONT_FILES.items()}

    def widest_word(self, text: str, size: float, bold: bool = False) -> float:
        return max((self.fonts[is_bold or bold].getlength(word) * size / 100
                    for chunk, is_bold in runs_of(text) for word in chunk.split()), default=0.0)

    def lines(self, text: str, size: float, width_pt: float, bold: bool = False) -> int:
        count = 0
        for part in text.split("\n"):
            words: list[tuple[str, bool]] = []
            for chunk, is_bold in runs_of(part):
                words.extend((w, is_bold or bold) for w in chunk.split())
            line_w, n = 0.0, 1
            space = self.fonts[False].getlength(" ") * size / 100
            for word, is_bold in words:
                w = self.fonts[is_bold].getlength(word) * size / 100
                if w > width_pt:  # a word longer than the line (an e-mail address) is broken
                    n += int(w // width_pt)
                    w = w % width_pt
                if line_w and line_w + space + w > width_pt:
                    n += 1
                    line_w = w
                else:
                    line_w += (space if line_w else 0) + w
            count += n
        return count


ITEM_SCALE = {"note": 0.8}
BULLET_INDENT = 0.32  # inches


def fit_size(measure: Measure, items: list[Item], width_in: float, height_in: float,
             sizes=range(24, 11, -1)) -> int:
    """The largest font size at which ``items`` fit the box."""
    for size in sizes:
        total = 0.0
        for item in items:
            s = size * ITEM_SCALE.get(item.kind, 1)
            indent = BULLET_INDENT * 72 if item.kind in ("bullet", "step") else 0
            n = measure.lines(item.text, s, width_in * 72 - indent, bold=item.kind == "lead")
            total += n * s * 1.16 + s * 0.55
            if measure.widest_word(item.text, s, bold=item.kind == "lead") > width_in * 72 - indent:
                total = float("inf")  # never break an e-mail address in two
        if total <= height_in * 72 * 0.97:
            return size
    return sizes[-1]


def style_run(run, size: float, bold: bool = False, color=PPT_TEXT, italic: bool = False) -> None:
    run.font.name = FONT
    run.font.size = PptxPt(size)
    run.font.bold = bold
    run.font.italic = italic
    run.font.color.rgb = color


def set_bullet(paragraph, char: str | None, indent_in: float) -> None:
    """Give a text-box paragraph a hanging indent and a bullet character (or none)."""
    p_pr = paragraph._p.get_or_add_pPr()
    p_pr.set("marL", str(Inches(indent_in)))
    p_pr.set("indent", str(-Inches(indent_in)) if char else "0")
    for tag in ("a:buNone", "a:buChar", "a:buFont", "a:buClr"):
        for el in p_pr.findall(pqn(tag)):
            p_pr.remove(el)
    if char:
        clr = PptxElement("a:buClr")
        srgb = PptxElement("a:srgbClr")
        srgb.set("val", CITY_BLUE_HEX)
        clr.append(srgb)
        font = PptxElement("a:buFont")
        font.set("typeface", FONT)
        bu = PptxElement("a:buChar")
        bu.set("char", char)
        p_pr.extend([clr, font, bu])
    else:
        p_pr.append(PptxElement("a:buNone"))


def fill_text(frame, items: list[Item], size: int) -> None:
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.margin_left = frame.margin_right = frame.margin_top = frame.margin_bottom = 0
    for i, item in enumerate(items):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        s = size * ITEM_SCALE.get(item.kind, 1)
        para.space_after = PptxPt(s * 0.55)
        if item.kind == "bullet":
            set_bullet(para, "•", BULLET_INDENT)
        elif item.kind == "step":
            set_bullet(para, None, BULLET_INDENT)
        for li, part in enumerate(item.text.split("\n")):
            if li:
                para.add_line_break()
            for chunk, bold in runs_of(part):
                style_run(_run(para, chunk), s, bold=bold or item.kind == "lead", italic=item.kind == "note")


def _run(para, text: str):
    run = para.add_run()
    run.text = text
    return run


def add_box(slide, left, top, width, height, fill, behind: bool = False):
    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, top, width, height)
    shape.fill.solid()
    shape.fill.fore_color.rgb = fill
    shape.line.fill.background()
    shape.shadow.inherit = False
    if behind:
        tree = slide.shapes._spTree
        tree.remove(shape._element)
        tree.insert(2, shape._element)
    return shape


def add_label(slide, text: str, left, top, width, height, size: float, color, bold=False,
              align=PP_ALIGN.LEFT, anchor=MSO_ANCHOR.TOP):
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.margin_left = frame.margin_right = frame.margin_top = frame.margin_bottom = 0
    frame.vertical_anchor = anchor
    para = frame.paragraphs[0]
    para.alignment = align
    style_run(_run(para, text), size, bold=bold, color=color)
    return box


def set_title(shape, text: str, size: float, color, left, top, width, height, anchor=MSO_ANCHOR.MIDDLE):
    shape.left, shape.top, shape.width, shape.height = left, top, width, height
    frame = shape.text_frame
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.vertical_anchor = anchor
    frame.margin_left = frame.margin_right = 0
    frame.text = ""
    para = frame.paragraphs[0]
    para.alignment = PP_ALIGN.LEFT
    for i, part in enumerate(text.split("\n")):
        if i:
            para.add_line_break()
        style_run(_run(para, part), size, bold=True, color=color)


def corner_mark(slide, color, number: int | None) -> None:
    add_label(slide, "Göteborgs Stad", Inches(0.6), Inches(6.85), Inches(4), Inches(0.4), 14, color, bold=True,
              anchor=MSO_ANCHOR.MIDDLE)
    if number is not None:
        add_label(slide, str(number), Inches(11.73), Inches(6.85), Inches(1.0), Inches(0.4), 11, color,
                  align=PP_ALIGN.RIGHT, anchor=MSO_ANCHOR.MIDDLE)


def build_presentation(lines: list[str]) -> Presentation:
    """Bilaga 1: the slide deck, one slide per section of the reference text."""
    measure = Measure()
    intro, sections = slide_sections(lines)
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_W, SLIDE_H
    props = prs.core_properties
    props.title = "Göteborgs Stads nya handlingsplaner"
    props.author = props.last_modified_by = "Göteborgs Stad"
    props.language = "sv-SE"
    props.created = props.modified = FIXED_DATE
    props.revision = 1
    layout_title, layout_title_only = prs.slide_layouts[0], prs.slide_layouts[5]
    margin = Inches(0.6)
    text_w = SLIDE_W - 2 * margin

    # Title slide: the bold block is title + the two plans; then the date.
    heading: list[str] = []
    for line in plain(intro[0].text).split("\n"):  # "… parallella" / "samhällen" is one line
        if heading and line[:1].islower():
            heading[-1] += " " + line
        else:
            heading.append(line)
    date = plain(intro[1].text) if len(intro) > 1 else ""
    slide = prs.slides.add_slide(layout_title)
    add_box(slide, 0, 0, SLIDE_W, Inches(5.0), PPT_BLUE, behind=True)
    add_box(slide, 0, Inches(5.0), SLIDE_W, Inches(0.08), PptxRGB(0x6C, 0xAC, 0xE4))
    set_title(slide.shapes.title, heading[0], 40, PPT_WHITE, margin, Inches(1.0), text_w, Inches(1.3),
              anchor=MSO_ANCHOR.BOTTOM)
    sub = slide.placeholders[1]
    sub.left, sub.top, sub.width, sub.height = margin, Inches(2.55), text_w, Inches(2.1)
    frame = sub.text_frame
    frame.word_wrap = True
    frame.margin_left = frame.margin_right = 0
    sub_size = next((size for size in (26, 24, 22, 20)
                     if all(measure.lines(line, size, text_w / 12700) == 1 for line in heading[1:])), 20)
    for i, line in enumerate(heading[1:]):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        para.alignment = PP_ALIGN.LEFT
        para.space_after = PptxPt(10)
        style_run(_run(para, line), sub_size, color=PPT_WHITE)
    if date:
        add_label(slide, date, margin, Inches(5.45), Inches(6), Inches(0.6), 24, PPT_BLUE)
    corner_mark(slide, PPT_BLUE, None)

    for number, (title, items) in enumerate(sections, start=2):
        slide = prs.slides.add_slide(layout_title_only)
        if not items:  # a section slide (the original showed a picture of the documents)
            slide.background.fill.solid()
            slide.background.fill.fore_color.rgb = PPT_BLUE
            set_title(slide.shapes.title, title, 36, PPT_WHITE, margin, Inches(2.4), Inches(11), Inches(2.2))
            add_box(slide, margin, Inches(2.15), Inches(1.2), Inches(0.08), PptxRGB(0x6C, 0xAC, 0xE4))
            corner_mark(slide, PPT_WHITE, number)
            continue
        add_box(slide, 0, 0, SLIDE_W, Inches(1.3), PPT_BLUE, behind=True)
        add_box(slide, 0, Inches(1.3), SLIDE_W, Inches(0.06), PptxRGB(0x6C, 0xAC, 0xE4))
        title_size = 30 if measure.lines(title, 30, text_w / 12700, bold=True) == 1 else 24
        set_title(slide.shapes.title, title, title_size, PPT_WHITE, margin, Inches(0.12), text_w, Inches(1.06))
        top, height = Inches(1.75), Inches(4.95)
        groups = contact_groups(items) if title == "Kontakt" else None
        if groups:
            col_w = (text_w - Inches(0.5)) // len(groups)
            size = min(fit_size(measure, g, col_w / 914400, height / 914400, range(22, 11, -1)) for g in groups)
            for i, group in enumerate(groups):
                box = slide.shapes.add_textbox(margin + i * (col_w + Inches(0.5)), top, col_w, height)
                fill_text(box.text_frame, group, size)
        else:
            size = fit_size(measure, items, text_w / 914400, height / 914400)
            box = slide.shapes.add_textbox(margin, top, text_w, height)
            fill_text(box.text_frame, items, size)
        corner_mark(slide, PPT_BLUE, number)
    return prs


def contact_groups(items: list[Item]) -> list[list[Item]]:
    """Kontakt slide: one column per unit, its name in bold above the e-mail addresses."""
    groups: list[list[Item]] = []
    for item in items:
        if "@" in item.text and groups:
            groups[-1].append(Item("p", item.text))
        else:
            groups.append([Item("lead", item.text)])
    return groups


# ---------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="the reference text file")
    parser.add_argument("--out", type=Path, default=TARGET, help="folder to write the bilagor into")
    args = parser.parse_args(argv)
    parts = read_reference(args.reference)
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        sys.exit("Behöver LibreOffice (soffice) och pdftotext (poppler-utils).")

    with tempfile.TemporaryDirectory(prefix="bilagor-") as tmp:
        work = Path(tmp)
        built = {
            "1-presentationsmaterial.pptx": package_bytes(build_presentation(parts[1])),
            "2-foljebrev.docx": package_bytes(build_letter(parts[2])),
        }
        for number in (3, 4):
            plan = PLANS[number]
            built[f"{plan.stem}.pdf"] = make_plan(plan, parts[number], work)
        for name, data in built.items():  # everything built: now move into place
            write_bytes(args.out / name, data)
            print(f"skrev {args.out / name} ({len(data) // 1024} kB)")


if __name__ == "__main__":
    main()
