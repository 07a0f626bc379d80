"""The logical structure (tags) of handlingar.pdf, merged from the structure of its parts.

pypdf copies pages but not the document's structure tree, and drops each page's
``/StructParents``. ``BundleStructure`` puts them back: every part's tree goes under one
``/Document`` element as a ``/Part`` titled with its bookmark, and the parent-tree numbers
of each part are shifted so they stay unique. A screen reader then reads the paper and
every bilaga in order, with their headings, lists, tables and links.

One heading scheme: PDF/UA-1 forbids the unnumbered ``/H`` (LibreOffice Impress writes one
per slide title) beside ``/H1``–``/H6`` (Writer's headings), and more than one ``/H`` in
an element. Every ``/H`` of a part, and every RoleMap entry to ``/H``, becomes ``/H1``.

This is only done when every part is tagged: in a tagged PDF, content outside the
structure tree is skipped by assistive technology, so one untagged bilaga in a document
that claims to be tagged would become unreadable to exactly the readers tags are for.
"""

from __future__ import annotations

from typing import cast

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)


def is_tagged(reader: PdfReader) -> bool:
    """Return True if the PDF has a structure tree and says it is tagged."""
    root = reader.root_object
    mark_info = root.get("/MarkInfo")
    return "/StructTreeRoot" in root and bool(mark_info and mark_info.get("/Marked"))


class BundleStructure:
    """The structure tree of a bundle being written, filled part by part."""

    def __init__(self, writer: PdfWriter):
        self.writer = writer
        self.root = DictionaryObject({NameObject("/Type"): NameObject("/StructTreeRoot")})
        self.root_ref = writer._add_object(self.root)
        self.document = _element("/Document", self.root_ref)
        self.document_ref = writer._add_object(self.document)
        self.parts = ArrayObject()
        self.nums = ArrayObject()
        self.role_map = DictionaryObject()
        self.class_map = DictionaryObject()
        self.next_key = 0

    def add_part(self, reader: PdfReader, first_page: int, title: str) -> None:
        """Add the structure of ``reader``, whose pages start at ``first_page`` in the bundle.

        Call after the part's pages were appended: its structure elements are cloned
        through pypdf's object map, so their page and annotation references land on the
        bundle's copies of those pages and annotations.
        """
        source = cast(DictionaryObject, reader.root_object["/StructTreeRoot"])  # pypdf says PdfObject
        part = _element("/Part", self.document_ref)
        part[NameObject("/T")] = TextStringObject(title)
        part_ref = self.writer._add_object(part)
        kids = ArrayObject()
        for kid in _top_elements(source):
            if not _is_element(kid):
                continue  # a stray marked-content number or null right under the root has no page to belong to
            clone = kid.clone(self.writer)
            element = cast(DictionaryObject, clone.get_object())  # a structure element is a dictionary
            element[NameObject("/P")] = part_ref
            if element.get("/S") == "/Document":
                element[NameObject("/S")] = NameObject("/Sect")  # one Document: the bundle's
            number_headings(element)
            kids.append(_reference(clone))
        part[NameObject("/K")] = kids
        self.parts.append(part_ref)

        offset, highest = self.next_key, -1
        for key, value in _number_tree(source.get("/ParentTree")):
            self.nums.extend([NumberObject(key + offset), value.clone(self.writer)])
            highest = max(highest, key)
        for index, page in enumerate(reader.pages):
            target = self.writer.pages[first_page + index]
            if "/StructParents" in page:
                target[NameObject("/StructParents")] = NumberObject(cast(int, page["/StructParents"]) + offset)
            for annot in target.get("/Annots") or []:
                annot = annot.get_object()
                if "/StructParent" in annot:
                    annot[NameObject("/StructParent")] = NumberObject(annot["/StructParent"] + offset)
        self.next_key = offset + highest + 1
        for key, value in (source.get("/RoleMap") or {}).items():
            if value == "/H":
                value = NameObject("/H1")
            if value != key:  # /H1 /H1 counts as a circular mapping (PDF/UA, PDF/A-2a)
                self.role_map[NameObject(key)] = value.clone(self.writer)
        for key, value in (source.get("/ClassMap") or {}).items():
            self.class_map[NameObject(key)] = value.clone(self.writer)

    def finish(self, language: str) -> None:
        """Attach the structure tree to the bundle and mark the bundle as tagged."""
        self.document[NameObject("/K")] = self.parts
        self.document[NameObject("/Lang")] = TextStringObject(language)
        self.root[NameObject("/K")] = ArrayObject([self.document_ref])
        self.root[NameObject("/ParentTree")] = self.writer._add_object(
            DictionaryObject({NameObject("/Nums"): self.nums})
        )
        self.root[NameObject("/ParentTreeNextKey")] = NumberObject(self.next_key)
        if self.role_map:
            self.root[NameObject("/RoleMap")] = self.role_map
        if self.class_map:
            self.root[NameObject("/ClassMap")] = self.class_map
        catalog = self.writer.root_object
        catalog[NameObject("/StructTreeRoot")] = self.root_ref
        catalog[NameObject("/MarkInfo")] = DictionaryObject({NameObject("/Marked"): BooleanObject(True)})
        for page in self.writer.pages:
            page[NameObject("/Tabs")] = NameObject("/S")  # tab through links in reading order


