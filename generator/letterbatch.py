"""Many letters through LibreOffice at once: compose them into one .docx, convert once, split.

LibreOffice spends most of each 50-70 ms per document on per-document overhead, not on
layout; 100 letters composed into one document convert in about a quarter of the time.
So a batch of letters from one template is:

1. **composed** (``compose_letters``): the bodies of the rendered letters, one section
   each (page numbers restart at 1), hyperlinks, numbering and footnotes renumbered; the
   "Sida X (Y)" total is written as the page count of a letter converted alone, and a
   named destination marks where each letter starts;
2. **converted once** (``Converter.export_pdf``);
3. **split** (``split_letters``): each letter's pages become a PDF of their own, with the
   part of the structure tree whose content is on those pages (ParentTree rebuilt, page
   and annotation keys renumbered), its own bookmarks, the catalog and XMP of the whole.

Each part is then finished like a PDF converted alone (``pdfmeta.finish_pdf``,
``conformance.make_conformant``). Anything the composition cannot prove to be the same as
the letter alone (other parts than the template's, images, a letter that came out with a
different page count) falls back to converting that letter alone, so the output is never
different from the slow route's: same text, tags, bookmarks and conformance.
"""

from __future__ import annotations

import copy
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from lxml import etree

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
        # footnotes: renumbered, appended to the one footnotes part
        if own_notes is not None:
            notes = {f.get(_w("id")): f for f in own_notes.findall(_w("footnote"))}
            for el in content:
                for ref in el.iter(_w("footnoteReference")):
                    old = ref.get(_w("id"))
                    note = copy.deepcopy(notes[old])
                    note.set(_w("id"), str(next_note))
                    footnotes.append(note)
                    ref.set(_w("id"), str(next_note))
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
    from xml.sax.saxutils import unescape

    with zipfile.ZipFile(docx) as zf:
        found = re.search(rb"<dc:title>(.*?)</dc:title>", zf.read("docProps/core.xml"), re.S)
    return unescape(found[1].decode("utf-8")) if found else None


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
    pages = {page.objgen: i for i, page in enumerate(pdf.pages)}
    starts: dict[int, int] = {}
    dests = pdf.Root.get("/Names", {}).get("/Dests") if "/Names" in pdf.Root else None
    for name, dest in _name_tree(dests) if dests is not None else []:
        if name.startswith(MARK):
            dest = dest.get("/D", dest) if isinstance(dest, pikepdf.Dictionary) else dest
            starts[int(name[len(MARK):])] = pages[dest[0].objgen]
    for name, dest in (pdf.Root.get("/Dests") or {}).items():
        name = name.lstrip("/")
        if name.startswith(MARK):
            dest = dest.get("/D", dest) if isinstance(dest, pikepdf.Dictionary) else dest
            starts[int(name[len(MARK):])] = pages[dest[0].objgen]
    if sorted(starts) != list(range(letters)):
        raise CannotCompose("startmärkena saknas")
    firsts = [starts[i] for i in range(letters)] + [len(pdf.pages)]
    if firsts[0] != 0 or any(b <= a for a, b in zip(firsts, firsts[1:])):
        raise CannotCompose("startmärkena i fel ordning")
    return [LetterPages(i, firsts[i], firsts[i + 1] - firsts[i]) for i in range(letters)]


def _name_tree(node):
    """Yield (name, value) of a PDF name tree."""
    if "/Names" in node:
        items = list(node.Names)
        for i in range(0, len(items), 2):
            yield str(items[i]), items[i + 1]
    for kid in node.get("/Kids", []):
        yield from _name_tree(kid)


def split_letters(composed: Path, parts: list[tuple[LetterPages, Path]]) -> None:
    """Write each letter's pages of the tagged PDF ``composed`` as a tagged PDF of its own.

    Each part gets the structure elements whose content is on its pages (the composed
    tree's Document kids), a rebuilt ParentTree, its own bookmarks, and the composed
    catalog's language, viewer preferences, output intent and XMP. Raise
    ``CannotCompose`` if a structure element has content in two letters.
    """
    with pikepdf.open(composed) as src:
        struct = src.Root.StructTreeRoot
        top = struct.K
        document = top[0] if isinstance(top, pikepdf.Array) else top
        if len(top if isinstance(top, pikepdf.Array) else [top]) != 1 or document.get("/S") != "/Document":
            raise CannotCompose("strukturträdet har ingen Document-rot")
        page_index = {page.objgen: i for i, page in enumerate(src.pages)}
        owner = {}
        for p, _ in parts:
            for i in range(p.first, p.first + p.count):
                owner[i] = p.index
        kids = list(document.K) if isinstance(document.K, pikepdf.Array) else [document.K]
        per_part: dict[int, list] = {p.index: [] for p, _ in parts}
        current = parts[0][0].index
        for kid in kids:
            touched = {owner[page_index[pg]] for pg in _pages_of(kid) if pg in page_index}
            if len(touched) > 1:
                raise CannotCompose("ett strukturelement går över två brev")
            if touched:
                current = touched.pop()
            per_part[current].append(kid)
        outline = _outline_entries(src, page_index)
        nums = _parent_tree(struct)
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


