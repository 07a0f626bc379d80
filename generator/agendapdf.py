"""sammantradeshandlingar.pdf put together: one PDF from its parts, with pikepdf.

``assemble`` copies each part's pages and structure tree (one ``Document``, a ``Part`` per
part), writes the bookmarks (point → paper → Bilaga N), the page labels, the
innehållsförteckning's links to each point's first page and the "Punkt N · sida X av Y"
stamp on every page (``Stamper``), then claims PDF/UA-1 only when the validator passes the
result. The parts and their pages are planned in ``agendaparts``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from . import __version__
from .agendaparts import Part, inner_labels, page_labels
from .conformance import claim_pdfua
from .kallelsedocx import TOC_LINK
from .pagegeometry import A4, STAMP_MARGIN, STAMP_PADDING, STAMP_SIZE
from .stampfont import register_stamp_font, without_null_mappings


@dataclass
class Package:
    """What ``assemble`` made: whether it claims PDF/UA-1 and why not."""

    pdfua: bool
    failures: list[tuple[str, str]]
    tagged: bool
    warnings: list[str] = field(default_factory=list)



def assemble(parts: list[Part], target: Path, *, title: str, language: str = "sv-SE") -> Package:
    """Write the parts into one PDF with pikepdf: pages, structure, outline, labels, stamps, links.

    qpdf copies each part's pages and structure elements as foreign objects and reads stream
    data only when the file is written, so memory grows with the objects, not the content.
    Each part keeps its own bookmarks under its point's; every page gets a "Punkt N · sida X av Y"
    stamp beside the "Bilaga N" stamp it may have. PDF/UA-1 is claimed only when the validator
    passes the result (``conformance.claim_pdfua``).
    """
    untagged = write_assembled(parts, target, title=title, language=language)
    tagged = not untagged
    release_memory()  # qpdf's objects are freed; give the pages back before the validator reads the file
    failures = claim_pdfua(target, title=title) if tagged else [("untagged", "delar saknar taggar")]
    release_memory()
    warnings = []
    if not tagged:
        warnings.append(f"{target.name} blir inte taggad, eftersom någon del saknar taggar ({'; '.join(untagged)}).")
    return Package(pdfua=tagged and not failures, failures=failures, tagged=tagged, warnings=warnings)


def write_assembled(parts: list[Part], target: Path, *, title: str, language: str) -> list[str]:
    """Write the assembled PDF (``assemble``); return the titles of the parts without tags.

    Every pikepdf object lives in this function, so all of qpdf's memory is free on return.
    """
    with ExitStack() as stack:
        out = stack.enter_context(pikepdf.new())
        sources: dict[int, pikepdf.Pdf] = {}
        for index, part in enumerate(parts):
            assert part.pdf is not None
            sources[index] = stack.enter_context(pikepdf.open(part.pdf))
        untagged = [part.title for i, part in enumerate(parts) if "/StructTreeRoot" not in sources[i].Root]
        tagged = not untagged
        structure = _Structure(out) if tagged else None
        for index, part in enumerate(parts):
            src = sources[index]
            part.first = len(out.pages)
            out.pages.extend(src.pages)
            part.pages = len(src.pages)
            if structure is not None:
                structure.add(src, part.first, part.pages, part.title)
        if structure is not None:
            structure.finish(language)
        else:
            for page in out.pages:
                if "/StructParents" in page.obj:
                    del page.obj["/StructParents"]
        _write_outline(out, parts, sources)
        _write_page_labels(out, page_labels(parts, sources))
        _link_toc(out, parts)
        Stamper(out, parts, sources).stamp_all()
        out.Root.Lang = String(language)
        out.Root.MarkInfo = Dictionary(Marked=tagged)
        out.Root.PageMode = Name.UseOutlines
        out.docinfo[Name.Title] = title
        out.docinfo[Name.Producer] = f"beslut {__version__}"
        with atomic_target(target) as tmp:
            out.save(tmp, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                     compress_streams=True)
    return untagged


def release_memory() -> None:
    """Return freed heap memory to the system (glibc's ``malloc_trim``; nothing elsewhere).

    qpdf and the validator free what they used, but glibc keeps the pages in its arenas: a
    package of 2,000 pages left the process 220 MiB larger than before, which then stood
    under the next step's peak. Trimmed, it is back within a few MiB.
    """
    import ctypes

    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


@contextmanager
def atomic_target(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``, moved over it when the block succeeds."""
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class _Structure:
    """The package's structure tree: one Document, a Part per part with that part's elements."""

    def __init__(self, pdf: pikepdf.Pdf):
        self.pdf = pdf
        self.root = pdf.make_indirect(Dictionary(Type=Name.StructTreeRoot))
        self.document = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, P=self.root,
                                                     K=Array()))
        self.root.K = Array([self.document])
        self.parent_tree: dict[int, pikepdf.Object] = {}
        self.role_map = Dictionary()
        self.class_map = Dictionary()
        self.next_key = 0

    def add(self, src: pikepdf.Pdf, first: int, count: int, title: str) -> None:
        """Copy ``src``'s structure tree under a new Part; renumber its pages' parent-tree keys."""
        copied = self.pdf.copy_foreign(src.Root.StructTreeRoot)
        part = self.pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Part, P=self.document,
                                                 T=String(title), K=Array()))
        self.document.K.append(part)
        for kid in _as_list(copied.get("/K")):
            if isinstance(kid, Dictionary) and kid.get("/S") == Name.Document:
                for inner in _as_list(kid.get("/K")):
                    self._adopt(part, inner)
            else:
                self._adopt(part, kid)
        offset = self.next_key
        top = -1
        if "/ParentTree" in copied:
            for key, value in pikepdf.NumberTree(copied.ParentTree).items():
                self.parent_tree[int(key) + offset] = value
                top = max(top, int(key))
        for page in self.pdf.pages[first:first + count]:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + offset
            for annot in page.obj.get("/Annots", Array()):
                if isinstance(annot, Dictionary) and "/StructParent" in annot:
                    annot.StructParent = int(annot.StructParent) + offset
            page.obj.Tabs = Name.S
        self.next_key = offset + top + 1
        for role, value in copied.get("/RoleMap", Dictionary()).items():
            if Name(role) != value:
                self.role_map[role] = value
        for klass, value in copied.get("/ClassMap", Dictionary()).items():
            self.class_map[klass] = value

    def _adopt(self, part: Dictionary, kid) -> None:
        if isinstance(kid, Dictionary):
            kid.P = part
            part.K.append(kid)

    def finish(self, language: str) -> None:
        tree = pikepdf.NumberTree.new(self.pdf)
        for key in sorted(self.parent_tree):
            tree[key] = self.parent_tree[key]
        self.root.ParentTree = tree.obj
        self.root.ParentTreeNextKey = self.next_key
        if len(self.role_map):
            self.root.RoleMap = self.role_map
        if len(self.class_map):
            self.root.ClassMap = self.class_map
        self.document.Lang = String(language)
        self.pdf.Root.StructTreeRoot = self.root


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, Array):
        return list(value)
    return [value]


