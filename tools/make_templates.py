"""Create the first versions of the Word templates in ``templates/docx/``.

The committed .docx files are the source of truth: open them in Word or LibreOffice and
edit styles, header, footer and fixed text as in any document. This script only records
how the first versions were made (styles, page, header with the "Göteborgs Stad" wordmark,
footer with PAGE / NUMPAGES fields, and the ``{{ … }}`` tags).

It records the sha256 of what it wrote in ``tools/templates.sha256`` and refuses to
overwrite a template whose bytes differ from that record, i.e. one edited in Word since;
``--skriv-over`` overrides that, once the edits are kept elsewhere.

    .venv/bin/python tools/make_templates.py [--skriv-over]
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from generator.arendefields import paper_sections  # noqa: E402
from generator.files import write_docx  # noqa: E402
from generator.markdownwriter import keep_on_one_page  # noqa: E402

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "docx"

HEADING_FONT = "Arial"
BODY_FONT = "Times New Roman"
CITY_BLUE = RGBColor(0x00, 0x4B, 0x89)
BLACK = RGBColor(0, 0, 0)


def set_fonts(rpr_owner, name: str) -> None:
    """Set every script's font of a style or run to ``name``, dropping theme fonts."""
    rpr = rpr_owner.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), name)


def style_heading(style, font: str, size: float, before: float, after: float, color: RGBColor) -> None:
    """Make ``style`` a bold, upright heading in ``font`` that stays with the next paragraph."""
    set_fonts(style, font)
    style.font.size = Pt(size)
    style.font.bold = True
    style.font.italic = False
    style.font.color.rgb = color
    style.paragraph_format.space_before = Pt(before)
    style.paragraph_format.space_after = Pt(after)
    style.paragraph_format.keep_with_next = True


def set_language(doc, lang: str = "sv-SE") -> None:
    """Make ``lang`` the language of every style (docDefaults), for spelling and PDF /Lang."""
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang_el = rpr.find(qn("w:lang"))
    for attr in list(lang_el.attrib):
        del lang_el.attrib[attr]
    lang_el.set(qn("w:val"), lang)
    lang_el.set(qn("w:eastAsia"), lang)
    lang_el.set(qn("w:bidi"), "ar-SA")
    fonts = rpr.find(qn("w:rFonts"))
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), BODY_FONT)


