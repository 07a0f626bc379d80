"""Many letters through LibreOffice at once: compose them into one .docx, convert once, split.

LibreOffice spends most of each 50-80 ms per document on per-document overhead, not on
layout; letters composed into one document convert in about a quarter of the time. So a
batch of letters from one template is:

1. **composed** (``compose_letters``): the bodies of the rendered letters, one section
   each (page numbers restart at 1); hyperlinks and numbering renumbered; footnotes
   numbered per letter (as custom marks, since LibreOffice 7.4 cannot restart footnote
   numbers per section); the "Sida X (Y)" total written as the page count of the letter
   converted alone; a named destination where each letter starts;
2. **converted once** (``Converter.export_pdf``);
3. **split** (``split_letters``): each letter's pages become a PDF of their own, with the
   part of the structure tree whose content is on those pages (ParentTree rebuilt, page
   and annotation keys renumbered), its own bookmarks, the catalog and XMP of the whole.

Each part is then finished like a PDF converted alone (``convert.finish_converted``).
The route proves itself on every run (``convert_letters``): the first letter is
converted alone as well, and its part of the composed PDF must have the same pages, text
at the same places, lines drawn, structure tree, bookmarks and metadata, or all the
letters are converted one by one. So is anything the composition cannot reproduce (other parts
than the template's, images, bookmarks, a table at the top of the body). Letters that
came out with another page count are composed again with theirs (a single one is
converted alone): the output is never different from the slow route's.
"""

from __future__ import annotations

import copy
import html
import re
import subprocess
import tempfile
import threading
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pikepdf
from lxml import etree

if TYPE_CHECKING:
    from .convert import PdfConverter

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
MARK = "beslutbrev"
"""Prefix of the bookmark (a PDF named destination) that marks where a letter starts."""

_VARYING = frozenset({"word/document.xml", "word/_rels/document.xml.rels", "word/numbering.xml",
                      "word/footnotes.xml", "docProps/core.xml"})
"""The parts that may differ between letters of one batch; all others must be identical."""
_NUMPAGES = re.compile(rb'<w:fldSimple w:instr=" NUMPAGES ">(.*?)</w:fldSimple>', re.S)


def _w(name: str) -> str:
    return f"{{{W}}}{name}"


class CannotCompose(Exception):
    """The letters cannot be composed exactly (the caller converts them one by one)."""


