"""The font drawn onto PDF pages: the "Bilaga N" stamp of handlingar.pdf and a draft's UTKAST.

Both are made with reportlab in Liberation Sans Bold, embedded as a subset. reportlab maps
the unused codes 0-31 of its subsets to U+0000 in the ToUnicode CMap, which PDF/A-2a and
PDF/UA-1 forbid, so every subset goes through ``without_null_mappings``. This module loads
reportlab only; it is shared by ``bundle`` and ``pdfwatermark``.
"""

from __future__ import annotations

import functools
import glob
import re

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from .errors import BundleError

STAMP_FONT = "LiberationSans-Bold"
STAMP_FONT_GLOBS = (
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation*/LiberationSans-Bold.ttf",
    "/usr/share/fonts/**/LiberationSans-Bold.ttf",
)


def without_null_mappings(cmap: bytes) -> bytes:
    """Return a ToUnicode CMap without the codes mapped to U+0000 (PDF/A-2a and PDF/UA forbid them).

    reportlab maps the unused codes 0-31 of its font subsets that way; the stamp and the
    UTKAST watermark both go through here.
    """
    parts = re.split(rb"\d+ beginbfchar", cmap, maxsplit=1)
    if len(parts) != 2 or b"endbfchar" not in parts[1]:
        return cmap
    head, rest = parts
    body, tail = rest.split(b"endbfchar", 1)
    pairs = [line for line in body.split(b"\n") if line.strip() and not line.strip().endswith(b"<0000>")]
    return head + b"%d beginbfchar\n" % len(pairs) + b"\n".join(pairs) + b"\nendbfchar" + tail


@functools.cache
def register_stamp_font() -> str:
    """Register Liberation Sans Bold with reportlab and return its name; fail if it is missing."""
    for pattern in STAMP_FONT_GLOBS:
        found = sorted(glob.glob(pattern, recursive=True))
        if found:
            pdfmetrics.registerFont(TTFont(STAMP_FONT, found[0]))
            return STAMP_FONT
    raise BundleError(
        "typsnittet Liberation Sans Bold (LiberationSans-Bold.ttf), som behövs för att stämpla "
        "bilagorna, finns inte på datorn. Installera paketet fonts-liberation2 "
        "(sudo apt-get install fonts-liberation2) och kör igen.",
        file="/usr/share/fonts/truetype/liberation2",
    )