def style_document(doc) -> None:
    """Give the document the city's typography: serif body, Arial headings, real list styles."""
    set_language(doc)
    styles = doc.styles

    normal = styles["Normal"]
    set_fonts(normal, BODY_FONT)
    normal.font.size = Pt(12)
    normal.paragraph_format.space_after = Pt(8)
    normal.paragraph_format.line_spacing = 1.1

    for level, size, before, after in ((1, 18, 6, 14), (2, 13, 16, 4), (3, 12, 12, 3), (4, 11, 10, 2)):
        style_heading(styles[f"Heading {level}"], HEADING_FONT, size, before, after, BLACK)

    for name in ("Header", "Footer"):
        set_fonts(styles[name], HEADING_FONT)
        styles[name].font.size = Pt(8.5)
        styles[name].paragraph_format.space_after = Pt(0)

    for name in ("List Bullet", "List Bullet 2", "List Number", "List Number 2", "List Continue"):
        styles[name].paragraph_format.space_after = Pt(4)

    table_text = styles.add_style("Sidhuvudtabell", WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = normal
    set_fonts(table_text, HEADING_FONT)
    table_text.font.size = Pt(9.5)
    table_text.paragraph_format.space_after = Pt(0)
    table_text.paragraph_format.line_spacing = 1.0

    cell_text = styles.add_style("Tabelltext", WD_STYLE_TYPE.PARAGRAPH)  # cells of Markdown tables
    cell_text.base_style = normal
    set_fonts(cell_text, HEADING_FONT)
    cell_text.font.size = Pt(9.5)
    cell_text.paragraph_format.space_before = Pt(2)
    cell_text.paragraph_format.space_after = Pt(2)
    cell_text.paragraph_format.line_spacing = 1.0

    bilaga = styles.add_style("Bilagelista", WD_STYLE_TYPE.PARAGRAPH)
    bilaga.base_style = normal
    bilaga.paragraph_format.left_indent = Cm(0.8)
    bilaga.paragraph_format.first_line_indent = Cm(-0.8)
    bilaga.paragraph_format.space_after = Pt(2)
    set_numbered(doc, bilaga, indent=Cm(0.8))

    signature = styles.add_style("Underskrift", WD_STYLE_TYPE.PARAGRAPH)
    signature.base_style = normal
    signature.paragraph_format.space_before = Pt(30)
    signature.paragraph_format.space_after = Pt(0)
    signature.paragraph_format.keep_with_next = True

    link = styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
    link.font.color.rgb = CITY_BLUE
    link.font.underline = True

    set_bullet_font(doc)
    add_table_style(doc)
    add_footnote_styles(doc)


def set_bullet_font(doc) -> None:
    """Draw list bullets as "•" from the body font, not Symbol's private-use character.

    Symbol's bullet ends up in the PDF as a Private Use Area character (OpenSymbol), which
    PDF/A-2a forbids without /ActualText and screen readers cannot name.
    """
    numbering = doc.part.numbering_part.element
    for lvl in numbering.iter(qn("w:lvl")):
        fmt = lvl.find(qn("w:numFmt"))
        if fmt is None or fmt.get(qn("w:val")) != "bullet":
            continue
        lvl.find(qn("w:lvlText")).set(qn("w:val"), "\u2022")
        rpr = lvl.find(qn("w:rPr"))
        if rpr is not None:
            lvl.remove(rpr)
        lvl.append(parse_xml(
            f'<w:rPr {nsdecls("w")}><w:rFonts w:ascii="{BODY_FONT}" w:hAnsi="{BODY_FONT}" '
            f'w:cs="{BODY_FONT}" w:hint="default"/></w:rPr>'))


def set_numbered(doc, style, indent) -> None:
    """Give paragraph ``style`` a numbering of its own ("1.", "2." … with a hanging indent)."""
    numbering = doc.part.numbering_part.element
    abstract_id = max(int(a.get(qn("w:abstractNumId"))) for a in numbering.iter(qn("w:abstractNum"))) + 1
    twips = int(indent.twips)
    abstract = parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{abstract_id}">'
        '<w:multiLevelType w:val="singleLevel"/>'
        f'<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        f'<w:pStyle w:val="{style.style_id}"/><w:lvlText w:val="%1."/><w:lvlJc w:val="left"/>'
        f'<w:pPr><w:tabs><w:tab w:val="num" w:pos="{twips}"/></w:tabs>'
        f'<w:ind w:left="{twips}" w:hanging="{twips}"/></w:pPr></w:lvl></w:abstractNum>')
    first_num = numbering.find(qn("w:num"))
    first_num.addprevious(abstract)  # abstractNum elements come before num elements
    num = numbering.add_num(abstract_id)
    num_pr = style.element.get_or_add_pPr().get_or_add_numPr()
    num_pr.get_or_add_numId().val = num.numId


TABLE_STYLE = "Tabell"
"""The table style of Markdown tables: thin grey grid, bold header row on a light tint."""


