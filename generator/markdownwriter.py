"""One Markdown field written into Word: paragraphs, headings, lists, tables, footnotes and runs.

``MarkdownWriter`` walks the markdown-it tokens of one field (``markdowncheck.parse_markdown``)
and appends Word XML to one sub-document of ``markdown.MarkdownRenderer``, which owns what
the document shares (its styles, numbering, footnotes part and links): paragraphs in the
template's Normal style, headings in its heading styles, bullets and numbers in its
``List Bullet`` / ``List Number`` styles (each numbered list restarting at its own first
number), bold and italic runs, and clickable links.

GitHub pipe tables become Word tables in the template's ``Tabell`` style, with the header
row repeated on every page and each column's alignment kept; ``text[^1]`` … ``[^1]: …``
becomes a real Word footnote at the bottom of the page.

Page breaks fall where a reader expects them: headings keep with what follows (their
style), a paragraph ending in ':' keeps with the list it introduces, and a list of at
most ``SHORT_LIST`` items is kept on one page (``keep_on_one_page``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from docx.blkcntnr import BlockItemContainer
from docx.oxml import OxmlElement, parse_xml
from lxml import etree
from markdown_it.token import Token

from .wordxml import nsdecls, qn

if TYPE_CHECKING:
    from docx.oxml.xmlchemy import BaseOxmlElement
    from docx.text.paragraph import Paragraph

    from .markdown import MarkdownRenderer

TABLE_STYLE = "Tabell"
"""The templates' table style for Markdown tables (see tools/make_templates.py)."""
CELL_STYLE = "Tabelltext"
"""The paragraph style of a table cell's text."""
TEXT_WIDTH_TWIPS = 9072
"""Width of the templates' text column (16 cm) in twips: Markdown tables span it."""
SHORT_LIST = 6
"""Lists with at most this many items are kept together on one page."""
_ALIGN = {"text-align:left": "left", "text-align:right": "right", "text-align:center": "center"}


def keep_on_one_page(elements: list) -> BaseOxmlElement:
    """Move consecutive body paragraphs into an unbreakable block; return its w:tbl.

    The block is a borderless one-cell table without cell margins (it looks like the
    paragraphs alone) whose row may not break across pages (``w:cantSplit``): LibreOffice
    honours that, where it drops keep-with-next chains longer than about two paragraphs.
    The PDF step tags a one-cell table as layout, not as a data table (conformance.py).
    """
    nil = "".join(f'<w:{edge} w:val="nil"/>' for edge in ("top", "left", "bottom", "right", "insideH", "insideV"))
    zero = "".join(f'<w:{edge} w:w="0" w:type="dxa"/>' for edge in ("top", "left", "bottom", "right"))
    tbl = parse_xml(
        f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblW w:w="{TEXT_WIDTH_TWIPS}" w:type="dxa"/>'
        f'<w:tblBorders>{nil}</w:tblBorders><w:tblLayout w:type="fixed"/>'
        f'<w:tblCellMar>{zero}</w:tblCellMar><w:tblLook w:val="0000"/></w:tblPr>'
        f'<w:tblGrid><w:gridCol w:w="{TEXT_WIDTH_TWIPS}"/></w:tblGrid>'
        '<w:tr><w:trPr><w:cantSplit/></w:trPr>'
        f'<w:tc><w:tcPr><w:tcW w:w="{TEXT_WIDTH_TWIPS}" w:type="dxa"/></w:tcPr></w:tc></w:tr></w:tbl>')
    elements[0].addprevious(tbl)
    cell = tbl.find(f"{qn('w:tr')}/{qn('w:tc')}")
    for element in elements:
        cell.append(element)
    return tbl


@dataclass
class _List:
    ordered: bool
    num_id: int | None  # w:num of an ordered list, so each list restarts at its own start
    items_seen: int = 0
    paragraphs: list = field(default_factory=list)  # all its paragraphs, nested lists included


