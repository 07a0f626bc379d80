"""Markdown text fields rendered as real Word paragraphs, lists, tables, footnotes and runs.

The handläggare writes text fields in Markdown. ``MarkdownRenderer`` turns one field into
a block of Word paragraphs placed with ``{{p field }}`` (``MarkdownBlock``), and owns what
the fields of one document share: the template's styles (``required_styles``), list
numbering, the footnotes part and hyperlinks. Markdown is parsed by markdown-it-py
(CommonMark) in ``markdowncheck``, which also checks a field before it is written; raw HTML
is shown as the text it is, never interpreted. How each token becomes Word XML (headings,
lists, tables, footnotes, runs, page breaks) is ``markdownwriter.MarkdownWriter``'s.
"""

from __future__ import annotations

import re
from typing import Any

from docx.blkcntnr import BlockItemContainer
from docx.oxml import OxmlElement
from docxtpl import DocxTemplate
from lxml import etree

from .markdowncheck import parse_markdown
from .markdownwriter import MarkdownWriter
from .wordxml import RT_FOOTNOTES, RT_HYPERLINK, R, nsdecls, qn

HEADING_OFFSET = 2
"""A ``#`` heading inside a field sits below the template's section headings (Heading 2)."""


def required_styles(heading_offset: int) -> list[str]:
    """Return the styles a template must have for Markdown written with ``heading_offset``."""
    headings = [f"Heading {level}" for level in range(heading_offset + 1, 7)]
    lists = ["List Bullet", "List Bullet 2", "List Number", "List Number 2", "List Continue"]
    return ["Normal", *headings, *lists, "Hyperlink"]


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
        MarkdownWriter(self, BlockItemContainer(body, self.document)).write(parse_markdown(text or ""))
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