def add_table_style(doc) -> None:
    """Add the ``Tabell`` table style used for tables written in Markdown."""
    border = '<w:{0} w:val="single" w:sz="4" w:space="0" w:color="8C8C8C"/>'
    borders = "".join(border.format(edge) for edge in ("top", "left", "bottom", "right", "insideH", "insideV"))
    doc.styles.element.append(parse_xml(
        f'<w:style {nsdecls("w")} w:type="table" w:customStyle="1" w:styleId="{TABLE_STYLE}">'
        f'<w:name w:val="{TABLE_STYLE}"/><w:basedOn w:val="TableNormal"/><w:qFormat/>'
        '<w:pPr><w:spacing w:before="40" w:after="40" w:line="240" w:lineRule="auto"/></w:pPr>'
        f'<w:rPr><w:rFonts w:ascii="{HEADING_FONT}" w:hAnsi="{HEADING_FONT}" w:cs="{HEADING_FONT}"/>'
        '<w:sz w:val="19"/><w:szCs w:val="19"/></w:rPr>'
        f'<w:tblPr><w:tblBorders>{borders}</w:tblBorders>'
        '<w:tblCellMar><w:left w:w="85" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar></w:tblPr>'
        '<w:tblStylePr w:type="firstRow"><w:rPr><w:b/><w:bCs/></w:rPr>'
        '<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="E3ECF5"/></w:tcPr></w:tblStylePr>'
        '</w:style>'))


def add_footnote_styles(doc) -> None:
    """Add Word's footnote styles: small footnote text and a superscript reference mark."""
    doc.styles.element.append(parse_xml(
        f'<w:style {nsdecls("w")} w:type="paragraph" w:styleId="FootnoteText">'
        '<w:name w:val="footnote text"/><w:basedOn w:val="Normal"/><w:uiPriority w:val="99"/>'
        '<w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>'
        '<w:rPr><w:sz w:val="18"/><w:szCs w:val="18"/></w:rPr></w:style>'))
    doc.styles.element.append(parse_xml(
        f'<w:style {nsdecls("w")} w:type="character" w:styleId="FootnoteReference">'
        '<w:name w:val="footnote reference"/><w:uiPriority w:val="99"/>'
        '<w:rPr><w:vertAlign w:val="superscript"/></w:rPr></w:style>'))


FOOTNOTES_XML = (
    f'<w:footnotes {nsdecls("w", "r")}>'  # r: too, though unused: readers such as docx2python need it
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:pPr><w:spacing w:after="0" w:line="240" '
    'w:lineRule="auto"/></w:pPr><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:pPr><w:spacing w:after="0" '
    'w:line="240" w:lineRule="auto"/></w:pPr><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>'
    '</w:footnotes>'
)


def add_footnotes_part(doc) -> None:
    """Give the document an (empty) footnotes part, which Markdown footnotes are added to."""
    part = Part(PackURI("/word/footnotes.xml"),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
                FOOTNOTES_XML.encode("utf-8"), doc.part.package)
    doc.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)


def set_page(doc) -> None:
    """Set A4 with the margins of the city's documents."""
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(3.2), Cm(2.4)
    section.header_distance, section.footer_distance = Cm(1.2), Cm(1.1)
    section.start_type = WD_SECTION.NEW_PAGE