def _write_outline(out: pikepdf.Pdf, parts: list[Part], sources: dict[int, pikepdf.Pdf]) -> None:
    """Bookmarks: each part, and under a point its paper and "Bilaga N" from its own outline."""
    with out.open_outline() as outline:
        for index, part in enumerate(parts):
            item = pikepdf.OutlineItem(part.title, part.first)
            if part.punkt is not None and not part.notice:
                src = sources[index]
                numbers = {page.objgen: n for n, page in enumerate(src.pages)}
                with src.open_outline() as inner:
                    for child in inner.root:
                        page = _destination_page(child, numbers)
                        if page is not None:
                            item.children.append(pikepdf.OutlineItem(child.title, part.first + page))
            outline.root.append(item)


def _destination_page(item, numbers: dict) -> int | None:
    dest = item.destination
    if dest is None and item.action is not None:
        dest = item.action.get("/D")
    if isinstance(dest, Array) and len(dest) and isinstance(dest[0], Dictionary):
        return numbers.get(dest[0].objgen)
    return None


def _write_page_labels(out: pikepdf.Pdf, ranges: list[tuple[int, str]]) -> None:
    nums = Array()
    for start, prefix in sorted(ranges):
        nums.append(start)
        nums.append(Dictionary(S=Name.D, P=String(prefix), St=1))
    out.Root.PageLabels = Dictionary(Nums=nums)


def _link_toc(out: pikepdf.Pdf, parts: list[Part]) -> None:
    """Turn the innehållsförteckning's placeholder URLs into links to each point's first page."""
    toc = parts[1]
    first = {part.punkt.nummer: part for part in parts if part.punkt is not None}
    for page in out.pages[toc.first:toc.first + toc.pages]:
        for annot in page.obj.get("/Annots", Array()):
            action = annot.get("/A")
            uri = str(action.get("/URI", "")) if isinstance(action, Dictionary) else ""
            if not uri.startswith(TOC_LINK):
                continue
            target = first[int(uri.removeprefix(TOC_LINK))]
            annot.A = Dictionary(S=Name.GoTo, D=Array([out.pages[target.first].obj, Name.Fit]))
            annot.Contents = String(f"Gå till {target.title}, sida {target.first + 1}")


