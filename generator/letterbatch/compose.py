"""Composing a batch: the rendered letters of one template as one .docx, one section each.

``compose_letters`` takes the first letter's parts as the master, empties its body and
appends every letter's body as a section of its own (page numbers restart at 1). What a
letter brings along is renumbered so that it stays its own: hyperlinks get relationship
ids of their own, each list instance a ``w:num`` of its own, footnotes new ids and a
custom mark numbered 1, 2 … within the letter (LibreOffice 7.4 cannot restart footnote
numbers per section). The "Sida X (Y)" total becomes the page count of the letter
converted alone, and a bookmark (``MARK`` + index, a named destination in the PDF) marks
where each letter starts. Anything this cannot reproduce exactly raises ``CannotCompose``.
"""

from __future__ import annotations

import copy
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..wordxml import DC, RT_HYPERLINK, R, qn

MARK = "beslutbrev"
"""Prefix of the bookmark (a PDF named destination) that marks where a letter starts."""

_VARYING = frozenset({"word/document.xml", "word/_rels/document.xml.rels", "word/numbering.xml",
                      "word/footnotes.xml", "docProps/core.xml"})
"""The parts that may differ between letters of one batch; all others must be identical."""
_NUMPAGES = re.compile(rb'<w:fldSimple w:instr=" NUMPAGES ">(.*?)</w:fldSimple>', re.S)
_SECTION_AFTER_PAGE_NUMBERS = tuple(qn(f"w:{name}") for name in (
    "cols", "formProt", "vAlign", "noEndnote", "titlePg", "textDirection", "bidi", "rtlGutter", "docGrid",
    "printerSettings"))
"""The children of a w:sectPr that come after w:pgNumType in the schema."""


class CannotCompose(Exception):
    """The letters cannot be composed exactly (the caller converts them one by one)."""


@dataclass
class _Parts:
    """The parts of a letter that differ between letters, parsed (numbering and footnotes if it has them)."""

    document: etree._Element
    rels: etree._Element
    numbering: etree._Element | None
    footnotes: etree._Element | None


@dataclass
class _Master:
    """The composed document as it grows: the first letter's parts, its body emptied."""

    order: list[str]
    """The first letter's part names in zip order (the composed file keeps it)."""
    originals: dict[str, bytes]
    """The parts every letter must have byte for byte (all but ``_VARYING``)."""
    shared: dict[str, bytes]
    """The same, headers and footers with the NUMPAGES field replaced by the page count."""
    core: bytes
    parts: _Parts
    final_sect: etree._Element
    """The body's last w:sectPr, page numbers restarted; each letter's section is a copy."""
    section_xml: bytes
    """That w:sectPr as the letters have it: every letter must have the same page setup."""
    next_num: int = 0
    """The next free w:numId."""
    next_note: int = 0
    """The next free footnote id."""

    @property
    def body(self) -> etree._Element:
        return self.parts.document.find(qn("w:body"))


def compose_letters(letters: list[Path], target: Path, pages: int) -> None:
    """Write the letters (rendered .docx from one template) as one .docx of sections into ``target``.

    ``pages`` is the page count of each letter (from one converted alone): it replaces
    the NUMPAGES field, which would count the whole document. Raise ``CannotCompose``
    for anything this cannot reproduce exactly.
    """
    if not letters:
        raise CannotCompose("inga brev")
    master = _open_master(letters[0], pages)
    for index, letter in enumerate(letters):
        own, content = _read_letter(letter, master)
        _relink(content, own.rels, master.parts.rels, index)
        if own.numbering is not None:
            assert master.parts.numbering is not None  # the letters have the same parts
            _renumber_lists(content, own.numbering, master)
        _renumber_footnotes(content, own.footnotes, master)
        _mark_start(content, index)
        if index < len(letters) - 1:
            _close_section(content[-1], master.final_sect)
        body = master.body
        for el in content:
            body.insert(len(body) - 1, el)
    _write_composed(master, target)


def _read_parts(zf: zipfile.ZipFile, numbering: bool, footnotes: bool) -> _Parts:
    """Return the varying parts of the open letter ``zf``; numbering and footnotes only when asked."""
    return _Parts(etree.fromstring(zf.read("word/document.xml")),
                  etree.fromstring(zf.read("word/_rels/document.xml.rels")),
                  etree.fromstring(zf.read("word/numbering.xml")) if numbering else None,
                  etree.fromstring(zf.read("word/footnotes.xml")) if footnotes else None)


