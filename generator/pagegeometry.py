"""The page geometry of handlingar.pdf: every page A4, and the "Bilaga N" stamp at its visual top right.

Every page is A4 (``fit_to_a4``): a page of another size (US Letter, a slide, A3) is
scaled to fit A4 in its own orientation, portrait into 595 x 842 pt, landscape into
842 x 595, centred, before it is stamped; its links move with it. What a page shows is
its cropbox within its mediabox (``get_visible_box``), turned by its /Rotate.

The stamps are drawn once per text as transparent A4 overlays (``make_overlays``, with
``stampfont``'s font) and merged into each page's content stream at the visual top right
(``stamp_page``): pagination artifacts, no marked content, no shared Form XObject.
"""

from __future__ import annotations

import io
from typing import cast

from pypdf import PageObject, PdfReader, Transformation
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, NumberObject
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from .stampfont import register_stamp_font, without_null_mappings

STAMP_SIZE = 10.0
"""Font size of the stamp in points."""
STAMP_MARGIN = 28.35
"""Distance of the stamp's box from the top and right edges of the page (1 cm)."""
STAMP_PADDING = 3.0
"""White space between the stamp text and its box."""
A4 = (595.276, 841.89)
"""Width and height of an A4 page in points."""
A4_TOLERANCE = 2.0
"""Pages within this many points of A4 are left as they are."""

Overlays = dict[str, PageObject]
"""Stamp overlays by text, each an A4 page (``make_overlays``)."""


def fit_to_a4(page: PageObject) -> None:
    """Scale ``page`` to fit A4 in its visual orientation, centred; leave an A4 page alone.

    What the viewer showed (the cropbox) is clipped, scaled and centred on a new A4
    mediabox; /Rotate stays, so a page shown landscape is still shown landscape. Link and
    other annotation rectangles move with the content.
    """
    left, bottom, right, top = get_visible_box(page)
    width, height = right - left, top - bottom
    rotated = (round(page.rotation / 90) % 2) == 1
    visual_landscape = (height > width) if rotated else (width > height)
    target = (A4[1], A4[0]) if visual_landscape else A4
    if rotated:
        target = (target[1], target[0])  # the unrotated page is the other way round
    if abs(width - target[0]) <= A4_TOLERANCE and abs(height - target[1]) <= A4_TOLERANCE and left == bottom == 0:
        return
    scale = min(target[0] / width, target[1] / height)
    dx = (target[0] - width * scale) / 2 - left * scale
    dy = (target[1] - height * scale) / 2 - bottom * scale
    detach_contents(page)
    contents = page.get_contents()
    if contents is not None:
        prefix = (f"q {scale:.6f} 0 0 {scale:.6f} {dx:.4f} {dy:.4f} cm "
                  f"{left:.4f} {bottom:.4f} {width:.4f} {height:.4f} re W n\n").encode()
        contents.set_data(prefix + contents.get_data() + b"\nQ\n")
        page.replace_contents(contents)
    box = ArrayObject([NumberObject(0), NumberObject(0), FloatObject(round(target[0], 3)),
                       FloatObject(round(target[1], 3))])
    page[NameObject("/MediaBox")] = box
    for key in ("/CropBox", "/TrimBox", "/BleedBox", "/ArtBox"):
        page.pop(NameObject(key), None)

    def move(values):
        return [FloatObject(round(float(v) * scale + (dx if i % 2 == 0 else dy), 4)) for i, v in enumerate(values)]

    for ref in page.get("/Annots") or []:
        annot = ref.get_object()
        if isinstance(annot, DictionaryObject) and "/Rect" in annot:
            annot[NameObject("/Rect")] = ArrayObject(move(annot["/Rect"]))
            if "/QuadPoints" in annot:
                annot[NameObject("/QuadPoints")] = ArrayObject(move(annot["/QuadPoints"]))