def add_field(paragraph, instruction: str, placeholder: str) -> None:
    """Append a Word field (PAGE, NUMPAGES …) that Word and LibreOffice update themselves."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), f" {instruction} ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = placeholder
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def add_wordmark_header(doc) -> None:
    """Put the "Göteborgs Stad" wordmark and the sender in the page header."""
    header = doc.sections[0].header
    mark = header.paragraphs[0]
    run = mark.add_run("Göteborgs Stad")
    set_fonts(run, HEADING_FONT)
    run.font.size = Pt(17)
    run.font.bold = True
    run.font.color.rgb = CITY_BLUE
    sender = header.add_paragraph("{{ avsandare }}", style="Header")
    sender.paragraph_format.space_after = Pt(0)


def add_page_footer(doc, text: str) -> None:
    """Footer: "<text> 1 (3)" with live PAGE and NUMPAGES fields."""
    para = doc.sections[0].footer.paragraphs[0]
    para.add_run(text + " ")
    add_field(para, "PAGE", "1")
    para.add_run(" (")
    add_field(para, "NUMPAGES", "1")
    para.add_run(")")


def remove_borders(table) -> None:
    """Make a layout table invisible: no borders."""
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr = table._tbl.tblPr
    later = next((child for child in tbl_pr if child.tag in TBLPR_AFTER_BORDERS), None)
    if later is None:
        tbl_pr.append(borders)
    else:
        later.addprevious(borders)  # the schema's sequence: w:tblBorders before w:tblLook


TBLPR_AFTER_BORDERS = {qn(f"w:{name}") for name in (
    "shd", "tblLayout", "tblCellMar", "tblLook", "tblCaption", "tblDescription", "tblPrChange")}
"""The children of w:tblPr that ISO 29500 puts after w:tblBorders."""


def set_zoom(doc) -> None:
    """Give w:zoom the w:percent ISO 29500 requires (python-docx's default has only w:val)."""
    zoom = doc.settings.element.find(qn("w:zoom"))
    if zoom is not None:
        zoom.set(qn("w:percent"), "100")


def cell_lines(cell, lines: list[tuple[str, bool]]) -> None:
    """Fill a table cell with one paragraph per (text, bold) line."""
    first = True
    for text, bold in lines:
        para = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        para.style = "Sidhuvudtabell"
        run = para.add_run(text)
        run.bold = bold


def new_template(footer: str, left: list[tuple[str, bool]], right: list[tuple[str, bool]]) -> Document:
    """Return a styled, empty city document with header, ``footer`` and the header block.

    The header block is a borderless two-column table: ``left`` (its first line large)
    and ``right``, each a list of (text, bold) lines.
    """
    doc = Document()
    set_zoom(doc)
    style_document(doc)
    add_footnotes_part(doc)
    set_page(doc)
    add_wordmark_header(doc)
    add_page_footer(doc, footer)
    body = doc.element.body
    for para in list(doc.paragraphs):
        body.remove(para._p)

    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    remove_borders(table)
    left_cell, right_cell = table.rows[0].cells
    left_cell.width, right_cell.width = Cm(8.5), Cm(7.5)
    cell_lines(left_cell, left)
    left_cell.paragraphs[0].runs[0].font.size = Pt(14)
    cell_lines(right_cell, right)
    return doc


def build_beslutsunderlag() -> Document:
    """Return the template for a beslutsunderlag (bolag) or tjänsteutlåtande (nämnd)."""
    doc = new_template(
        "Göteborgs Stad {{ avsandare }}, {{ dokumenttyp|lower }}",
        [("{{ dokumenttyp }}", True), ("Utfärdat {{ utfardat }}", False),
         ("Diarienummer {{ diarienummer }}", False)],
        [("Handläggare", True), ("{{ handlaggare.namn }}", False),
         ("Telefon: {{ handlaggare.telefon }}", False), ("E-post: {{ handlaggare.epost }}", False)],
    )

    doc.add_paragraph("{{ rubrik }}", style="Heading 1").paragraph_format.space_before = Pt(30)

    blocks = {"forslag_till_beslut": _add_forslag, "bilagor": _add_bilagor, "underskrifter": _add_underskrifter}
    for section in paper_sections():  # the ärende's fields, in the model's order
        if isinstance(section, str):
            blocks[section](doc)
        else:
            doc.add_paragraph(section.heading, style="Heading 2")
            doc.add_paragraph(f"{{{{p {section.variable} }}}}")
    return doc


def _add_forslag(doc: Document) -> None:
    doc.add_paragraph("Förslag till beslut", style="Heading 2")
    doc.add_paragraph("{{ beslutsinstans }}:")
    doc.add_paragraph("{{p forslag_till_beslut }}")


def _add_bilagor(doc: Document) -> None:
    doc.add_paragraph("{%p if bilagor %}")
    doc.add_paragraph("Bilagor", style="Heading 2")  # keeps with the table below
    # The numbered list in one unbreakable block (a table row): never split over pages.
    keep_on_one_page([doc.add_paragraph("{%p for bilaga in bilagor %}")._p,
                      doc.add_paragraph("{{ bilaga.titel }}", style="Bilagelista")._p,
                      doc.add_paragraph("{%p endfor %}")._p])
    doc.add_paragraph("{%p endif %}")


def _add_underskrifter(doc: Document) -> None:
    # The signatures, all in one unbreakable block.
    doc.add_paragraph("{%p if underskrifter %}")
    keep_on_one_page([doc.add_paragraph("{%p for underskrift in underskrifter %}")._p,
                      doc.add_paragraph("{{ underskrift.namn }}", style="Underskrift")._p,
                      doc.add_paragraph("{{ underskrift.titel }}")._p,
                      doc.add_paragraph("{%p endfor %}")._p])
    doc.add_paragraph("{%p endif %}")


def build_foljebrev() -> Document:
    """Return the template for a följebrev (cover letter) to one organisation."""
    doc = new_template(
        "Göteborgs Stad {{ avsandare }}, följebrev",
        [("Följebrev", True), ("Datum {{ datum }}", False), ("Från {{ avsandare }}", False)],
        [("Till", True), ("{%p for rad in mottagare_block %}", False), ("{{ rad }}", False),
         ("{%p endfor %}", False)],
    )

    doc.add_paragraph("{{ rubrik }}", style="Heading 1").paragraph_format.space_before = Pt(30)
    doc.add_paragraph("{{p brodtext }}")
    doc.add_paragraph("{{ underskrift.namn }}", style="Underskrift")
    doc.add_paragraph("{{ underskrift.titel }}")
    add_top_line(doc)
    return doc


def build_kallelse() -> Document:
    """Return the template of a kallelse to a sammanträde, with its föredragningslista.

    The points are headings "1. Rubrik" followed by their diarienummer, föredragande and,
    where the chair left the handlingar out, the ground; see ``generator/kallelsedocx.py``.
    """
    doc = new_template(
        "Göteborgs Stad {{ organisation }}, kallelse {{ datum }}",
        [("Kallelse", True), ("Datum {{ kallelsedatum }}", False)],
        [("{{ organisation }}", True), ("Sekreterare: {{ sekreterare }}", False)],
    )
    doc.add_paragraph("Kallelse till sammanträde", style="Heading 1").paragraph_format.space_before = Pt(30)
    doc.add_paragraph("{{ organisation }} kallas till sammanträde.")
    for label, tag in (("Datum", "datum"), ("Tid", "tid"), ("Plats", "plats"),
                       ("Ordförande", "ordforande"), ("Sekreterare", "sekreterare")):
        para = doc.add_paragraph()
        para.paragraph_format.space_after = Pt(2)
        para.add_run(f"{label}: ").bold = True
        para.add_run(f"{{{{ {tag} }}}}")
    doc.add_paragraph("Kallade", style="Heading 2")
    doc.add_paragraph("Ledamöter", style="Heading 3")
    doc.add_paragraph("{%p for namn in ledamoter %}")
    doc.add_paragraph("{{ namn }}", style="List Bullet")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p if ersattare %}")
    doc.add_paragraph("Ersättare", style="Heading 3")
    doc.add_paragraph("{%p for namn in ersattare %}")
    doc.add_paragraph("{{ namn }}", style="List Bullet")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("Föredragningslista", style="Heading 2")
    doc.add_paragraph("{%p for punkt in punkter %}")
    doc.add_paragraph("{{ punkt.nummer }}. {{ punkt.rubrik }}", style="Heading 3")
    for condition, text in (("punkt.arende", "Diarienummer {{ punkt.diarienummer }}"),
                            ("punkt.foredragande", "Föredragande: {{ punkt.foredragande }}"),
                            ("punkt.utelamnad", "Handlingar bifogas inte (utelämnade enligt {{ punkt.utelamnad }})."),
                            ("punkt.utan_handlingar", "Ärendet har inga handlingar."),
                            ("punkt.text", "{{ punkt.text }}")):
        doc.add_paragraph(f"{{%p if {condition} %}}")
        doc.add_paragraph(text).paragraph_format.space_after = Pt(2)
        doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("Välkomna!").paragraph_format.space_before = Pt(18)
    doc.add_paragraph("{{ ordforande }}", style="Underskrift")
    doc.add_paragraph("Ordförande")
    return doc


