"""Writing output files safely: atomically, and byte-for-byte reproducibly for .docx.

Nothing half-written may ever be seen in ``out/``: every file is written to a temporary
file in the same folder and then renamed over the target, so a failed run leaves the
previous output as it was.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

from docx.opc.phys_pkg import PhysPkgWriter
from docx.opc.pkgwriter import PackageWriter

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it to ``target``.

    On any exception the temporary file is removed and ``target`` is left untouched.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file's bytes (the manifest's and the send log's checksum)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_bytes(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


class _PartRecorder:
    """The writer python-docx's PackageWriter writes parts to: keeps each zip entry's name and bytes."""

    def __init__(self):
        self.entries: list[tuple[str, bytes]] = []

    def write(self, pack_uri, blob: bytes) -> None:
        self.entries.append((pack_uri.membername, blob))


def docx_entries(document) -> list[tuple[str, bytes]]:
    """Return the zip entries (name, bytes) of a python-docx or docxtpl document, in file order.

    This is ``OpcPackage.save`` with our own writer, which keeps the entries instead of
    zipping them (``zip_entries`` zips them).
    """
    package = document.part.package
    parts = list(package.parts)
    for part in parts:
        part.before_marshal()
    # PackageWriter only calls write(); python-docx's PhysPkgWriter cannot be subclassed
    # (its __new__ always makes a _ZipPkgWriter), so ours is cast to the annotated type.
    recorder = _PartRecorder()
    writer = cast(PhysPkgWriter, recorder)
    PackageWriter._write_content_types_stream(writer, parts)
    PackageWriter._write_pkg_rels(writer, package.rels)
    PackageWriter._write_parts(writer, parts)
    return recorder.entries


def zip_entries(entries) -> bytes:
    """Return ``entries`` (name, bytes) as a zip file with a fixed date on every entry.

    python-docx stamps every zip entry with the current time; a fixed date instead makes
    the same input give a byte-identical file.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zip_file:
        for name, blob in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zip_file.writestr(info, blob)
    return out.getvalue()


def docx_bytes(document) -> bytes:
    """Return a python-docx or docxtpl document as reproducible .docx bytes (fixed zip timestamps)."""
    return zip_entries(docx_entries(document))


def write_docx(document, target: Path) -> None:
    """Save a python-docx or docxtpl document to ``target``, atomically and reproducibly."""
    write_bytes(target, docx_bytes(document))