def number_headings(element: DictionaryObject) -> None:
    """Turn every unnumbered heading ``/H`` in ``element`` and below it into ``/H1``."""
    stack, seen = [element], set()
    while stack:
        node = stack.pop()
        if id(node) in seen or not isinstance(node, DictionaryObject):
            continue
        seen.add(id(node))
        if node.get("/S") == "/H":
            node[NameObject("/S")] = NameObject("/H1")
        kids = node.get("/K")
        kids = kids.get_object() if isinstance(kids, IndirectObject) else kids
        for kid in kids if isinstance(kids, ArrayObject) else [kids]:
            kid = kid.get_object() if isinstance(kid, IndirectObject) else kid
            if isinstance(kid, DictionaryObject) and "/S" in kid:
                stack.append(kid)


def _element(kind: str, parent: PdfObject) -> DictionaryObject:
    return DictionaryObject({
        NameObject("/Type"): NameObject("/StructElem"),
        NameObject("/S"): NameObject(kind),
        NameObject("/P"): parent,
    })


def _top_elements(struct_tree_root: DictionaryObject) -> list[PdfObject]:
    """Return the top elements of a part, looking through a single /Document wrapper."""
    kids = struct_tree_root.raw_get("/K") if "/K" in struct_tree_root else ArrayObject()
    kids = kids.get_object() if isinstance(kids, IndirectObject) else kids
    kids = list(kids) if isinstance(kids, ArrayObject) else [kids]
    if len(kids) == 1 and _is_element(kids[0]) and kids[0].get_object().get("/S") == "/Document":
        inner = kids[0].get_object()
        nested = inner.raw_get("/K") if "/K" in inner else ArrayObject()
        nested = nested.get_object() if isinstance(nested, IndirectObject) else nested
        nested = list(nested) if isinstance(nested, ArrayObject) else [nested] if nested is not None else []
        if all(_is_element(kid) for kid in nested):
            return nested
        # Marked content right under /Document (a bare MCID, an MCR): it needs the Document's
        # /Pg, so the Document stays whole, as a section of the part.
        return [kids[0]]
    return kids


def _is_element(kid: PdfObject | None) -> bool:
    """Return True if ``kid`` (a kid in a structure tree) is a structure element, not content or null."""
    if kid is None:
        return False
    obj = kid.get_object()
    return isinstance(obj, DictionaryObject) and "/S" in obj


def _number_tree(tree) -> list[tuple[int, PdfObject]]:
    """Return the (key, value) pairs of a PDF number tree, following /Kids."""
    if tree is None:
        return []
    tree = tree.get_object()
    pairs = []
    nums = tree.get("/Nums") or []
    for i in range(0, len(nums) - 1, 2):
        pairs.append((int(nums[i]), nums[i + 1]))
    for kid in tree.get("/Kids") or []:
        pairs += _number_tree(kid)
    return pairs


def _reference(obj: PdfObject) -> PdfObject:
    """Return an indirect reference to ``obj`` if it has one, else ``obj`` itself."""
    if isinstance(obj, IndirectObject):
        return obj
    return getattr(obj, "indirect_reference", None) or obj