def build_protokoll() -> Document:
    """Return the template of a protokoll, and of a protokollsutdrag (``utdrag`` true).

    One § per point: heading "§ 115 Rubrik", diarienummer, handlingar, jäv, text,
    yrkanden, propositionsordning, omröstning (a table of names and votes), beslut as
    numbered points, reservationer, protokollsanteckningar, expedieras. The protokoll ends
    with the signatures and the anslag; an utdrag with "Rätt utdraget intygar". See
    ``generator/protokolldocx.py``.
    """
    doc = new_template(
        "Göteborgs Stad {{ organisation }}, {{ titel|lower }} {{ datum }}, {{ paragrafer_text }}",
        [("{{ titel }}", True), ("Sammanträdesdatum {{ datum }}", False), ("{{ paragrafer_text }}", False)],
        [("{{ organisation }}", True), ("Sekreterare: {{ sekreterare }}", False)],
    )
    doc.add_paragraph("{{ rubrik }}", style="Heading 1").paragraph_format.space_before = Pt(30)
    for label, tag in (("Datum", "datum"), ("Tid", "tid"), ("Plats", "plats")):
        para = doc.add_paragraph()
        para.paragraph_format.space_after = Pt(2)
        para.add_run(f"{label}: ").bold = True
        para.add_run(f"{{{{ {tag} }}}}")

    def bullets(condition: str, heading: str, items: str, level: str = "Heading 3") -> None:
        doc.add_paragraph(f"{{%p if {condition} %}}")
        doc.add_paragraph(heading, style=level)
        doc.add_paragraph(f"{{%p for rad in {items} %}}")
        doc.add_paragraph("{{ rad }}", style="List Bullet")
        doc.add_paragraph("{%p endfor %}")
        doc.add_paragraph("{%p endif %}")

    doc.add_paragraph("{%p if not utdrag %}")
    doc.add_paragraph("Närvarande", style="Heading 2")
    bullets("ledamoter", "Tjänstgörande ledamöter", "ledamoter")
    bullets("tjanstgorande_ersattare", "Tjänstgörande ersättare", "tjanstgorande_ersattare")
    bullets("ersattare", "Närvarande ersättare", "ersattare")
    bullets("ovriga", "Övriga närvarande", "ovriga")
    doc.add_paragraph("Justering", style="Heading 2")
    for label, tag in (("Justerare", "justerare_text"), ("Plats och datum för justering", "justering_text")):
        para = doc.add_paragraph()
        para.paragraph_format.space_after = Pt(2)
        para.add_run(f"{label}: ").bold = True
        para.add_run(f"{{{{ {tag} }}}}")
    doc.add_paragraph("{%p endif %}")

    doc.add_paragraph("{%p for p in paragrafer %}")
    doc.add_paragraph("§ {{ p.nummer }} {{ p.rubrik }}", style="Heading 2")
    doc.add_paragraph("{%p if p.diarienummer %}")
    doc.add_paragraph("Diarienummer {{ p.diarienummer }}")
    doc.add_paragraph("{%p endif %}")
    bullets("p.handlingar", "Handlingar", "p.handlingar")
    bullets("p.narvaro", "Närvaro", "p.narvaro")
    bullets("p.jav", "Jäv", "p.jav")
    doc.add_paragraph("{%p if p.text %}")
    doc.add_paragraph("{{ p.text }}")
    doc.add_paragraph("{%p endif %}")
    bullets("p.yrkanden", "Yrkanden", "p.yrkanden")
    doc.add_paragraph("{%p if p.propositionsordning %}")
    doc.add_paragraph("Propositionsordning", style="Heading 3")
    doc.add_paragraph("{{ p.propositionsordning }}")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p if p.omrostning %}")
    doc.add_paragraph("Omröstning", style="Heading 3")
    doc.add_paragraph("Ja-röst för: {{ p.omrostning.ja }}").paragraph_format.space_after = Pt(2)
    doc.add_paragraph("Nej-röst för: {{ p.omrostning.nej }}")
    doc.add_paragraph("{{p p.omrostning.tabell }}")
    doc.add_paragraph("Omröstningsresultat: {{ p.omrostning.resultat }}")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p if p.har_beslut %}")
    doc.add_paragraph("Beslut", style="Heading 3")
    doc.add_paragraph("{%p if p.beslut_inledning %}")
    doc.add_paragraph("{{ p.beslut_inledning }}")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{{p p.beslut }}")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p if p.omedelbart_justerad %}")
    doc.add_paragraph("Paragrafen förklaras omedelbart justerad.")
    doc.add_paragraph("{%p endif %}")
    bullets("p.reservationer", "Reservationer", "p.reservationer")
    bullets("p.protokollsanteckningar", "Protokollsanteckningar", "p.protokollsanteckningar")
    bullets("p.expedieras", "Expedieras till", "p.expedieras")
    doc.add_paragraph("{%p endfor %}")

    doc.add_paragraph("{%p if utdrag %}")
    doc.add_paragraph("{%p if omedelbart_justerad %}")
    doc.add_paragraph("Justering och anslag", style="Heading 3")
    doc.add_paragraph("Paragrafen justerades omedelbart vid sammanträdet.")
    anslag_fields = (("Datum för justering", "anslag.justerat"),
                     ("Datum då anslaget sätts upp", "anslag.uppsatt"),
                     ("Datum då anslaget tas ned", "anslag.nedtas"),
                     ("Sista dag att överklaga (laglighetsprövning)", "anslag.sista_dag"))
    for label, tag in anslag_fields:
        para = doc.add_paragraph()
        para.paragraph_format.space_after = Pt(2)
        para.add_run(f"{label}: ").bold = True
        para.add_run(f"{{{{ {tag} }}}}")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("Rätt utdraget intygar").paragraph_format.space_before = Pt(24)
    doc.add_paragraph("{{ sekreterare }}", style="Underskrift")
    doc.add_paragraph("Sekreterare, {{ utdragsdatum }}")
    doc.add_paragraph("{%p else %}")
    signatures = doc.add_paragraph("Underskrifter", style="Heading 2")
    signatures.paragraph_format.page_break_before = True
    keep_on_one_page([doc.add_paragraph("{%p for u in underskrifter %}")._p,
                      doc.add_paragraph("{{ u.namn }}", style="Underskrift")._p,
                      doc.add_paragraph("{{ u.roll }}")._p,
                      doc.add_paragraph("{%p endfor %}")._p])
    doc.add_paragraph("Anslag om justering", style="Heading 2")
    doc.add_paragraph("Justeringen av protokollet har tillkännagivits genom anslag på Göteborgs Stads "
                      "anslagstavla.")
    for label, tag in (("Organ", "organisation"), ("Sammanträdesdatum", "datum"),
                       ("Paragrafer", "paragrafer_text"), ("Datum för justering", "anslag.justerat"),
                       ("Datum då anslaget sätts upp", "anslag.uppsatt"),
                       ("Datum då anslaget tas ned", "anslag.nedtas"),
                       ("Sista dag att överklaga (laglighetsprövning)", "anslag.sista_dag"),
                       ("Förvaringsplats för protokollet", "anslag.forvaringsplats")):
        para = doc.add_paragraph()
        para.paragraph_format.space_after = Pt(2)
        para.add_run(f"{label}: ").bold = True
        para.add_run(f"{{{{ {tag} }}}}")
    doc.add_paragraph("{%p for rad in anslag.omedelbart %}")
    doc.add_paragraph("{{ rad }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p endif %}")
    return doc