def compose_letters(letters: list[Path], target: Path, pages: int) -> None:
    """Write the letters (rendered .docx from one template) as one .docx of sections into ``target``.

    ``pages`` is the page count of each letter (from one converted alone): it replaces
    the NUMPAGES field, which would count the whole document. Raise ``CannotCompose``
    for anything this cannot reproduce exactly.
    """
    if not letters:
        raise CannotCompose("inga brev")
    with zipfile.ZipFile(letters[0]) as zf:
        shared = {name: zf.read(name) for name in zf.namelist() if name not in _VARYING}
        master_doc = etree.fromstring(zf.read("word/document.xml"))
        rels = etree.fromstring(zf.read("word/_rels/document.xml.rels"))
        numbering = etree.fromstring(zf.read("word/numbering.xml")) if "word/numbering.xml" in zf.namelist() else None
        footnotes = etree.fromstring(zf.read("word/footnotes.xml")) if "word/footnotes.xml" in zf.namelist() else None
        core = zf.read("docProps/core.xml")
    originals = dict(shared)
    names = sorted(_names(letters[0]))
    for name, data in shared.items():
        if name.startswith(("word/header", "word/footer")):
            data, found = _NUMPAGES.subn(lambda m: _literal_run(m[1], pages), data)
            if b"NUMPAGES" in data or b"SECTIONPAGES" in data:
                raise CannotCompose(f"NUMPAGES som fältkod i {name}")
            shared[name] = data
    for name in shared:
        if name.startswith("word/media/"):
            raise CannotCompose("bilder")  # bodies with images would need their rels moved too
    body = master_doc.find(_w("body"))
    final_sect = body[-1]
    if final_sect.tag != _w("sectPr"):
        raise CannotCompose("inget sectPr")
    section_xml = etree.tostring(final_sect)
    _restart_pages(final_sect)
    for child in list(body)[:-1]:
        body.remove(child)
    for rel in list(rels):
        if rel.get("Type") == HYPERLINK:
            rels.remove(rel)
    nums = {} if numbering is None else {n.get(_w("numId")): n for n in numbering.findall(_w("num"))}
    next_num = max((int(k) for k in nums), default=0) + 1
    next_note = 1 + max((int(f.get(_w("id"))) for f in footnotes.findall(_w("footnote"))), default=0) \
        if footnotes is not None else 1
    for index, letter in enumerate(letters):
        with zipfile.ZipFile(letter) as zf:
            if sorted(zf.namelist()) != names:
                raise CannotCompose("breven har olika delar")
            for name, data in originals.items():
                if zf.read(name) != data:
                    raise CannotCompose(f"{name} skiljer sig mellan breven")
            if _without_title(zf.read("docProps/core.xml")) != _without_title(core):
                raise CannotCompose("dokumentegenskaperna skiljer sig")
            doc = etree.fromstring(zf.read("word/document.xml"))
            own_rels = etree.fromstring(zf.read("word/_rels/document.xml.rels"))
            own_numbering = etree.fromstring(zf.read("word/numbering.xml")) if numbering is not None else None
            own_notes = etree.fromstring(zf.read("word/footnotes.xml")) if footnotes is not None else None
        children = list(doc.find(_w("body")))
        sect, content = children[-1], children[:-1]
        if sect.tag != _w("sectPr") or not content or content[-1].tag != _w("p"):
            raise CannotCompose("brevet slutar inte med ett stycke")
        if etree.tostring(sect) != section_xml:  # every letter gets the first one's page setup
            raise CannotCompose("breven har olika sidinställningar")
        if content[0].tag != _w("p"):  # LibreOffice adds a paragraph above a table that starts a .docx only
            raise CannotCompose("brevet börjar inte med ett stycke")
        # hyperlinks: a new relationship id per letter
        targets = {rel.get("Id"): rel for rel in own_rels if rel.get("Type") == HYPERLINK}
        for el in content:
            for node in el.iter():
                if not isinstance(node.tag, str):
                    continue
                for attr in node.attrib:
                    if attr.startswith(f"{{{R}}}"):
                        old = node.get(attr)
                        if old not in targets:
                            raise CannotCompose(f"relation {old} är ingen länk")
                        new = f"rIdB{index}x{old}"
                        rel = copy.deepcopy(targets[old])
                        rel.set("Id", new)
                        rels.append(rel)
                        node.set(attr, new)
                if node.tag in (_w("bookmarkStart"), _w("bookmarkEnd")) or node.get(_w("anchor")):
                    raise CannotCompose("bokmärken i brevet")
        # numbering: each list instance of the letter gets an instance of its own
        if own_numbering is not None:
            assert numbering is not None  # the letters have the same parts
            own_nums = {n.get(_w("numId")): n for n in own_numbering.findall(_w("num"))}
            if [etree.tostring(a) for a in own_numbering.findall(_w("abstractNum"))] != \
                    [etree.tostring(a) for a in numbering.findall(_w("abstractNum"))]:
                raise CannotCompose("numreringen skiljer sig")
            renum: dict[str, str] = {}
            for el in content:
                for node in el.iter(_w("numId")):
                    old = node.get(_w("val"))
                    if old == "0":
                        continue
                    if old not in own_nums:
                        raise CannotCompose(f"numId {old} saknas")
                    if old not in renum:
                        renum[old] = str(next_num)
                        num = copy.deepcopy(own_nums[old])
                        num.set(_w("numId"), str(next_num))
                        numbering.append(num)
                        next_num += 1
                    node.set(_w("val"), renum[old])
        # footnotes: new ids in the one footnotes part; numbered 1, 2 ... in each letter by a
        # custom mark, as LibreOffice numbers them in a letter alone
        if own_notes is not None:
            assert footnotes is not None
            notes = {f.get(_w("id")): f for f in own_notes.findall(_w("footnote"))}
            refs = [ref for el in content for ref in el.iter(_w("footnoteReference"))]
            for number, ref in enumerate(refs, start=1):
                old = ref.get(_w("id"))
                if old not in notes or ref.getparent().tag != _w("r"):
                    raise CannotCompose(f"fotnot {old} saknas")
                note = copy.deepcopy(notes[old])
                note.set(_w("id"), str(next_note))
                footnotes.append(note)
                ref.set(_w("id"), str(next_note))
                ref.set(_w("customMarkFollows"), "1")
                mark = etree.Element(_w("t"))
                mark.text = str(number)
                ref.addnext(mark)
                next_note += 1
        elif any(True for el in content for _ in el.iter(_w("footnoteReference"))):
            raise CannotCompose("fotnoter utan fotnotsdel")
        first_p = next((p for el in content for p in el.iter(_w("p"))), None)
        if first_p is None:
            raise CannotCompose("inget stycke")
        mark = etree.Element(_w("bookmarkStart"), {_w("id"): str(900000 + index), _w("name"): f"{MARK}{index}"})
        end = etree.Element(_w("bookmarkEnd"), {_w("id"): str(900000 + index)})
        ppr = first_p.find(_w("pPr"))
        at = 1 if ppr is not None else 0
        first_p.insert(at, end)
        first_p.insert(at, mark)
        if index < len(letters) - 1:
            # the letter's last paragraph closes its section; the next letter starts a new page at 1
            last = content[-1]
            ppr = last.find(_w("pPr"))
            if ppr is None:
                ppr = etree.SubElement(last, _w("pPr"))
                last.insert(0, ppr)
            if ppr.find(_w("sectPr")) is not None:
                raise CannotCompose("avsnittsbrytning i brevet")
            section = copy.deepcopy(final_sect)
            _insert_in_ppr(ppr, section)
        for el in content:
            body.insert(len(body) - 1, el)
    out = {**shared,
           "word/document.xml": _xml(master_doc),
           "word/_rels/document.xml.rels": _xml(rels),
           "docProps/core.xml": core}
    if numbering is not None:
        out["word/numbering.xml"] = _xml(numbering)
    if footnotes is not None:
        out["word/footnotes.xml"] = _xml(footnotes)
    with zipfile.ZipFile(letters[0]) as zf:
        order = zf.namelist()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name in order:
            zf.writestr(name, out[name])


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def _without_title(core: bytes) -> bytes:
    return re.sub(rb"<dc:title>.*?</dc:title>", b"", core, flags=re.S)


