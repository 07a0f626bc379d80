"""Splitting a composed PDF: each letter's pages as a tagged PDF of its own.

``letter_pages`` finds where each letter starts (the named destinations the composed
.docx's bookmarks became); ``split_letters`` writes each letter's pages with the part of
the structure tree whose content is on them (ParentTree rebuilt, page and annotation keys
renumbered), its own bookmarks, and the catalog and XMP of the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf

from ..files import save_pdf
from .compose import MARK, CannotCompose


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
    struct = src.Root.StructTreeRoot
    copied, keys, key = _copy_structure(src, dst, kids, nums)
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
    save_pdf(dst, target)


def _copy_structure(src: pikepdf.Pdf, dst: pikepdf.Pdf, kids: list, nums: pikepdf.NumberTree):
    """Copy a Document element holding ``kids`` into ``dst``, whose pages are this part's.

    Return the copied element, the (key, parents) pairs of the new ParentTree and its next
    key: each page's /StructParents becomes its index, each annotation's /StructParent
    a key after the pages'.
    """
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
    return copied, keys, key


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
