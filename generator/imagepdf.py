"""A picture bilaga (PNG, JPEG) as a one-page A4 PDF: turned upright, scaled to fit, drawn with reportlab.

Pillow reads the picture's header first and refuses one above its decompression-bomb
limit; a JPEG already upright is embedded as it is. Pillow and reportlab are imported
when a picture is converted, not with ``convert``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from .errors import ConversionError


def image_to_pdf(src: Path, dst: Path, title: str) -> None:
    """Write ``src`` as a one-page A4 PDF, turned upright and scaled to fit the margins."""
    from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import cm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(src)  # reads the header only
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as e:
        limit = Image.MAX_IMAGE_PIXELS
        assert limit is not None, "Pillow warns of a decompression bomb only when it has a limit"
        side = int(limit ** 0.5)
        raise ConversionError(
            f"Bilden är för stor: den har fler än {limit / 1e6:.0f} miljoner bildpunkter, "
            f"som är gränsen (till exempel {side} × {side}). Så stora bilder kan vara gjorda för att "
            "överbelasta datorn, och de blir ändå inte skarpare på en A4-sida. Minska bilden i ett "
            "bildprogram (till exempel till 4000 bildpunkter på längsta sidan) och försök igen.",
            file=src) from e
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise _unreadable_image(src) from e
    image: str | ImageReader
    try:
        with im:
            if im.format == "JPEG" and im.getexif().get(ExifTags.Base.Orientation, 1) == 1:
                image, (w, h) = str(src), im.size  # reportlab embeds the JPEG as it is
            else:
                upright = ImageOps.exif_transpose(im)
                if upright.mode not in ("1", "L", "RGB", "RGBA", "CMYK"):
                    upright = upright.convert("RGBA")
                image, (w, h) = ImageReader(upright), upright.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise _unreadable_image(src) from e
    page = landscape(A4) if w > h else A4
    margin = 2 * cm
    scale = min((page[0] - 2 * margin) / w, (page[1] - 2 * margin) / h)
    use_a85, rl_config.useA85 = rl_config.useA85, 0  # ASCII85 would make images 25 % larger
    try:
        canvas = Canvas(str(dst), pagesize=page, invariant=1)  # no clock, no random /ID
        canvas.setTitle(title)
        canvas.drawImage(image, (page[0] - w * scale) / 2, (page[1] - h * scale) / 2,
                         w * scale, h * scale, mask="auto")
        canvas.showPage()
        canvas.save()
    finally:
        rl_config.useA85 = use_a85


def _unreadable_image(src: Path) -> ConversionError:
    return ConversionError(
        "Bilden går inte att läsa: den är skadad eller inte en PNG- eller JPEG-bild. Öppna den i ett "
        "bildprogram, spara den igen som PNG eller JPEG och försök på nytt.", file=src)
