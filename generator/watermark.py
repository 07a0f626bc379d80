"""Marking a draft, the .docx half: a diagonal "UTKAST" across every page of the .docx.

The PDF half is ``pdfwatermark`` (it needs pikepdf and reportlab, which rendering a Word
file never loads). ``add_watermark`` puts the word in every header of the document, as
Word's own "Vattenstämpel" does, so that it shows on every page of the .docx. The shape is a
DrawingML text box (``wps:wsp``) behind the text, centred on the page and turned 45
degrees. Word's own watermark is a VML WordArt path, but LibreOffice exports WordArt as
outlines, so the word would not be text in the PDF.

LibreOffice 7.4 does not turn text boxes (DrawingML or VML, ``xfrm rot`` or ``bodyPr
rot``: all tried) and exports the word horizontally. So the PDF is made from a copy
without the text box (``remove_watermark``), and ``pdfwatermark.stamp_watermark`` draws
the word onto the PDF's pages.
"""

from __future__ import annotations

from pathlib import Path

import docx
from docx.enum.section import WD_HEADER_FOOTER
from docx.oxml import parse_xml

from .wordxml import WPS, nsdecls

WATERMARK_TEXT = "UTKAST"
_SHAPE_NAME = "Utkast"

_NAMESPACES = nsdecls("w", "mc", "wp", "a", "wps")

_WIDTH, _HEIGHT = 6_120_000, 1_500_000  # EMU: 17 x 4.2 cm, room for the word at 96 pt
_ROTATION = 315 * 60_000  # DrawingML turns clockwise in 1/60000 degree: 315 = 45 upwards

_PARAGRAPH = """<w:p {ns}><w:pPr><w:pStyle w:val="Header"/></w:pPr><w:r><w:rPr><w:noProof/></w:rPr>
<mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>
<wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="0"
  behindDoc="1" locked="1" layoutInCell="1" allowOverlap="1">
 <wp:simplePos x="0" y="0"/>
 <wp:positionH relativeFrom="page"><wp:align>center</wp:align></wp:positionH>
 <wp:positionV relativeFrom="page"><wp:align>center</wp:align></wp:positionV>
 <wp:extent cx="{cx}" cy="{cy}"/>
 <wp:effectExtent l="0" t="0" r="0" b="0"/>
 <wp:wrapNone/>
 <wp:docPr id="{id}" name="{name} {n}" descr="Vattenstämpel: {text}"/>
 <wp:cNvGraphicFramePr/>
 <a:graphic><a:graphicData uri="{wps}">
  <wps:wsp>
   <wps:cNvSpPr txBox="1"/>
   <wps:spPr>
    <a:xfrm rot="{rot}"><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>
    <a:prstGeom prst="rect"><a:avLst/></a:prstGeom>
    <a:noFill/><a:ln><a:noFill/></a:ln>
   </wps:spPr>
   <wps:txbx><w:txbxContent><w:p><w:pPr><w:spacing w:before="0" w:after="0"/><w:jc w:val="center"/></w:pPr>
    <w:r><w:rPr><w:rFonts w:ascii="Liberation Sans" w:hAnsi="Liberation Sans" w:cs="Liberation Sans"/>
     <w:b/><w:color w:val="BFBFBF"/><w:sz w:val="192"/><w:szCs w:val="192"/></w:rPr><w:t>{text}</w:t></w:r>
   </w:p></w:txbxContent></wps:txbx>
   <wps:bodyPr rot="0" vert="horz" wrap="none" lIns="0" tIns="0" rIns="0" bIns="0" anchor="ctr">
    <a:noAutofit/></wps:bodyPr>
  </wps:wsp>
 </a:graphicData></a:graphic>
</wp:anchor>
</w:drawing></mc:Choice></mc:AlternateContent></w:r></w:p>"""


def add_watermark(document, text: str = WATERMARK_TEXT) -> None:
    """Put a diagonal ``text`` behind every page of ``document`` (a python-docx Document).

    Every header a page can show gets the watermark: each section's own headers, and a
    header where a section uses one (first page, even pages) but neither it nor an earlier
    section defines it. The header XML is reached through the document's relationships,
    because docxtpl replaces the rendered header parts there (python-docx's
    ``section.header`` would still edit the template's).
    """
    even_pages = document.settings.odd_and_even_pages_header_footer
    done: set = set()
    marked: set = set()
    for section in document.sections:
        used = {WD_HEADER_FOOTER.PRIMARY}
        if section.different_first_page_header_footer:
            used.add(WD_HEADER_FOOTER.FIRST_PAGE)
        if even_pages:
            used.add(WD_HEADER_FOOTER.EVEN_PAGE)
        for kind in (WD_HEADER_FOOTER.PRIMARY, WD_HEADER_FOOTER.FIRST_PAGE, WD_HEADER_FOOTER.EVEN_PAGE):
            reference = section._sectPr.get_headerReference(kind)
            if reference is None:
                if kind not in used or kind in done:
                    continue  # not shown, or shows an earlier section's header that has it
                _header(section, kind).is_linked_to_previous = False
                reference = section._sectPr.get_headerReference(kind)
            part = document.part.rels[reference.rId].target_part
            done.add(kind)
            if part.partname in marked:
                continue
            marked.add(part.partname)
            xml = _PARAGRAPH.format(ns=_NAMESPACES, wps=WPS, name=_SHAPE_NAME, n=len(marked), id=90_000 + len(marked),
                                    text=text, cx=_WIDTH, cy=_HEIGHT, rot=_ROTATION)
            part._element.append(parse_xml(xml))


def _header(section, kind):
    """Return the python-docx header of ``section`` for ``kind``."""
    if kind == WD_HEADER_FOOTER.FIRST_PAGE:
        return section.first_page_header
    if kind == WD_HEADER_FOOTER.EVEN_PAGE:
        return section.even_page_header
    return section.header


def remove_watermark(src: Path, dst: Path) -> None:
    """Write a copy of the .docx ``src`` to ``dst`` without the text boxes ``add_watermark`` added."""
    document = docx.Document(str(src))
    for part in document.part.package.iter_parts():
        if str(part.partname).startswith("/word/header"):
            for paragraph in part._element.xpath(f'.//w:p[.//wp:docPr[starts-with(@name, "{_SHAPE_NAME} ")]]'):
                paragraph.getparent().remove(paragraph)
    document.save(str(dst))