def letter_title(docx: Path) -> str | None:
    """Return the title in a .docx's properties (what LibreOffice makes the PDF's title)."""
    with zipfile.ZipFile(docx) as zf:
        found = etree.fromstring(zf.read("docProps/core.xml")).find("{http://purl.org/dc/elements/1.1/}title")
    return found.text if found is not None else None


def _insert_in_ppr(ppr, section) -> None:
    """Put ``section`` where the schema wants it in a w:pPr: before rPr-change/pPrChange, after the rest."""
    for i, child in enumerate(ppr):
        if child.tag in (_w("pPrChange"),):
            ppr.insert(i, section)
            return
    ppr.append(section)


def _restart_pages(sect) -> None:
    """Make the section's page numbers start at 1 (a letter alone starts at 1 too)."""
    pg = sect.find(_w("pgNumType"))
    if pg is None:
        pg = etree.Element(_w("pgNumType"))
        # after pgSz/pgMar/paperSrc/pgBorders/lnNumType, before cols
        anchor = next((c for c in sect if c.tag in (_w("cols"), _w("formProt"), _w("vAlign"), _w("noEndnote"),
                                                    _w("titlePg"), _w("textDirection"), _w("bidi"),
                                                    _w("rtlGutter"), _w("docGrid"), _w("printerSettings"))),
                      None)
        if anchor is None:
            sect.append(pg)
        else:
            anchor.addprevious(pg)
    pg.set(_w("start"), "1")


