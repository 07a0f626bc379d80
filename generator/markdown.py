"""Markdown text fields rendered as real Word paragraphs, lists, tables, footnotes and runs.

The handläggare writes text fields in Markdown. ``MarkdownRenderer`` turns one field into
a block of Word paragraphs placed with ``{{p field }}``: paragraphs in the template's Normal
style, headings in its heading styles, bullets and numbers in its ``List Bullet`` /
``List Number`` styles (each numbered list restarting at its own first number), bold and
italic runs, and clickable links. Markdown is parsed by markdown-it-py (CommonMark);
raw HTML is shown as the text it is, never interpreted.

GitHub pipe tables become Word tables in the template's ``Tabell`` style, with the header
row repeated on every page and each column's alignment kept; ``text[^1]`` … ``[^1]: …``
becomes a real Word footnote at the bottom of the page.

Page breaks fall where a reader expects them: headings keep with what follows (their
style), a paragraph ending in ':' keeps with the list it introduces, and a list of at
most ``SHORT_LIST`` items is kept on one page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from docx.blkcntnr import BlockItemContainer
from docx.oxml import OxmlElement, parse_xml
from docxtpl import DocxTemplate
from lxml import etree
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from .wordxml import RT_FOOTNOTES, RT_HYPERLINK, R, nsdecls, qn

if TYPE_CHECKING:
    from docx.oxml.xmlchemy import BaseOxmlElement
    from docx.text.paragraph import Paragraph

_PARSER = (MarkdownIt("commonmark", {"html": False, "linkify": False})
           .disable("image").enable("table").use(footnote_plugin))

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


@lru_cache(maxsize=256)
def parse_markdown(text: str) -> tuple[Token, ...]:
    """Return the markdown-it tokens of ``text``; a batch parses each text only once."""
    return tuple(_PARSER.parse(text))


HEADING_OFFSET = 2
"""A ``#`` heading inside a field sits below the template's section headings (Heading 2)."""


def required_styles(heading_offset: int) -> list[str]:
    """Return the styles a template must have for Markdown written with ``heading_offset``."""
    headings = [f"Heading {level}" for level in range(heading_offset + 1, 7)]
    lists = ["List Bullet", "List Bullet 2", "List Number", "List Number 2", "List Continue"]
    return ["Normal", *headings, *lists, "Hyperlink"]


@dataclass
class _List:
    ordered: bool
    num_id: int | None  # w:num of an ordered list, so each list restarts at its own start
    items_seen: int = 0
    paragraphs: list = field(default_factory=list)  # all its paragraphs, nested lists included


def find_stray_table_lines(text: str) -> list[int]:
    """Return the (1-based) lines of ``text`` that start with '|' but are not part of a table.

    markdown-it prints a malformed pipe table (no delimiter row, or a different number of
    columns) as plain text with its pipes; the handläggare is warned instead.
    """
    covered: set[int] = set()
    for token in parse_markdown(text or ""):
        if token.type in ("table_open", "fence", "code_block") and token.map:
            covered.update(range(*token.map))
    return [number + 1 for number, line in enumerate((text or "").splitlines())
            if line.lstrip().startswith("|") and number not in covered]


MAX_TABLE_ROWS = 1000
"""The most rows (header included) a Markdown table may have: the PDF checker refuses a table over 1024."""
MAX_TABLE_COLUMNS = 63
"""The most columns a Markdown table may have: Word's own limit."""
_FOOTNOTE_LEFT_AS_TEXT = re.compile(r"\[\^([^\]\s]+)\]")