def add_top_line(doc) -> None:
    """Start the body with an empty 1 pt paragraph, before the header block's table.

    LibreOffice puts an empty paragraph of its own (23 pt) above a table that starts a
    .docx, but not above one that starts a later section. With this line the header
    block sits at the top margin, as in Word, both in a letter converted alone and in
    a letter of a composed batch (``generator/letterbatch/``).
    """
    line = OxmlElement("w:p")
    doc.element.body.insert(0, line)
    ppr = line.get_or_add_pPr()
    spacing = OxmlElement("w:spacing")
    for name, value in (("w:before", "0"), ("w:after", "0"), ("w:line", "20"), ("w:lineRule", "exact")):
        spacing.set(qn(name), value)
    ppr.append(spacing)
    rpr = OxmlElement("w:rPr")
    for name in ("w:sz", "w:szCs"):
        size = OxmlElement(name)
        size.set(qn("w:val"), "2")
        rpr.append(size)
    ppr.append(rpr)


UNUSED_STYLE_PREFIXES = ("Light ", "Medium ", "Dark ", "Colorful ")
"""python-docx's default template carries ~140 table styles nobody uses in a board paper."""


def prune_package(doc) -> None:
    """Drop what python-docx's default template carries but a city template never uses.

    The legacy stylesWithEffects part, the thumbnail, and the unused table styles make up
    95 % of the template's XML; without them every document opens and saves much faster.
    Word and LibreOffice add built-in styles again when someone picks them.
    """
    part = doc.part
    for rel_id, rel in list(part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            part.drop_rel(rel_id)
    package = part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            package.rels.pop(rel_id)
    styles = doc.styles.element
    for style in list(styles.iterchildren(qn("w:style"))):
        name = style.find(qn("w:name"))
        if name is not None and name.get(qn("w:val")).startswith(UNUSED_STYLE_PREFIXES):
            styles.remove(style)


RECORD = Path(__file__).resolve().parent / "templates.sha256"
"""The sha256 of each template as this script last wrote it."""


def read_record() -> dict[str, str]:
    if not RECORD.is_file():
        return {}
    return dict(reversed(line.split("  ", 1)) for line in RECORD.read_text().splitlines() if line)


def save_template(doc, name: str, title: str, record: dict[str, str], overwrite: bool) -> None:
    """Write one template into templates/docx/, unless it was edited since we wrote it."""
    target = TEMPLATES / name
    if target.is_file() and not overwrite:
        current = hashlib.sha256(target.read_bytes()).hexdigest()
        if record.get(name) != current:
            sys.exit(f"{target} har ändrats sedan skriptet skrev den (t.ex. i Word) och skrivs inte "
                     "över. Spara ändringarna på annat håll och kör med --skriv-over.")
    prune_package(doc)
    doc.core_properties.title = title
    doc.core_properties.language = "sv-SE"
    write_docx(doc, target)
    record[name] = hashlib.sha256(target.read_bytes()).hexdigest()
    print(f"skrev {target}")


def main() -> None:
    """Write every template into templates/docx/ (see the module docstring)."""
    overwrite = "--skriv-over" in sys.argv[1:]
    TEMPLATES.mkdir(parents=True, exist_ok=True)
    record = read_record()
    save_template(build_beslutsunderlag(), "beslutsunderlag.docx",
                  "Mall: beslutsunderlag och tjänsteutlåtande", record, overwrite)
    save_template(build_foljebrev(), "foljebrev.docx", "Mall: följebrev", record, overwrite)
    save_template(build_kallelse(), "kallelse.docx", "Mall: kallelse och föredragningslista", record, overwrite)
    save_template(build_protokoll(), "protokoll.docx", "Mall: protokoll och protokollsutdrag", record, overwrite)
    RECORD.write_text("".join(f"{sha}  {name}\n" for name, sha in sorted(record.items())))


if __name__ == "__main__":
    main()