def _literal_run(inner: bytes, pages: int) -> bytes:
    """Return a NUMPAGES field's result run(s) with the text ``pages``."""
    return re.sub(rb"<w:t>[^<]*</w:t>", f"<w:t>{pages}</w:t>".encode(), inner, count=1)


def _xml(element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", standalone=True)


# --- splitting the PDF ------------------------------------------------------------------------


@dataclass
class LetterPages:
    """Where one letter is in the composed PDF: its first page and page count."""

    index: int
    first: int
    count: int


def letter_pages(pdf: pikepdf.Pdf, letters: int) -> list[LetterPages]:
    """Return each letter's pages in the composed ``pdf``, from its start marks (named destinations)."""
    pages: dict[Any, int] = {page.objgen: i for i, page in enumerate(pdf.pages)}
    starts: dict[int, int] = {}
    named = []  # a name tree (PDF 1.2) or the older /Dests dictionary
    if "/Names" in pdf.Root and "/Dests" in pdf.Root.Names:
        named += list(pikepdf.NameTree(pdf.Root.Names.Dests).items())
    named += [(str(name).lstrip("/"), dest) for name, dest in (pdf.Root.get("/Dests") or {}).items()]
    for name, dest in named:
        if name.startswith(MARK):
            dest = dest.get("/D", dest) if isinstance(dest, pikepdf.Dictionary) else dest
            starts[int(name[len(MARK):])] = pages[dest[0].objgen]
    if sorted(starts) != list(range(letters)):
        raise CannotCompose("startmärkena saknas")
    firsts = [starts[i] for i in range(letters)] + [len(pdf.pages)]
    if firsts[0] != 0 or any(b <= a for a, b in zip(firsts, firsts[1:], strict=False)):
        raise CannotCompose("startmärkena i fel ordning")
    return [LetterPages(i, firsts[i], firsts[i + 1] - firsts[i]) for i in range(letters)]


def split_letters(composed: Path, parts: list[tuple[LetterPages, Path]]) -> None:
    """Write each letter's pages of the tagged PDF ``composed`` as a tagged PDF of its own.

    Each part gets the structure elements whose content is on its pages (the composed
    tree's Document kids), a rebuilt ParentTree, its own bookmarks, and the composed
    catalog's language, viewer preferences, output intent and XMP. The pages of letters
    not in ``parts`` are left out. Raise ``CannotCompose`` if a structure element has
    content in two letters.
    """
    with pikepdf.open(composed) as src:
        struct = src.Root.StructTreeRoot
        top = struct.K
        document = top[0] if isinstance(top, pikepdf.Array) else top
        if len(top if isinstance(top, pikepdf.Array) else [top]) != 1 or document.get("/S") != "/Document":
            raise CannotCompose("strukturträdet har ingen Document-rot")
        page_index = {page.objgen: i for i, page in enumerate(src.pages)}
        owner = {}  # page -> the letter written from it; other letters' pages are left out
        for p, _ in parts:
            for i in range(p.first, p.first + p.count):
                owner[i] = p.index
        kids = list(document.K) if isinstance(document.K, pikepdf.Array) else [document.K]
        per_part: dict[int, list] = {p.index: [] for p, _ in parts}
        per_part[-1] = []
        current = parts[0][0].index
        for kid in kids:
            touched = {owner.get(page_index[pg], -1) for pg in _pages_of(kid) if pg in page_index}
            if len(touched) > 1:
                raise CannotCompose("ett strukturelement går över två brev")
            if touched:
                current = touched.pop()
            per_part[current].append(kid)
        outline = _outline_entries(src, page_index)
        nums = pikepdf.NumberTree(struct.ParentTree)
        for p, target in parts:
            _write_part(src, p, per_part[p.index], outline, nums, target)


def _pages_of(element):
    """Yield the objgen of every page ``element`` or its descendants have content on."""
    stack = [element]
    while stack:
        node = stack.pop()
        if not isinstance(node, pikepdf.Dictionary):
            continue
        if "/Pg" in node:
            yield node.Pg.objgen
        kids = node.get("/K")
        if isinstance(kids, pikepdf.Array):
            stack.extend(kids)
        elif isinstance(kids, pikepdf.Dictionary):
            stack.append(kids)


def _outline_entries(pdf: pikepdf.Pdf, page_index: dict) -> list[tuple[int, dict, list]]:
    """Return the outline as (page, item dict, children) trees, page from each item's destination."""

    def entries(first):
        out, node = [], first
        while node is not None:
            dest = node.get("/Dest")
            if dest is None and "/A" in node and node.A.get("/S") == "/GoTo":
                dest = node.A.D
            page = page_index.get(dest[0].objgen) if isinstance(dest, pikepdf.Array) else None
            out.append((page, node, entries(node.get("/First"))))
            node = node.get("/Next")
        return out

    root = pdf.Root.get("/Outlines")
    return entries(root.get("/First")) if root is not None else []


def _write_part(src: pikepdf.Pdf, part: LetterPages, kids: list, outline, nums: pikepdf.NumberTree,
                target: Path) -> None:
    """Write one letter of ``src`` to ``target`` (see ``split_letters``)."""
    dst = pikepdf.new()
    first, last = part.first, part.first + part.count
    for i in range(first, last):
        dst.pages.append(src.pages[i])
    # A Document element of this part only, so that copying it pulls in nothing of the others.
    struct = src.Root.StructTreeRoot
    document = struct.K[0] if isinstance(struct.K, pikepdf.Array) else struct.K
    own = src.make_indirect(pikepdf.Dictionary({k: v for k, v in document.items() if k not in ("/K", "/P")}))
    own.K = pikepdf.Array(kids)
    parents = [(kid, kid.get("/P")) for kid in kids]
    for kid in kids:
        kid.P = own
    try:
        copied = dst.copy_foreign(own)
        keys = []
        for n, page in enumerate(dst.pages):
            old = page.obj.get("/StructParents")
            if old is not None:
                keys.append((n, _copy(src, dst, nums[int(old)])))
                page.obj.StructParents = n
        key = len(dst.pages)
        for page in dst.pages:
            for annot in page.obj.get("/Annots") or []:
                old = annot.get("/StructParent")
                if old is not None:
                    keys.append((key, _copy(src, dst, nums[int(old)])))
                    annot.StructParent = key
                    key += 1
    finally:
        for kid, parent in parents:
            if parent is None:
                del kid["/P"]
            else:
                kid.P = parent
    tree = pikepdf.Dictionary(Type=pikepdf.Name.StructTreeRoot, K=pikepdf.Array([copied]),
                              ParentTree=dst.make_indirect(pikepdf.Dictionary(
                                  Nums=pikepdf.Array([x for k, v in keys for x in (k, v)]))),
                              ParentTreeNextKey=key)
    if "/RoleMap" in struct:
        tree.RoleMap = _copy(src, dst, struct.RoleMap)
    copied_tree = dst.make_indirect(tree)
    copied.P = copied_tree
    dst.Root.StructTreeRoot = copied_tree
    for name in ("/Lang", "/MarkInfo", "/ViewerPreferences", "/OutputIntents", "/Metadata", "/PageMode"):
        if name in src.Root:
            dst.Root[name] = _copy(src, dst, src.Root[name])
    dst.Root.OpenAction = pikepdf.Array([dst.pages[0].obj, pikepdf.Name.XYZ, None, None, 0])
    if src.trailer.get("/Info") is not None:
        for name, value in src.docinfo.items():
            dst.docinfo[name] = value
    mine = [e for e in outline if e[0] is not None and first <= e[0] < last]
    if mine:
        _write_outline(dst, mine, first)
    dst.save(target)


def _copy(src: pikepdf.Pdf, dst: pikepdf.Pdf, obj):
    """Return ``obj`` of ``src`` as an object of ``dst`` (copied with what it refers to)."""
    if not isinstance(obj, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)):
        return obj  # a name, string or number
    return dst.copy_foreign(obj if obj.is_indirect else src.make_indirect(obj))


