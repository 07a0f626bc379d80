"""The proof of a batch: a letter's part of the composed PDF is the letter converted alone.

``difference`` compares two finished PDFs as a reader sees them; ``route.convert_letters``
converts the first letter both ways on every run and takes the composed route only when
there is no difference.
"""

from __future__ import annotations

import html
import re
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pikepdf

from ..files import save_pdf


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
            save_pdf(plain, copy)
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