class MarkdownWriter:
    """Walk markdown-it tokens and append paragraphs and runs to one sub-document."""

    def __init__(self, renderer: MarkdownRenderer, container: BlockItemContainer,
                 footnote_ids: dict[int, int] | None = None, *, in_footnote: bool = False):
        self.renderer = renderer
        self.in_footnote = in_footnote  # a footnote holds paragraphs only: no unbreakable blocks
        self.container = container
        self.lists: list[_List] = []
        self.paragraph: Paragraph | None = None
        self.first_in_item = False
        self.previous: Paragraph | None = None  # the last top-level paragraph written
        self.table: BaseOxmlElement | None = None  # the w:tbl being written, with its row and column count
        self.row: BaseOxmlElement | None = None
        self.in_head = False
        self.footnote_ids = {} if footnote_ids is None else footnote_ids

    def add_paragraph(self, text: str = "", style: str | None = None):
        paragraph = self.container.add_paragraph(text)
        if style is not None:
            paragraph._p.style = self.renderer.style_id(style)
        if self.lists:
            self.lists[-1].paragraphs.append(paragraph)
        else:
            self.previous = paragraph
        return paragraph

    def current_paragraph(self) -> Paragraph:
        """Return the paragraph inline content goes into: markdown-it opens one before any inline token."""
        assert self.paragraph is not None, "inline Markdown outside a paragraph"
        return self.paragraph

    def write(self, tokens) -> None:
        tokens = list(tokens)
        end = next((i for i, t in enumerate(tokens) if t.type == "footnote_block_open"), len(tokens))
        for token in tokens[:end]:
            handler = getattr(self, "_" + token.type, None)
            if handler is not None:
                handler(token)
        self._write_footnotes(tokens[end:])

    # --- footnotes ---
    def _write_footnotes(self, tokens: list[Token]) -> None:
        """Write each footnote definition into the footnotes part, under the id its reference got."""
        start = None
        for index, token in enumerate(tokens):
            if token.type == "footnote_open":
                start = index
            elif token.type == "footnote_close" and start is not None:
                number = self.footnote_ids.get(tokens[start].meta["id"])
                if number is not None:
                    self._fill_footnote(number, tokens[start + 1:index])
                start = None

    def _fill_footnote(self, number: int, tokens: list[Token]) -> None:
        body = OxmlElement("w:body")
        writer = MarkdownWriter(self.renderer, BlockItemContainer(body, self.renderer.document), {}, in_footnote=True)
        writer.write(tokens)
        paragraphs = [p for p in body if p.tag == qn("w:p")] or [OxmlElement("w:p")]
        for p in paragraphs:
            p.style = self.renderer.style_id("footnote text")
        first = paragraphs[0]
        mark = _reference_run(self.renderer, "w:footnoteRef")
        space = OxmlElement("w:r")
        space.add_t(" ")
        p_pr = first.find(qn("w:pPr"))
        at = 0 if p_pr is None else 1
        first.insert(at, mark)
        first.insert(at + 1, space)
        self.renderer.add_footnote(number, paragraphs)

    def _footnote_ref(self, child: Token) -> None:
        key = child.meta["id"]
        if key not in self.footnote_ids:
            self.footnote_ids[key] = self.renderer.new_footnote_id()
        run = _reference_run(self.renderer, "w:footnoteReference")
        run[-1].set(qn("w:id"), str(self.footnote_ids[key]))
        self.current_paragraph()._p.append(run)

    # --- tables ---
    def _table_open(self, token: Token) -> None:
        tbl = OxmlElement("w:tbl")
        tbl.append(etree.fromstring(
            f'<w:tblPr {nsdecls("w")}><w:tblStyle w:val="{self.renderer.style_id(TABLE_STYLE)}"/>'
            '<w:tblW w:w="5000" w:type="pct"/><w:tblLook w:val="0420" w:firstRow="1" w:lastRow="0" '
            'w:firstColumn="0" w:lastColumn="0" w:noHBand="1" w:noVBand="1"/></w:tblPr>'))
        tbl.append(OxmlElement("w:tblGrid"))
        self.container._element.append(tbl)
        self.table = tbl
        self.columns = 0
        self._keep_intro()
        self.previous = None

    def _table_close(self, token: Token) -> None:
        assert self.table is not None, "table_close without table_open"
        grid = self.table.find(qn("w:tblGrid"))
        width = TEXT_WIDTH_TWIPS // max(self.columns, 1)
        for _ in range(self.columns):
            col = OxmlElement("w:gridCol")
            col.set(qn("w:w"), str(width))
            grid.append(col)
        for tc_w in self.table.iter(qn("w:tcW")):
            tc_w.set(qn("w:w"), str(width))
        self.table = self.row = None

    def _thead_open(self, token: Token) -> None:
        self.in_head = True

    def _thead_close(self, token: Token) -> None:
        self.in_head = False

    def _tr_open(self, token: Token) -> None:
        assert self.table is not None, "tr_open outside a table"
        self.row = row = OxmlElement("w:tr")
        tr_pr = OxmlElement("w:trPr")
        tr_pr.append(OxmlElement("w:cantSplit"))
        if self.in_head:
            tr_pr.append(OxmlElement("w:tblHeader"))  # repeated on every page; TH in the PDF
        row.append(tr_pr)
        self.table.append(row)
        self.cells = 0

    def _tr_close(self, token: Token) -> None:
        self.columns = max(self.columns, self.cells)

    def _td_open(self, token: Token) -> None:
        tc = OxmlElement("w:tc")
        tc.append(etree.fromstring(f'<w:tcPr {nsdecls("w")}><w:tcW w:w="0" w:type="dxa"/></w:tcPr>'))
        p = OxmlElement("w:p")
        p.style = self.renderer.style_id(CELL_STYLE)
        tc.append(p)
        assert self.row is not None, "td_open outside a table row"
        self.row.append(tc)
        self.cells += 1
        from docx.text.paragraph import Paragraph

        self.paragraph = Paragraph(p, self.container)
        align = _ALIGN.get(str(token.attrGet("style") or "").replace(" ", ""))
        if align:
            jc = OxmlElement("w:jc")
            jc.set(qn("w:val"), align)
            p.get_or_add_pPr().append(jc)

    _th_open = _td_open

    # --- blocks ---
    def _heading_open(self, token: Token) -> None:
        level = min(int(token.tag[1]) + self.renderer.heading_offset, 6)
        self.paragraph = self.add_paragraph(style=f"Heading {level}")

    def _paragraph_open(self, token: Token) -> None:
        if not self.lists:
            self.paragraph = self.add_paragraph()
            return
        current = self.lists[-1]
        depth = len(self.lists)
        if self.first_in_item:
            kind = "List Number" if current.ordered else "List Bullet"
            style = kind if depth == 1 else f"{kind} 2"
            self.paragraph = self.add_paragraph(style=style)
            if current.ordered and current.num_id is not None:
                _set_numbering(self.paragraph, current.num_id, level=0)
            self.first_in_item = False
        else:
            self.paragraph = self.add_paragraph(style="List Continue")

    def _bullet_list_open(self, token: Token) -> None:
        self._open_list(_List(ordered=False, num_id=None))

    def _ordered_list_open(self, token: Token) -> None:
        start = int(token.attrGet("start") or 1)
        style = "List Number" if not self.lists else "List Number 2"
        self._open_list(_List(ordered=True, num_id=self.renderer.new_num(style, start)))

    def _open_list(self, new: _List) -> None:
        if not self.lists:
            self._keep_intro()
        self.lists.append(new)

    def _keep_intro(self) -> None:
        """Keep a paragraph ending in ':' on the page of the list or table it introduces."""
        if self.previous is not None and self.previous.text.rstrip().endswith(":"):
            self.previous.paragraph_format.keep_with_next = True

    def _bullet_list_close(self, token: Token) -> None:
        done = self.lists.pop()
        if self.lists:
            self.lists[-1].paragraphs += done.paragraphs
        elif done.items_seen <= SHORT_LIST and not self.in_footnote:
            # LibreOffice does not honour keep-with-next over more than about two
            # paragraphs: a short list and its intro go into one unbreakable table row.
            intro = self.previous if self.previous is not None and self.previous.text.rstrip().endswith(":") else None
            if intro is not None:
                intro.paragraph_format.keep_with_next = None
            keep_on_one_page([p._p for p in ([intro] if intro is not None else []) + done.paragraphs])
        if not self.lists:
            self.previous = None

    _ordered_list_close = _bullet_list_close

    def _list_item_open(self, token: Token) -> None:
        self.first_in_item = True
        self.lists[-1].items_seen += 1

    def _fence(self, token: Token) -> None:
        for line in token.content.rstrip("\n").split("\n"):
            self.add_paragraph(line)

    _code_block = _fence

    def _hr(self, token: Token) -> None:
        self.add_paragraph()

    # --- inline ---
    def _inline(self, token: Token) -> None:
        bold = italic = False
        link: str | None = None
        hyperlink = None
        for child in token.children or []:
            kind = child.type
            if kind == "strong_open":
                bold = True
            elif kind == "strong_close":
                bold = False
            elif kind == "em_open":
                italic = True
            elif kind == "em_close":
                italic = False
            elif kind == "link_open":
                link = str(child.attrGet("href") or "")
                hyperlink = self._open_hyperlink(link) if _is_real_link(link) else None
            elif kind == "link_close":
                link, hyperlink = None, None
            elif kind in ("softbreak",):
                self._add_run(" ", bold, italic, hyperlink)
            elif kind == "hardbreak":
                self.current_paragraph().add_run().add_break()
            elif kind in ("text", "code_inline", "html_inline"):
                self._add_run(child.content, bold, italic, hyperlink)
            elif kind == "footnote_ref":
                self._footnote_ref(child)

    def _open_hyperlink(self, url: str):
        element = OxmlElement("w:hyperlink")
        element.set(qn("r:id"), self.renderer.link_rid(url, self.in_footnote))
        self.current_paragraph()._p.append(element)
        return element

    def _add_run(self, text: str, bold: bool, italic: bool, hyperlink) -> None:
        if not text:
            return
        run = self.current_paragraph().add_run()
        run._r.add_t(text)
        run.bold = bold or None
        run.italic = italic or None
        if hyperlink is not None:
            run._r.style = self.renderer.style_id("Hyperlink")
            hyperlink.append(run._r)


def _reference_run(renderer: MarkdownRenderer, mark: str):
    """Return a run in the footnote reference style holding ``mark`` (a footnote mark element)."""
    run = OxmlElement("w:r")
    r_pr = OxmlElement("w:rPr")
    style = OxmlElement("w:rStyle")
    style.set(qn("w:val"), renderer.style_id("footnote reference"))
    r_pr.append(style)
    run.append(r_pr)
    run.append(OxmlElement(mark))
    return run


def _is_real_link(url: str) -> bool:
    """Return True for a link worth making clickable (not an empty or ``#`` placeholder)."""
    return url.startswith(("http://", "https://", "mailto:"))


def _set_numbering(paragraph, num_id: int, level: int) -> None:
    """Point ``paragraph`` at numbering ``num_id`` on ``level``."""
    p_pr = paragraph._p.get_or_add_pPr()
    num_pr = p_pr.get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = level
    num_pr.get_or_add_numId().val = num_id