def markdown_problems(text: str) -> list[tuple[int, str]]:
    """Return what in the Markdown ``text`` cannot become a correct Word document, with its line.

    Each problem is (line in the text, 0-based; Swedish message): a footnote reference inside
    a footnote (Word has no footnotes in footnotes), a footnote reference with no footnote
    text (it would be printed as '[^x]'), and a table over ``MAX_TABLE_ROWS`` rows or
    ``MAX_TABLE_COLUMNS`` columns.
    """
    problems: list[tuple[int, str]] = []
    in_footnote = False
    table_line, rows, columns, cells = 0, 0, 0, 0
    for token in parse_markdown(text or ""):
        kind = token.type
        if kind == "footnote_open":
            in_footnote = True
        elif kind == "footnote_close":
            in_footnote = False
        elif kind == "table_open":
            table_line, rows, columns = (token.map or (0,))[0], 0, 0
        elif kind == "tr_open":
            rows, cells = rows + 1, 0
        elif kind in ("td_open", "th_open"):
            cells += 1
            columns = max(columns, cells)
        elif kind == "table_close":
            if rows > MAX_TABLE_ROWS:
                problems.append((table_line, f"tabellen har {rows} rader, men en tabell får ha högst "
                                 f"{MAX_TABLE_ROWS}. Dela upp den i flera tabeller, eller lägg uppgifterna "
                                 "i en bilaga (t.ex. ett Excel-ark)."))
            if columns > MAX_TABLE_COLUMNS:
                problems.append((table_line, f"tabellen har {columns} kolumner, men Word tillåter högst "
                                 f"{MAX_TABLE_COLUMNS}. Dela upp den, eller lägg uppgifterna i en bilaga."))
        elif kind == "inline":
            line = (token.map or (0,))[0]
            for child in token.children or []:
                if child.type == "footnote_ref" and in_footnote:
                    label = child.meta.get("label", "")
                    problems.append((line, f"fotnoten [^{label}] står i en annan fotnots text. Word kan inte "
                                     "ha en fotnot i en fotnot: skriv texten direkt i den första fotnoten."))
                elif child.type == "text":
                    for match in _FOOTNOTE_LEFT_AS_TEXT.finditer(child.content):
                        problems.append((line, f"fotnoten {match.group(0)} har ingen fotnotstext. Lägg till en "
                                         f"rad '{match.group(0)}: …' längre ned i fältet, eller ta bort "
                                         "hänvisningen."))
    return problems


def table_warnings(model, field: str = "") -> list[str]:
    """Return a Swedish warning for every malformed Markdown table in ``model``'s text fields.

    ``model`` is a pydantic model (an ärende or an utskick); every string in it is checked,
    named by its YAML key.
    """
    warnings = []
    if isinstance(model, str):
        stray = find_stray_table_lines(model)
        for line in [n for n in stray if n - 1 not in stray]:  # once per block of lines
            shown = model.splitlines()[line - 1].strip()
            warnings.append(
                f"{field}, rad {line} i texten: '{shown[:60]}' ser ut som en tabellrad men blev "
                "ingen tabell och skrivs ut som text. En tabell behöver en rubrikrad, sedan en "
                "avgränsningsrad som '| --- | --- |' och lika många kolumner på varje rad.")
    elif isinstance(model, (list, tuple)):
        for index, item in enumerate(model, 1):
            warnings += table_warnings(item, f"{field} {index}")
    elif hasattr(type(model), "model_fields"):
        for name, info in type(model).model_fields.items():
            key = info.alias or name
            warnings += table_warnings(getattr(model, name), f"{field}.{key}" if field else key)
    return warnings


class MarkdownBlock:
    """Word paragraphs made from one Markdown field; docxtpl inserts them as raw XML."""

    def __init__(self, xml: str):
        self.xml = xml

    def __html__(self) -> str:
        return self.xml

    __str__ = __html__


