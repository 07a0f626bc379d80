"""The files a document may come as, and how each is recognised before it is converted.

``OFFICE_FORMATS`` names every office format ``convert.Converter`` takes (Word, PowerPoint,
Excel and their ODF cousins) with the LibreOffice import filter it is forced through and
how its zip container shows what it is; ``IMAGE_SUFFIXES`` the pictures placed on a page
(``imagepdf``). Before LibreOffice sees a file, ``check_container`` rejects an empty one,
one encrypted with a password and one that is not what its extension says, and applies
``officefile.check_office_zip``'s limits; ``check_is_pdf`` checks that what came out (or
was given) really is a PDF. Every rejection is a ConversionError naming the file and
what to do.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

from .errors import ConversionError
from .officefile import check_office_zip

RESAVE_HINT = "Öppna filen i Word eller LibreOffice, spara den igen och försök på nytt."


class OfficeFormat(NamedTuple):
    """How to recognise and import one office format."""

    kind: str
    """What the user calls it, in Swedish."""
    import_filter: str
    """LibreOffice import filter: forced, so LibreOffice never falls back to plain text."""
    member: str
    """A file inside the zip container that says which format it is ..."""
    needle: bytes
    """... by containing this."""


OFFICE_FORMATS = {
    ".docx": OfficeFormat("Word-dokument", "MS Word 2007 XML", "[Content_Types].xml", b"wordprocessingml"),
    ".pptx": OfficeFormat("PowerPoint-presentation", "Impress MS PowerPoint 2007 XML",
                          "[Content_Types].xml", b"presentationml"),
    ".xlsx": OfficeFormat("Excel-arbetsbok", "Calc MS Excel 2007 XML", "[Content_Types].xml", b"spreadsheetml"),
    ".odt": OfficeFormat("textdokument (ODF)", "writer8", "mimetype", b"opendocument.text"),
    ".odp": OfficeFormat("presentation (ODF)", "impress8", "mimetype", b"opendocument.presentation"),
    ".ods": OfficeFormat("kalkylblad (ODF)", "calc8", "mimetype", b"opendocument.spreadsheet"),
}
"""The office formats converted by LibreOffice, by file extension."""
TEXT_KINDS = frozenset({OFFICE_FORMATS[".docx"].kind, OFFICE_FORMATS[".odt"].kind})
"""The text documents: the only formats with indexes (tables of contents) to update."""
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
"""The pictures placed on an A4 page (``imagepdf``)."""


def check_container(src: Path, fmt: OfficeFormat) -> None:
    """Raise unless ``src`` is a zip container of the format its extension promises.

    LibreOffice itself happily turns an empty .pptx into a blank page.
    """
    if src.stat().st_size == 0:
        raise ConversionError(f"Filen är tom (0 byte). {RESAVE_HINT}", file=src)
    if src.suffix.lower() in _OOXML and _is_encrypted_ooxml(src):
        raise ConversionError(
            f"Filen är skyddad med lösenord och kan inte öppnas utan det. Öppna den i "
            f"{_PROGRAM.get(src.suffix.lower(), 'sitt program')}, ta bort lösenordet (Arkiv > Info > Skydda "
            "dokument > Kryptera med lösenord, töm fältet), spara och försök igen, eller be avsändaren om "
            "en version utan lösenord.", file=src)
    check_office_zip(src)  # before anything inflates a part of it
    try:
        with zipfile.ZipFile(src) as zf:
            ok = fmt.needle in zf.read(fmt.member)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, zlib.error):
        ok = False
    if not ok:
        raise unreadable_office_file(src, fmt)


_OOXML = (".docx", ".xlsx", ".pptx")
_PROGRAM = {".docx": "Word", ".xlsx": "Excel", ".pptx": "PowerPoint"}
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""An OLE compound file: how Office stores an OOXML file encrypted with a password (MS-OFFCRYPTO)."""


def _is_encrypted_ooxml(src: Path) -> bool:
    """Return True if ``src`` is an OOXML file encrypted with a password (a compound file with EncryptionInfo)."""
    try:
        with src.open("rb") as f:
            head = f.read(1 << 16)
            if not head.startswith(_CFB_MAGIC):
                return False
            f.seek(max(0, src.stat().st_size - (1 << 16)))
            tail = f.read()  # the directory may sit after the (large) encrypted package
    except OSError:
        return False
    names = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
    return any(name in head or name in tail for name in names)


def unreadable_office_file(src: Path, fmt: OfficeFormat) -> ConversionError:
    return ConversionError(
        f"Filen går inte att läsa som {fmt.kind}: den är skadad eller har fel filändelse. "
        f"Öppna den i Word eller LibreOffice, spara den igen som {src.suffix.lower()} och försök på nytt.",
        file=src)


def check_is_pdf(path: Path, src: Path) -> None:
    """Raise unless ``path`` is a non-empty file that starts like a PDF."""
    with path.open("rb") as f:
        head = f.read(1024)
    if b"%PDF-" in head:
        return
    if src.suffix.lower() == ".pdf":
        raise ConversionError(
            "Filen är ingen giltig PDF. Öppna den i en PDF-läsare, spara den som PDF igen och "
            "försök på nytt.", file=src)
    raise ConversionError(f"LibreOffice skrev ingen PDF (utan att säga varför). {RESAVE_HINT}", file=src)
