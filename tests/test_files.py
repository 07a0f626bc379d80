"""Reproducible .docx files: our zip writer writes the bytes zipfile writes."""

from __future__ import annotations

import io
import random
import zipfile

from generator.files import ZIP_EPOCH, zip_entries


def zipfile_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zip_file:
        for name, blob in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zip_file.writestr(info, blob)
    return out.getvalue()


def test_zip_entries_are_what_zipfile_writes():
    chance = random.Random(13)
    entries = [("[Content_Types].xml", b"<Types/>" * 40), ("word/document.xml", chance.randbytes(5000)),
               ("word/empty.xml", b""), ("word/bilder/räksmörgås.xml", "åäö".encode() * 300)]
    assert zip_entries(entries) == zipfile_bytes(entries)
    assert zip_entries(entries[:1]) == zipfile_bytes(entries[:1])  # a blob compressed before, from the cache
    assert zip_entries([]) == zipfile_bytes([])
    with zipfile.ZipFile(io.BytesIO(zip_entries(entries))) as reopened:
        assert reopened.testzip() is None
        assert [(i.filename, reopened.read(i)) for i in reopened.infolist()] == entries