def _parent_tree(struct) -> dict[int, object]:
    """Return the ParentTree as {key: value} (a number tree, flat or with kids)."""
    found = {}

    def walk(node):
        if "/Nums" in node:
            items = list(node.Nums)
            for i in range(0, len(items), 2):
                found[int(items[i])] = items[i + 1]
        for kid in node.get("/Kids", []):
            walk(kid)

    walk(struct.ParentTree)
    return found


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


def _write_part(src: pikepdf.Pdf, part: LetterPages, kids: list, outline, nums: dict, target: Path) -> None:
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
        for key, value in src.docinfo.items():
            dst.docinfo[key] = value
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
        for a, b in zip(made, made[1:]):
            a.Next, b.Prev = b, a
        if made:
            parent.First, parent.Last = made[0], made[-1]
        return visible

    root.Count = build(root, entries)
    dst.Root.Outlines = root


# --- the whole route ----------------------------------------------------------------------------

BATCH_OPTIONS = ("ExportBookmarksToPDFDestination=true",)
"""Export filter options of the composed document: Word bookmarks become named destinations."""


@dataclass
class BatchResult:
    """What ``convert_letters`` did: the letters that failed, how many were composed, and why not more."""

    failed: dict[Path, Exception]
    composed: int = 0
    reason: str | None = None
    """Why the composed route was not taken (or not for all letters), for benchmarks and tests."""


def convert_letters(converter, letters: list[tuple[Path, Path]], workdir: Path,
                    on_done=None) -> BatchResult:
    """Convert letters ((docx, pdf) pairs from one template) to PDF/A like ``Converter.to_pdf``, fast.

    The first letter is converted alone (it gives the page count); the others are
    composed, converted once and split. A letter that cannot be done so (it came out with
    another page count, or the batch cannot be composed exactly) is converted alone.
    ``on_done(docx)`` is called as each letter's PDF is written. The result lists the
    letters that failed, with their error (a ``ConversionError`` as ``to_pdf`` raises it).
    """
    from .convert import finish_converted

    failed: dict[Path, Exception] = {}
    result = BatchResult(failed)
    alone = list(letters[:1])
    rest = list(letters[1:])
    done = on_done or (lambda docx: None)

    def one(docx: Path, pdf: Path) -> int | None:
        try:
            converter.to_pdf(docx, pdf, pdfa=True)
        except Exception as e:  # noqa: BLE001 (handed to the caller per letter)
            failed[docx] = e
            return None
        done(docx)
        with pikepdf.open(pdf) as made:
            return len(made.pages)

    pages = None
    for docx, pdf in alone:
        pages = one(docx, pdf)
    if rest and pages is not None:
        work = Path(workdir)
        work.mkdir(parents=True, exist_ok=True)
        composed, made = work / "brev.docx", work / "brev.pdf"
        try:
            compose_letters([d for d, _ in rest], composed, pages)
            converter.export_pdf(composed, made, pdfa=True, options=BATCH_OPTIONS)
            with pikepdf.open(made) as pdf:
                found = letter_pages(pdf, len(rest))
            right = [(p, work / f"del-{p.index}.pdf") for p in found if p.count == pages]
            split_letters(made, right)
            for p, part in right:
                docx, pdf = rest[p.index]
                finish_converted(part, pdf, src=docx, conform=True, title=letter_title(docx))
                done(docx)
            finished = {p.index for p, _ in right}
            result.composed = len(finished)
            if len(finished) < len(rest):
                result.reason = f"{len(rest) - len(finished)} brev fick ett annat sidantal"
            rest = [pair for i, pair in enumerate(rest) if i not in finished]
        except Exception as e:  # noqa: BLE001: each letter is tried alone below, with its own error
            result.reason = f"{type(e).__name__}: {e}"
    for docx, pdf in rest:
        one(docx, pdf)
    return result
