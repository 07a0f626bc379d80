"""Markdown text fields rendered as real Word paragraphs, lists and runs.

The handläggare writes text fields in Markdown. ``MarkdownRenderer`` turns one field into
a block of Word paragraphs placed with ``{{p field }}``: paragraphs in the template's Normal
style, headings in its heading styles, bullets and numbers in its ``List Bullet`` /
``List Number`` styles (each numbered list restarting at its own first number), bold and
italic runs, and clickable links. Markdown is parsed by markdown-it-py (CommonMark);
raw HTML is shown as the text it is, never interpreted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from docx.blkcntnr import BlockItemContainer
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from lxml import etree
from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")

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

    def link_rid(self, url: str) -> str:
        """Return the relationship id of an external hyperlink to ``url``."""
        return self.document.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)


def _escape_list_item(text: str) -> str:
    """Keep an item on one list line: fold newlines, so it cannot start a new block."""
    return " ".join(text.split())


class _Writer:
    """Walk markdown-it tokens and append paragraphs and runs to one sub-document."""

    def __init__(self, renderer: MarkdownRenderer, container: BlockItemContainer):
        self.renderer = renderer
        self.container = container
        self.lists: list[_List] = []
        self.paragraph = None
        self.first_in_item = False

    def add_paragraph(self, text: str = "", style: str | None = None):
        paragraph = self.container.add_paragraph(text)
        if style is not None:
            paragraph._p.style = self.renderer.style_id(style)
        return paragraph

    def write(self, tokens) -> None:
        for token in tokens:
            handler = getattr(self, "_" + token.type, None)
            if handler is not None:
                handler(token)

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
        self.lists.append(_List(ordered=False, num_id=None))

    def _ordered_list_open(self, token: Token) -> None:
        start = int(token.attrGet("start") or 1)
        style = "List Number" if not self.lists else "List Number 2"
        self.lists.append(_List(ordered=True, num_id=self.renderer.new_num(style, start)))

    def _bullet_list_close(self, token: Token) -> None:
        self.lists.pop()

    _ordered_list_close = _bullet_list_close

    def _list_item_open(self, token: Token) -> None:
        self.first_in_item = True

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
                self.paragraph.add_run().add_break()
            elif kind in ("text", "code_inline", "html_inline"):
                self._add_run(child.content, bold, italic, hyperlink)

    def _open_hyperlink(self, url: str):
        element = OxmlElement("w:hyperlink")
        element.set(qn("r:id"), self.renderer.link_rid(url))
        self.paragraph._p.append(element)
        return element

    def _add_run(self, text: str, bold: bool, italic: bool, hyperlink) -> None:
        if not text:
            return
        run = self.paragraph.add_run()
        run._r.add_t(text)
        run.bold = bold or None
        run.italic = italic or None
        if hyperlink is not None:
            run._r.style = self.renderer.style_id("Hyperlink")
            hyperlink.append(run._r)


def _is_real_link(url: str) -> bool:
    """Return True for a link worth making clickable (not an empty or ``#`` placeholder)."""
    return url.startswith(("http://", "https://", "mailto:"))


def _set_numbering(paragraph, num_id: int, level: int) -> None:
    """Point ``paragraph`` at numbering ``num_id`` on ``level``."""
    p_pr = paragraph._p.get_or_add_pPr()
    num_pr = p_pr.get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = level
    num_pr.get_or_add_numId().val = num_id