def _open_master(first: Path, pages: int) -> _Master:
    """Return the master of a batch from its ``first`` letter: shared parts checked, body emptied."""
    with zipfile.ZipFile(first) as zf:
        names = zf.namelist()
        shared = {name: zf.read(name) for name in names if name not in _VARYING}
        parts = _read_parts(zf, "word/numbering.xml" in names, "word/footnotes.xml" in names)
        core = zf.read("docProps/core.xml")
    originals = dict(shared)
    for name, data in shared.items():
        if name.startswith(("word/header", "word/footer")):
            data, _ = _NUMPAGES.subn(lambda m: _literal_run(m[1], pages), data)
            if b"NUMPAGES" in data or b"SECTIONPAGES" in data:
                raise CannotCompose(f"NUMPAGES som fältkod i {name}")
            shared[name] = data
    for name in shared:
        if name.startswith("word/media/"):
            raise CannotCompose("bilder")  # bodies with images would need their rels moved too
    body = parts.document.find(qn("w:body"))
    final_sect = body[-1]
    if final_sect.tag != qn("w:sectPr"):
        raise CannotCompose("inget sectPr")
    section_xml = etree.tostring(final_sect)
    _restart_pages(final_sect)
    for child in list(body)[:-1]:
        body.remove(child)
    for rel in list(parts.rels):
        if rel.get("Type") == RT_HYPERLINK:
            parts.rels.remove(rel)
    nums = [] if parts.numbering is None else parts.numbering.findall(qn("w:num"))
    notes = [] if parts.footnotes is None else parts.footnotes.findall(qn("w:footnote"))
    return _Master(order=names, originals=originals, shared=shared, core=core, parts=parts,
                   final_sect=final_sect, section_xml=section_xml,
                   next_num=max((int(n.get(qn("w:numId"))) for n in nums), default=0) + 1,
                   next_note=1 + max((int(f.get(qn("w:id"))) for f in notes), default=0))


def _read_letter(letter: Path, master: _Master) -> tuple[_Parts, list]:
    """Return the varying parts of ``letter`` and its body without the final w:sectPr.

    The letter must fit the master: the same parts, the shared ones byte for byte, the same
    properties but the title, the same page setup, and a body of paragraphs at both ends.
    """
    with zipfile.ZipFile(letter) as zf:
        if sorted(zf.namelist()) != sorted(master.order):
            raise CannotCompose("breven har olika delar")
        for name, data in master.originals.items():
            if zf.read(name) != data:
                raise CannotCompose(f"{name} skiljer sig mellan breven")
        if _without_title(zf.read("docProps/core.xml")) != _without_title(master.core):
            raise CannotCompose("dokumentegenskaperna skiljer sig")
        own = _read_parts(zf, master.parts.numbering is not None, master.parts.footnotes is not None)
    children = list(own.document.find(qn("w:body")))
    sect, content = children[-1], children[:-1]
    if sect.tag != qn("w:sectPr") or not content or content[-1].tag != qn("w:p"):
        raise CannotCompose("brevet slutar inte med ett stycke")
    if etree.tostring(sect) != master.section_xml:  # every letter gets the first one's page setup
        raise CannotCompose("breven har olika sidinställningar")
    if content[0].tag != qn("w:p"):  # LibreOffice adds a paragraph above a table that starts a .docx only
        raise CannotCompose("brevet börjar inte med ett stycke")
    return own, content


def _relink(content: list, own_rels, rels, index: int) -> None:
    """Give the hyperlinks of letter ``index`` relationship ids of their own in the master's ``rels``.

    Any other relationship in the body (an image, a chart) and any bookmark (the start marks
    are the only bookmarks of a batch) cannot be composed.
    """
    targets = {rel.get("Id"): rel for rel in own_rels if rel.get("Type") == RT_HYPERLINK}
    r_attribute = f"{{{R}}}"
    for el in content:
        for node in el.iter():
            if not isinstance(node.tag, str):
                continue
            for attr in node.attrib:
                if attr.startswith(r_attribute):
                    old = node.get(attr)
                    if old not in targets:
                        raise CannotCompose(f"relation {old} är ingen länk")
                    new = f"rIdB{index}x{old}"
                    rel = copy.deepcopy(targets[old])
                    rel.set("Id", new)
                    rels.append(rel)
                    node.set(attr, new)
            if node.tag in (qn("w:bookmarkStart"), qn("w:bookmarkEnd")) or node.get(qn("w:anchor")):
                raise CannotCompose("bokmärken i brevet")


def _renumber_lists(content: list, own_numbering, master: _Master) -> None:
    """Give each list instance of the letter a w:num of its own in the master's numbering."""
    numbering = master.parts.numbering
    assert numbering is not None
    own_nums = {n.get(qn("w:numId")): n for n in own_numbering.findall(qn("w:num"))}
    if [etree.tostring(a) for a in own_numbering.findall(qn("w:abstractNum"))] != \
            [etree.tostring(a) for a in numbering.findall(qn("w:abstractNum"))]:
        raise CannotCompose("numreringen skiljer sig")
    renum: dict[str, str] = {}
    for el in content:
        for node in el.iter(qn("w:numId")):
            old = node.get(qn("w:val"))
            if old == "0":
                continue
            if old not in own_nums:
                raise CannotCompose(f"numId {old} saknas")
            if old not in renum:
                renum[old] = str(master.next_num)
                num = copy.deepcopy(own_nums[old])
                num.set(qn("w:numId"), str(master.next_num))
                numbering.append(num)
                master.next_num += 1
            node.set(qn("w:val"), renum[old])