class Stamper:
    """Draws "Punkt N · sida X av Y" at the top of every page, left of a "Bilaga N" stamp.

    The texts come from one reportlab document (one font subset for them all); each page
    gets the drawing as a pagination artifact in a content stream of its own, placed by the
    page's visible box and /Rotate (as ``pagegeometry.stamp_page`` places "Bilaga N").
    """

    def __init__(self, out: pikepdf.Pdf, parts: list[Part], sources: dict[int, pikepdf.Pdf]):
        self.out = out
        self.texts: list[str] = []
        self.bilaga: list[str | None] = []
        for index, part in enumerate(parts):
            labels = dict(inner_labels(sources[index])) if part.punkt is not None and not part.notice else {}
            current = None
            for n in range(part.pages):
                prefix = labels.get(n, current)
                current = prefix
                self.texts.append(f"{part.stamp} · sida {n + 1} av {part.pages}")
                self.bilaga.append(prefix.rstrip(":") if prefix and prefix.startswith("Bilaga") else None)

    def stamp_all(self) -> None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfgen import canvas

        font = register_stamp_font()
        face = pdfmetrics.getFont(font).face  # type: ignore[attr-defined]
        descent = face.descent * STAMP_SIZE / 1000
        ascent = face.ascent * STAMP_SIZE / 1000
        height = ascent - descent + 2 * STAMP_PADDING
        buffer = io.BytesIO()
        c = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
        widths = []
        for text in self.texts:
            width = pdfmetrics.stringWidth(text, font, STAMP_SIZE) + 2 * STAMP_PADDING
            widths.append(width)
            c.addLiteral("/Artifact <</Type /Pagination /Subtype /Header>> BDC")
            c.setFillColorRGB(1, 1, 1)
            c.setStrokeColorRGB(0.35, 0.35, 0.35)
            c.setLineWidth(0.5)
            c.rect(0, 0, width, height, stroke=1, fill=1)
            c.setFillColorRGB(0, 0, 0)
            c.setFont(font, STAMP_SIZE)
            c.drawString(STAMP_PADDING, STAMP_PADDING - descent, text)
            c.addLiteral("EMC")
            c.showPage()
        c.save()
        with pikepdf.open(io.BytesIO(buffer.getvalue())) as overlay:
            fonts: dict[str, pikepdf.Object] = {}
            for n, (page, drawing) in enumerate(zip(self.out.pages, overlay.pages, strict=True)):
                resources = drawing.obj.Resources.get("/Font", Dictionary())
                for name, font_obj in resources.items():
                    if name not in fonts:
                        copied = self.out.copy_foreign(font_obj)
                        unicode = copied.get("/ToUnicode")
                        if unicode is not None:
                            unicode.write(without_null_mappings(unicode.read_bytes()))
                        fonts[name] = copied
                content = drawing.obj.Contents.read_bytes()
                for name in resources.keys():
                    content = content.replace(f"{name} ".encode(), f"/BStamp{name[1:]} ".encode())
                bilaga = self.bilaga[n]
                shift = 0.0
                if bilaga:
                    shift = pdfmetrics.stringWidth(bilaga, font, STAMP_SIZE) + 2 * STAMP_PADDING + 6
                self._place(page, content, widths[n], height, shift,
                            {f"/BStamp{name[1:]}": fonts[name] for name in resources.keys()})

    def _place(self, page, content: bytes, width: float, height: float, shift: float, fonts: dict) -> None:
        left, bottom, right, top = _visible_box(page)
        rotation = (round(int(page.obj.get("/Rotate", 0)) / 90) * 90) % 360
        origin = {0: (left, bottom), 90: (right, bottom), 180: (right, top), 270: (left, top)}[rotation]
        w, h = right - left, top - bottom
        visual_w, visual_h = (w, h) if rotation in (0, 180) else (h, w)
        x = visual_w - STAMP_MARGIN - shift - width
        y = visual_h - STAMP_MARGIN - height
        cos, sin = {0: (1, 0), 90: (0, 1), 180: (-1, 0), 270: (0, -1)}[rotation]
        matrix = f"{cos} {sin} {-sin} {cos} {origin[0]:.3f} {origin[1]:.3f} cm 1 0 0 1 {x:.3f} {y:.3f} cm\n"
        resources = page.obj.get("/Resources")
        if not isinstance(resources, Dictionary):
            resources = page.obj.Resources = Dictionary()
        font_dict = resources.get("/Font")
        if not isinstance(font_dict, Dictionary):
            font_dict = resources.Font = Dictionary()
        for name, font_obj in fonts.items():
            font_dict[name] = font_obj
        page.contents_add(pikepdf.Stream(self.out, b"q\n"), prepend=True)
        page.contents_add(pikepdf.Stream(self.out, b"\nQ\nq\n" + matrix.encode() + content + b"\nQ\n"))


def _visible_box(page) -> tuple[float, float, float, float]:
    boxes = []
    for key in ("/CropBox", "/MediaBox"):
        box = page.obj.get(key, page.obj.get("/MediaBox"))
        xs = sorted((float(box[0]), float(box[2])))
        ys = sorted((float(box[1]), float(box[3])))
        boxes.append((xs[0], ys[0], xs[1], ys[1]))
    (l1, b1, r1, t1), (l2, b2, r2, t2) = boxes
    visible = (max(l1, l2), max(b1, b2), min(r1, r2), min(t1, t2))
    return visible if visible[0] < visible[2] and visible[1] < visible[3] else boxes[1]