def _write_outline(dst: pikepdf.Pdf, entries, first: int) -> None:
    """Copy outline ``entries`` (from ``_outline_entries``) into ``dst``, pages shifted by ``first``."""
    root = dst.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines))

    def build(parent, items) -> int:
        made = []
        visible = 0
        for page, node, children in items:
            item = dst.make_indirect(pikepdf.Dictionary(Title=node.Title, Parent=parent))
            dest = node.get("/Dest")
            if dest is None:
                dest = node.A.D
            item.Dest = pikepdf.Array([dst.pages[page - first].obj, *list(dest)[1:]])
            opened = build(item, [c for c in children if c[0] is not None])
            if "/Count" in node:
                item.Count = int(node.Count) if int(node.Count) >= 0 else -opened if opened else 0
                if int(node.Count) >= 0:
                    item.Count = opened
            made.append(item)
            visible += 1 + (opened if int(node.get("/Count", 0)) > 0 else 0)
        for a, b in zip(made, made[1:], strict=False):
            a.Next, b.Prev = b, a
        if made:
            parent.First, parent.Last = made[0], made[-1]
        return visible

    root.Count = build(root, entries)
    dst.Root.Outlines = root


# --- the proof: a part is the same as the letter converted alone ---------------------------


def difference(alone: Path, part: Path) -> str | None:
    """Return how the finished PDFs ``alone`` and ``part`` differ for a reader, or None.

    Compared: the pages (size, and the text shown at each place to 0.1 pt), the structure
    tree (types, alt texts, which marked content on which page), the bookmarks, the
    language and the metadata (XMP and document info, PDF/A and PDF/UA claims included).
    Not compared: object numbers, font subset names and the /ID, which differ by nature.
    """
    with pikepdf.open(alone) as a, pikepdf.open(part) as b:
        if len(a.pages) != len(b.pages):
            return f"{len(a.pages)} mot {len(b.pages)} sidor"
        checks = (("sidorna", _page_boxes), ("text och placering", _placed_text), ("linjer och ytor", _drawing),
                  ("taggarna", _tags), ("bokmärkena", _outline), ("metadata", _metadata))
        for what, describe in checks:
            if describe(a, alone) != describe(b, part):
                return what
    return None