def _renumber_footnotes(content: list, own_notes, master: _Master) -> None:
    """Move the letter's footnotes into the master's part with new ids, marked 1, 2 … within the letter.

    The marks are custom (``w:customMarkFollows``), as LibreOffice numbers them in a letter alone.
    """
    if own_notes is None:
        if any(True for el in content for _ in el.iter(qn("w:footnoteReference"))):
            raise CannotCompose("fotnoter utan fotnotsdel")
        return
    footnotes = master.parts.footnotes
    assert footnotes is not None
    notes = {f.get(qn("w:id")): f for f in own_notes.findall(qn("w:footnote"))}
    refs = [ref for el in content for ref in el.iter(qn("w:footnoteReference"))]
    for number, ref in enumerate(refs, start=1):
        old = ref.get(qn("w:id"))
        if old not in notes or ref.getparent().tag != qn("w:r"):
            raise CannotCompose(f"fotnot {old} saknas")
        note = copy.deepcopy(notes[old])
        note.set(qn("w:id"), str(master.next_note))
        footnotes.append(note)
        ref.set(qn("w:id"), str(master.next_note))
        ref.set(qn("w:customMarkFollows"), "1")
        mark = etree.Element(qn("w:t"))
        mark.text = str(number)
        ref.addnext(mark)
        master.next_note += 1


def _mark_start(content: list, index: int) -> None:
    """Put the bookmark ``MARK`` + ``index`` at the start of the letter's first paragraph."""
    first_p = next((p for el in content for p in el.iter(qn("w:p"))), None)
    if first_p is None:
        raise CannotCompose("inget stycke")
    mark = etree.Element(qn("w:bookmarkStart"), {qn("w:id"): str(900000 + index), qn("w:name"): f"{MARK}{index}"})
    end = etree.Element(qn("w:bookmarkEnd"), {qn("w:id"): str(900000 + index)})
    ppr = first_p.find(qn("w:pPr"))
    at = 1 if ppr is not None else 0
    first_p.insert(at, end)
    first_p.insert(at, mark)


def _close_section(last, final_sect) -> None:
    """End the letter's section at its ``last`` paragraph: the next letter starts a new page at 1."""
    ppr = last.find(qn("w:pPr"))
    if ppr is None:
        ppr = etree.SubElement(last, qn("w:pPr"))
        last.insert(0, ppr)
    if ppr.find(qn("w:sectPr")) is not None:
        raise CannotCompose("avsnittsbrytning i brevet")
    _insert_in_ppr(ppr, copy.deepcopy(final_sect))


def _write_composed(master: _Master, target: Path) -> None:
    """Write the master's parts to ``target`` as a .docx, in the first letter's zip order."""
    out = {**master.shared,
           "word/document.xml": _xml(master.parts.document),
           "word/_rels/document.xml.rels": _xml(master.parts.rels),
           "docProps/core.xml": master.core}
    if master.parts.numbering is not None:
        out["word/numbering.xml"] = _xml(master.parts.numbering)
    if master.parts.footnotes is not None:
        out["word/footnotes.xml"] = _xml(master.parts.footnotes)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name in master.order:
            zf.writestr(name, out[name])


def _without_title(core: bytes) -> bytes:
    return re.sub(rb"<dc:title>.*?</dc:title>", b"", core, flags=re.S)


def letter_title(docx: Path) -> str | None:
    """Return the title in a .docx's properties (what LibreOffice makes the PDF's title)."""
    with zipfile.ZipFile(docx) as zf:
        found = etree.fromstring(zf.read("docProps/core.xml")).find(f"{{{DC}}}title")
    return found.text if found is not None else None


def _insert_in_ppr(ppr, section) -> None:
    """Put ``section`` where the schema wants it in a w:pPr: before rPr-change/pPrChange, after the rest."""
    for i, child in enumerate(ppr):
        if child.tag in (qn("w:pPrChange"),):
            ppr.insert(i, section)
            return
    ppr.append(section)


def _restart_pages(sect) -> None:
    """Make the section's page numbers start at 1 (a letter alone starts at 1 too)."""
    pg = sect.find(qn("w:pgNumType"))
    if pg is None:
        pg = etree.Element(qn("w:pgNumType"))
        # after pgSz/pgMar/paperSrc/pgBorders/lnNumType, before cols
        anchor = next((c for c in sect if c.tag in _SECTION_AFTER_PAGE_NUMBERS), None)
        if anchor is None:
            sect.append(pg)
        else:
            anchor.addprevious(pg)
    pg.set(qn("w:start"), "1")


def _literal_run(inner: bytes, pages: int) -> bytes:
    """Return a NUMPAGES field's result run(s) with the text ``pages``."""
    return re.sub(rb"<w:t>[^<]*</w:t>", f"<w:t>{pages}</w:t>".encode(), inner, count=1)


def _xml(element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", standalone=True)
