"""Reproducible PDF metadata: the same input gives byte-identical PDFs.

LibreOffice stamps each PDF with the current time (Info ``/CreationDate``,
``xmp:CreateDate``) and a random ``/ID``, so every run gave new bytes and a new sha256 in
the manifest. ``finish_pdf`` rewrites a converted PDF with dates taken from the document
(``document_time``) and an ``/ID`` computed from the content (qpdf's deterministic id),
keeping PDF/A-2b valid: the Info dates and the XMP dates (``xmp:CreateDate``,
``xmp:ModifyDate``, ``xmp:MetadataDate``) say the same instant.

``pdf_date`` and ``content_id`` serve the bundle, which pypdf writes.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import zipfile
from datetime import UTC, date, datetime, time
from pathlib import Path

import pikepdf

from .errors import ConversionError
from .files import save_pdf

_CORE_DATES = (
    ("docProps/core.xml", rb"<dcterms:modified[^>]*>([^<]+)<"),
    ("docProps/core.xml", rb"<dcterms:created[^>]*>([^<]+)<"),
    ("meta.xml", rb"<dc:date>([^<]+)<"),
    ("meta.xml", rb"<meta:creation-date>([^<]+)<"),
)
MAX_META_BYTES = 1024 * 1024
"""Largest document-properties part read for its date."""


def document_time(src: Path, when: date | datetime | None = None) -> datetime:
    """Return the instant a PDF made from ``src`` is dated, in UTC, to the second.

    In order: ``when`` (a date means midnight UTC: the utfärdat or datum of the content);
    the office document's own properties (modified, else created: rendered papers and
    letters carry their date there); ``SOURCE_DATE_EPOCH``; the file's modification time.
    """
    if when is None:
        when = office_date(src)
    if when is None and os.environ.get("SOURCE_DATE_EPOCH", "").strip().isdigit():
        when = datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), UTC)
    if when is None:
        when = datetime.fromtimestamp(int(src.stat().st_mtime), UTC)
    if not isinstance(when, datetime):
        when = datetime.combine(when, time(0, 0))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(microsecond=0)


def office_date(src: Path) -> datetime | None:
    """Return the modified (or created) date in an office file's properties, if it has one."""
    try:
        with zipfile.ZipFile(src) as zf:
            for member, pattern in _CORE_DATES:
                try:
                    info = zf.getinfo(member)
                except KeyError:
                    continue
                if info.file_size > MAX_META_BYTES:
                    continue
                found = re.search(pattern, zf.read(info))
                if found:
                    try:
                        return datetime.fromisoformat(found[1].decode().strip().replace("Z", "+00:00"))
                    except ValueError:
                        continue
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    return None


def pdf_date(when: datetime) -> str:
    """Return ``when`` (UTC) as a PDF date string: D:20231002000000+00'00'."""
    return when.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")


def content_id(data: bytes) -> bytes:
    """Return a 16-byte document /ID computed from the PDF's bytes."""
    return hashlib.md5(data, usedforsecurity=False).digest()


def date_icc_profile(stream: pikepdf.Stream, when: datetime) -> None:
    """Set the creation date in an ICC profile's header (LibreOffice makes its sRGB profile anew each time).

    Bytes 24-35 of the header are year, month, day, hour, minute, second (big-endian
    uint16). A profile ID (bytes 84-99, an MD5 that covers the date) is zeroed, which the
    ICC specification allows ("not calculated").
    """
    icc = bytearray(stream.read_bytes())
    if len(icc) < 128 or icc[36:40] != b"acsp":
        return
    icc[24:36] = struct.pack(">6H", when.year, when.month, when.day, when.hour, when.minute, when.second)
    icc[84:100] = bytes(16)
    stream.write(bytes(icc))


def finish_pdf(made: Path, dst: Path, *, title: str | None, when: datetime, src: Path) -> None:
    """Write ``made`` to ``dst`` with ``title`` (if given, else its own), dates ``when`` and a content /ID."""
    stamp = pdf_date(when)
    iso = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        with pikepdf.open(made) as pdf:
            # LibreOffice 7.4 escapes the title twice in the XMP (dc:title "A &amp;amp; B" for
            # "A & B"); its document info has it right, so the XMP gets that one.
            title = title or (str(pdf.docinfo["/Title"]) if "/Title" in pdf.docinfo else None)
            if "/Metadata" in pdf.Root:  # LibreOffice's; images from reportlab have none
                with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
                    if title:
                        meta["dc:title"] = title
                    for key in ("xmp:CreateDate", "xmp:ModifyDate", "xmp:MetadataDate"):
                        meta[key] = iso
            if title:
                pdf.docinfo["/Title"] = title
            pdf.docinfo["/CreationDate"] = stamp
            pdf.docinfo["/ModDate"] = stamp
            for key in ("/DocChecksum", "/ID"):  # LibreOffice's MD5s of the content, clock included;
                if key in pdf.trailer:  # qpdf would keep the first half of the old /ID
                    del pdf.trailer[key]
            for intent in pdf.Root.get("/OutputIntents", []):
                profile = intent.get("/DestOutputProfile")
                if isinstance(profile, pikepdf.Stream):
                    date_icc_profile(profile, when)
            save_pdf(pdf, dst, deterministic_id=True)
    except pikepdf.PasswordError as e:
        raise ConversionError(
            "PDF-filen är lösenordsskyddad, så titeln kan inte skrivas in. Spara en kopia utan "
            "lösenord och försök igen.", file=src) from e
    except pikepdf.PdfError as e:
        raise ConversionError(
            "PDF-filen som skapades är skadad. Öppna originalet, spara det igen och försök på nytt.",
            file=src) from e