def _page_boxes(pdf: pikepdf.Pdf, path: Path) -> list:
    return [[float(x) for x in page.mediabox] for page in pdf.pages]


def _placed_text(pdf: pikepdf.Pdf, path: Path) -> list:
    """Return each page's lines of text with where they start (poppler's ``pdftotext -bbox-layout``)."""
    with tempfile.TemporaryDirectory(dir=path.parent) as work:
        copy = Path(work) / "text.pdf"
        with pikepdf.open(path) as plain:  # without the ICC profile poppler reads 10x faster
            if "/OutputIntents" in plain.Root:
                del plain.Root["/OutputIntents"]
            plain.save(copy)
        layout = subprocess.run(["pdftotext", "-bbox-layout", str(copy), "-"], capture_output=True,
                                check=True, timeout=60).stdout.decode("utf-8")
    pages = []
    for page in layout.split("<page ")[1:]:
        lines = []
        for line in _LINE.finditer(page):
            words = " ".join(html.unescape(w) for w in _WORD.findall(line[3]))
            lines.append((round(float(line[1]), 1), round(float(line[2]), 1), words))
        pages.append(lines)
    return pages


_LINE = re.compile(r'<line xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>(.*?)</line>', re.S)
_WORD = re.compile(r"<word [^>]*>(.*?)</word>", re.S)