class MarkdownRenderer:
    """Render Markdown fields into paragraph blocks for one docxtpl template."""

    def __init__(self, template: DocxTemplate, heading_offset: int = HEADING_OFFSET):
        self.template = template
        self.document = template.get_docx()
        self.heading_offset = heading_offset
        self._style_ids: dict[str, str] = {}
        self._footnotes: Any = None  # the footnotes part's XML (an lxml element), parsed when a footnote comes
        self._next_footnote = 1

    def subdoc(self, text: str) -> MarkdownBlock:
        """Return ``text`` rendered as a block of Word paragraphs."""
        body = OxmlElement("w:body")
        _Writer(self, BlockItemContainer(body, self.document)).write(parse_markdown(text or ""))
        xml = etree.tostring(body, encoding="unicode")
        return MarkdownBlock(re.sub(r"</?w:body[^>]*>", "", xml))

    def style_id(self, name: str) -> str:
        """Return the template's style id for the style called ``name``."""
        if name not in self._style_ids:
            self._style_ids[name] = self.document.styles[name].style_id
        return self._style_ids[name]

    def numbered_list(self, items: list[str]):
        """Return a sub-document with one numbered paragraph per item (plain if only one)."""
        if len(items) == 1:
            return self.subdoc(items[0])
        text = "\n".join(f"{i}. {_escape_list_item(item)}" for i, item in enumerate(items, 1))
        return self.subdoc(text)

    def new_num(self, style_name: str, start: int) -> int | None:
        """Return a new w:num id for ``style_name``'s numbering, restarting at ``start``."""
        style = self.document.styles[style_name]
        num_pr = style.element.pPr.numPr if style.element.pPr is not None else None
        if num_pr is None or num_pr.numId is None:
            return None
        numbering = self.document.part.numbering_part.element
        base = numbering.num_having_numId(num_pr.numId.val)
        num = numbering.add_num(base.abstractNumId.val)
        num.add_lvlOverride(ilvl=0).add_startOverride(start)
        return num.numId

    def new_footnote_id(self) -> int:
        """Return the id of a new footnote, unique in the document."""
        if self._footnotes is None:
            footnotes = _declaring_r(etree.fromstring(self._footnotes_part().blob))
            ids = [int(f.get(qn("w:id"))) for f in footnotes.iter(qn("w:footnote"))]
            self._footnotes = footnotes
            self._next_footnote = max([0, *ids]) + 1
        number, self._next_footnote = self._next_footnote, self._next_footnote + 1
        return number

    def add_footnote(self, number: int, paragraphs: list) -> None:
        """Add footnote ``number`` (from ``new_footnote_id``) made of ``paragraphs`` (w:p elements).

        The footnote goes into the template's footnotes part (created if missing). docxtpl
        renders that part as a template after the body, so braces in the text are written
        as character references: content stays data, never template code.
        """
        part = self._footnotes_part()
        footnote = OxmlElement("w:footnote")
        footnote.set(qn("w:id"), str(number))
        for p in paragraphs:
            footnote.append(p)
        self._footnotes.append(footnote)
        xml = etree.tostring(self._footnotes, encoding="unicode", xml_declaration=False)
        xml = xml.replace("{", "&#123;").replace("}", "&#125;")
        part._blob = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + xml).encode("utf-8")

    def _footnotes_part(self):
        part = self.document.part
        for rel in part.rels.values():
            if rel.reltype == RT_FOOTNOTES:
                return rel.target_part
        from docx.opc.packuri import PackURI
        from docx.opc.part import Part

        empty = (f'<w:footnotes {nsdecls("w", "r")}>'
                 '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
                 '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/>'
                 '</w:r></w:p></w:footnote></w:footnotes>')
        new = Part(PackURI("/word/footnotes.xml"),
                   "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
                   empty.encode("utf-8"), part.package)
        part.relate_to(new, RT_FOOTNOTES)
        return new

    def link_rid(self, url: str, in_footnote: bool = False) -> str:
        """Return the relationship id of an external hyperlink to ``url``.

        A link in a footnote is a relationship of the footnotes part, not of the body's.
        """
        part = self._footnotes_part() if in_footnote else self.document.part
        return part.relate_to(url, RT_HYPERLINK, is_external=True)


def _declaring_r(root):
    """Return ``root`` declaring the ``r:`` namespace (a copy with it added if it lacks it).

    Readers such as docx2python look ``r`` up on every part they read, used or not.
    """
    if root.nsmap.get("r") == R:
        return root
    declaring = etree.Element(root.tag, root.attrib, nsmap={**root.nsmap, "r": R})
    declaring.text = root.text
    declaring.extend(list(root))
    return declaring


def _escape_list_item(text: str) -> str:
    """Keep an item on one list line: fold newlines, so it cannot start a new block."""
    return " ".join(text.split())


class _Writer:
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
        writer = _Writer(self.renderer, BlockItemContainer(body, self.renderer.document), {}, in_footnote=True)
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
