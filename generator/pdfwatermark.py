"""Marking a draft, the PDF half: the diagonal "UTKAST" drawn onto every page of the PDF.

LibreOffice 7.4 does not turn text boxes, so ``convert_draft`` converts a copy of the
draft's .docx without the header text box ``watermark.add_watermark`` put there
(``watermark.remove_watermark``), and ``stamp_watermark`` draws the word diagonally behind
every page's content, as text (``pdftotext`` finds it) in an ``/Artifact`` marked-content
sequence outside the structure tree (a screen reader skips it), keeping PDF/A-2a and
PDF/UA-1.
"""

from __future__ import annotations

import io
import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pikepdf
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from .files import save_pdf
from .runtemp import run_dir
from .stampfont import register_stamp_font, without_null_mappings
from .watermark import WATERMARK_TEXT, remove_watermark

if TYPE_CHECKING:
    from .convert import PdfConverter

WATERMARK_SIZE = 96.0
"""Font size of the word in points, as in the .docx (smaller on pages too small for it)."""
WATERMARK_GREY = 0.8
"""Fill colour of the word in the PDF, the same grey in red, green and blue (#CCCCCC)."""


def convert_draft(converter: PdfConverter, docx_path: Path, pdf: Path) -> Path:
    """Convert the draft ``docx_path`` to the PDF/A ``pdf`` with a diagonal watermark; return ``pdf``.

    It converts a copy without the header text
    box (LibreOffice would draw it horizontally); the PDF then gets ``stamp_watermark``.
    """
    with tempfile.TemporaryDirectory(prefix="utkast-", dir=run_dir()) as work:
        copy = Path(work) / docx_path.name
        remove_watermark(docx_path, copy)
        converter.to_pdf(copy, pdf, pdfa=True)
    stamp_watermark(pdf)
    return pdf


def stamp_watermark(pdf_path: Path, text: str = WATERMARK_TEXT) -> None:
    """Draw ``text`` diagonally behind the content of every page of the PDF ``pdf_path``, in place.

    The word is a Form XObject drawn inside ``/Artifact <</Type /Pagination /Subtype
    /Watermark>> BDC … EMC`` at the start of each page's content, centred on the cropbox
    and turned 45 degrees counter-clockwise; the structure tree is not touched. A ``/Span``
    with ``/ActualText`` inside the artifact gives text extraction the word whole
    (``pdftotext`` would otherwise print turned text one letter a line).
    """
    with pikepdf.open(pdf_path, allow_overwriting_input=True) as pdf:
        form = _word_form(pdf, text)
        width, height = float(form.BBox[2]), float(form.BBox[3])
        actual = pikepdf.String(text).unparse()
        for page in pdf.pages:
            left, bottom, right, top = (float(v) for v in page.cropbox)
            scale = min(1.0, 0.8 * math.hypot(right - left, top - bottom) / width)
            name = page.add_resource(form, pikepdf.Name.XObject, prefix="Utkast")
            cos, sin = scale * math.cos(math.pi / 4), scale * math.sin(math.pi / 4)
            # Centre of the word (width/2, height/2) onto the centre of the page, turned 45 degrees.
            x = (left + right) / 2 - cos * width / 2 + sin * height / 2
            y = (bottom + top) / 2 - sin * width / 2 - cos * height / 2
            matrix = " ".join(f"{v:.4f}" for v in (cos, sin, -sin, cos, x, y))
            page.contents_add(pdf.make_stream(
                b"/Artifact <</Type /Pagination /Subtype /Watermark>> BDC /Span <</ActualText "
                + actual + b">> BDC q " + matrix.encode("ascii") + b" cm " + name.unparse() + b" Do Q EMC EMC\n"
            ), prepend=True)
        save_pdf(pdf, pdf_path, deterministic_id=True)


def _word_form(pdf: pikepdf.Pdf, text: str) -> pikepdf.Object:
    """Return a Form XObject in ``pdf`` with ``text`` in grey, its box tight around the word."""
    font = register_stamp_font()
    face = cast(TTFont, pdfmetrics.getFont(font)).face  # registered as a TTFont; the stubs say Font
    descent = face.descent * WATERMARK_SIZE / 1000
    width = pdfmetrics.stringWidth(text, font, WATERMARK_SIZE)
    height = (face.ascent - face.descent) * WATERMARK_SIZE / 1000
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(width, height), invariant=1, pageCompression=1,
                      # no unembedded Helvetica; the stubs type initialFontName as a float, it is a name
                      initialFontName=font, initialFontSize=WATERMARK_SIZE)  # type: ignore[arg-type]
    c.setFillColorRGB(WATERMARK_GREY, WATERMARK_GREY, WATERMARK_GREY)
    c.setFont(font, WATERMARK_SIZE)
    c.drawString(0, -descent, text)
    c.showPage()
    c.save()
    with pikepdf.open(io.BytesIO(out.getvalue())) as word:
        form = pdf.copy_foreign(word.pages[0].as_form_xobject())
    for subset in form.Resources.Font.values():
        subset.ToUnicode.write(without_null_mappings(subset.ToUnicode.read_bytes()))
    return form