_PATHS = frozenset({"m", "l", "c", "v", "y", "h", "re", "S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "n"})
"""Content-stream operators that draw lines and areas, e.g. the footnote separator."""


def _drawing(pdf: pikepdf.Pdf, path: Path) -> list:
    pages = []
    for page in pdf.pages:
        drawn = []
        for item in pikepdf.parse_content_stream(page):
            operator = getattr(item, "operator", None)  # an inline image has none
            if str(operator) in _PATHS:
                operands: list[Any] = list(item.operands)  # numbers come as int or Decimal
                numbers = [round(float(x), 2) for x in operands if isinstance(x, (int, float, Decimal))]
                drawn.append((str(operator), numbers))
        pages.append(drawn)
    return pages


def _tags(pdf: pikepdf.Pdf, path: Path) -> list:
    pages: dict[Any, int] = {page.objgen: i for i, page in enumerate(pdf.pages)}
    found: list = []

    def walk(node, depth: int, page) -> None:
        if isinstance(node, pikepdf.Array):
            for kid in node:
                walk(kid, depth, page)
            return
        if not isinstance(node, pikepdf.Dictionary):
            found.append((depth, "mcid", pages.get(page), int(node)))
            return
        if "/MCID" in node or "/Obj" in node:
            found.append((depth, str(node.get("/Type")), pages.get(node.get("/Pg", page).objgen
                                                                  if "/Pg" in node else page), node.get("/MCID")))
            return
        here = node.Pg.objgen if "/Pg" in node else page
        found.append((depth, str(node.get("/S")), str(node.get("/Alt", "")), str(node.get("/ActualText", "")),
                      str(node.get("/Lang", ""))))
        if "/K" in node:
            walk(node.K, depth + 1, here)

    walk(pdf.Root.StructTreeRoot.K, 0, None)
    return found


def _outline(pdf: pikepdf.Pdf, path: Path) -> list:
    pages: dict[Any, int] = {page.objgen: i for i, page in enumerate(pdf.pages)}
    with pdf.open_outline() as outline:
        def walk(items, depth):
            for item in items:
                dest = item.destination
                page = pages.get(dest[0].objgen) if isinstance(dest, pikepdf.Array) else None
                rest = [str(x) for x in list(dest)[1:]] if isinstance(dest, pikepdf.Array) else None
                yield depth, str(item.title), page, rest
                yield from walk(item.children, depth + 1)

        return list(walk(outline.root, 0))


def _metadata(pdf: pikepdf.Pdf, path: Path) -> list:
    xmp = bytes(pdf.Root.Metadata.read_bytes()) if "/Metadata" in pdf.Root else b""
    info = {str(k): str(v) for k, v in pdf.docinfo.items()} if "/Info" in pdf.trailer else {}
    return [xmp, info, str(pdf.Root.get("/Lang", "")), str(pdf.Root.get("/ViewerPreferences", ""))]


# --- the whole route ----------------------------------------------------------------------------

BATCH_LETTERS = 40
"""Letters composed into one document: LibreOffice's memory and time stay those of a 120-page document."""

BATCH_OPTIONS = ("ExportBookmarksToPDFDestination=true",)
"""Export filter options of the composed document: Word bookmarks become named destinations."""


@dataclass
class BatchResult:
    """What ``convert_letters`` did: the letters that failed, how many were composed, and why not more."""

    failed: dict[Path, Exception]
    composed: int = 0
    reason: str | None = None
    """Why the composed route was not taken (or not for all letters), for benchmarks and tests."""


def convert_letters(converter: PdfConverter, letters: list[tuple[Path, Path]], workdir: Path,
                    on_done: Callable[[Path], None] | None = None, batch: int | None = None) -> BatchResult:
    """Convert letters ((docx, pdf) pairs from one template) to PDF/A, as ``Converter.to_pdf`` would, fast.

    The first letter is converted alone: it gives the page count and the proof (see the
    module docstring). Then the letters are composed ``batch`` at a time (by default a
    quarter of them, 8 to ``BATCH_LETTERS``), each batch converted once and split. Letters
    that come out longer or shorter than the first are composed again, with their own page
    count; a letter the composed route cannot do exactly is converted alone. ``on_done(docx)`` is called as
    each letter's PDF is written (from another thread while the next batch converts). The
    result lists the letters that failed, with their error (a ``ConversionError`` as
    ``to_pdf`` raises it).
    """
    from .convert import finish_converted

    result = BatchResult({})
    batch = batch or min(BATCH_LETTERS, max(8, -(-len(letters) // 4)))
    done = on_done or (lambda docx: None)
    finished: set[int] = set()

    def alone(index: int) -> bool:
        docx, pdf = letters[index]
        try:
            converter.to_pdf(docx, pdf, pdfa=True)
        except Exception as e:  # noqa: BLE001 (handed to the caller per letter)
            result.failed[docx] = e
            return False
        finished.add(index)
        done(docx)
        return True

    if alone(0) and len(letters) > 1:
        work = Path(workdir)
        work.mkdir(parents=True, exist_ok=True)
        proven = threading.Event()

        def prepare(group: list[int], pages: int) -> tuple[list[tuple[int, Path]], dict[int, int]]:
            """Compose, convert and split the letters ``group`` of ``pages`` pages each.

            Return the (letter, part) pairs that came out with ``pages`` pages, and the page
            count of each letter that did not (its "Sida X (Y)" said ``pages``).
            """
            composed, made_pdf = work / f"brev-{group[0]}.docx", work / f"brev-{group[0]}.pdf"
            compose_letters([letters[i][0] for i in group], composed, pages)
            converter.export_pdf(composed, made_pdf, options=BATCH_OPTIONS)
            with pikepdf.open(made_pdf) as composed_pdf:
                found = letter_pages(composed_pdf, len(group))
            right = [(p, work / f"del-{group[p.index]}.pdf") for p in found if p.count == pages]
            split_letters(made_pdf, right)
            composed.unlink()
            made_pdf.unlink()
            return [(group[p.index], part) for p, part in right], \
                {group[p.index]: p.count for p in found if p.count != pages}

        def finish(parts: list[tuple[int, Path]]) -> None:
            """Finish each part like a letter converted alone; the first letter's part is the proof."""
            for index, part in parts:
                docx, pdf = letters[index]
                if index == 0:
                    proof = work / "prov.pdf"
                    finish_converted(part, proof, src=docx, conform=True, title=letter_title(docx))
                    if (found_difference := difference(pdf, proof)) is not None:
                        raise CannotCompose(f"första brevet blev inte detsamma som ensamt: {found_difference}")
                    proven.set()
                elif not proven.is_set():
                    raise CannotCompose("första brevet fick ett annat sidantal")
                else:
                    finish_converted(part, pdf, src=docx, conform=True, title=letter_title(docx))
                    finished.add(index)
                    result.composed += 1
                    done(docx)
                part.unlink()

        def run(batches: list[tuple[list[int], int]]) -> dict[int, int]:
            """Prepare and finish ``batches`` of (letters, page count); return the other page counts seen.

            LibreOffice converts the next batch (in this thread, which owns the converter)
            while the parts of the last one are finished in another.
            """
            others: dict[int, int] = {}
            with ThreadPoolExecutor(max_workers=1) as behind:
                finishing = None
                for group, pages in batches:
                    parts, other = prepare(group, pages)
                    others.update(other)
                    if finishing is not None:
                        finishing.result()
                    finishing = behind.submit(finish, parts)
                if finishing is not None:
                    finishing.result()
            return others

        def batches_of(indices: list[int], pages: int) -> list[tuple[list[int], int]]:
            return [(indices[i:i + batch], pages) for i in range(0, len(indices), batch)]

        try:
            with pikepdf.open(letters[0][1]) as made:
                pages = len(made.pages)
            others = run(batches_of(list(range(len(letters))), pages))
            # Letters of another length, composed again with their own page count.
            by_count: dict[int, list[int]] = {}
            for index, count in sorted(others.items()):
                by_count.setdefault(count, []).append(index)
            run([b for count, indices in by_count.items() if len(indices) > 1 for b in batches_of(indices, count)])
            if len(finished) < len(letters):
                result.reason = f"{len(letters) - len(finished)} brev fick ett annat sidantal"
        except Exception as e:  # noqa: BLE001 -- each letter left is converted alone below, with its own error
            result.reason = f"{type(e).__name__}: {e}"
    for index in range(len(letters)):
        if index not in finished and letters[index][0] not in result.failed:
            alone(index)
    return result