def stamp_page(page: PageObject, text: str, overlays: Overlays) -> None:
    """Stamp ``text`` at the visual top right of ``page``, whatever its cropbox and /Rotate."""
    left, bottom, right, top = get_visible_box(page)
    width, height = right - left, top - bottom
    rotation = (round(page.rotation / 90) * 90) % 360
    # The overlay is drawn in visual coordinates; map its origin (visual bottom left) to the
    # corner of the cropbox that the viewer shows at the bottom left.
    origin = {0: (left, bottom), 90: (right, bottom), 180: (right, top), 270: (left, top)}[rotation]
    visual = (width, height) if rotation in (0, 180) else (height, width)
    # The overlay is A4 with the stamp at its top right; move it to this page's top right.
    transformation = Transformation().translate(visual[0] - A4[0], visual[1] - A4[1])
    transformation = transformation.rotate(rotation).translate(*origin)
    detach_contents(page)
    page.merge_transformed_page(overlays[text], transformation, over=True)
    page.compress_content_streams()


def get_visible_box(page: PageObject) -> tuple[float, float, float, float]:
    """Return (left, bottom, right, top) of what a viewer shows: the cropbox within the mediabox."""
    edges = []
    for box in (page.cropbox, page.mediabox):
        xs = sorted((float(box.left), float(box.right)))
        ys = sorted((float(box.bottom), float(box.top)))
        edges.append((xs[0], ys[0], xs[1], ys[1]))
    (l1, b1, r1, t1), (l2, b2, r2, t2) = edges
    visible = (max(l1, l2), max(b1, b2), min(r1, r2), min(t1, t2))
    return visible if visible[0] < visible[2] and visible[1] < visible[3] else edges[1]


def detach_contents(page: PageObject) -> None:
    """Give ``page`` a content stream of its own before it is changed.

    Pages may share one content stream (habibi-rotated.pdf: four pages, one stream, four
    rotations). pypdf's merge writes the merged content back into the shared object, so
    without this every page sharing it would carry every other page's stamp.
    """
    contents = page.get_contents()
    if contents is not None:
        del page[NameObject("/Contents")]
        page.replace_contents(contents)


def make_overlays(texts: list[str]) -> Overlays:
    """Return, per text, a transparent A4 page with ``text`` in a white box at the top right.

    The pages are made as one document, so every stamp uses one subset of the font (reportlab
    makes a subset per document, and that is most of the cost of a stamp).
    """
    font = register_stamp_font()
    face = cast(TTFont, pdfmetrics.getFont(font)).face  # registered as a TTFont; the stubs say Font
    ascent, descent = face.ascent * STAMP_SIZE / 1000, face.descent * STAMP_SIZE / 1000
    width, height = A4
    unique = list(dict.fromkeys(texts))
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=1, pageCompression=1)
    for text in unique:
        text_width = pdfmetrics.stringWidth(text, font, STAMP_SIZE)
        box_width = text_width + 2 * STAMP_PADDING
        box_height = ascent - descent + 2 * STAMP_PADDING
        x = width - STAMP_MARGIN - box_width
        y = height - STAMP_MARGIN - box_height
        # A pagination artifact: screen readers skip it (the part's title is in the tags).
        c.addLiteral("/Artifact <</Type /Pagination /Subtype /Header>> BDC")
        c.setFillColorRGB(1, 1, 1)
        c.setStrokeColorRGB(0.35, 0.35, 0.35)
        c.setLineWidth(0.5)
        c.rect(x, y, box_width, box_height, stroke=1, fill=1)
        c.setFillColorRGB(0, 0, 0)
        c.setFont(font, STAMP_SIZE)
        c.drawString(x + STAMP_PADDING, y + STAMP_PADDING - descent, text)
        c.addLiteral("EMC")
        c.showPage()
    c.save()
    pages = list(PdfReader(out).pages) if unique else []
    fonts = {font.idnum: font.get_object() for overlay in pages  # one font object, shared by the pages
             for font in cast(DictionaryObject, cast(DictionaryObject, overlay["/Resources"])["/Font"]).values()}
    for font_object in fonts.values():
        drop_null_unicode(font_object)
    return dict(zip(unique, pages, strict=True))


def drop_null_unicode(font: DictionaryObject) -> None:
    """Remove the ToUnicode entries reportlab maps to U+0000 (codes 0-31), which PDF/UA forbids."""
    cmap = font.get("/ToUnicode")
    if cmap is not None:
        cmap = cmap.get_object()
        cmap.set_data(without_null_mappings(cmap.get_data()))
