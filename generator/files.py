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


class _FixedTimeZipWriter:
    """The writer python-docx's PackageWriter writes parts to, with a fixed date per entry."""

    def __init__(self, zip_file: zipfile.ZipFile):
        self.zip_file = zip_file

    def write(self, pack_uri, blob: bytes) -> None:
        info = zipfile.ZipInfo(pack_uri.membername, date_time=ZIP_EPOCH)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self.zip_file.writestr(info, blob)


def docx_bytes(document) -> bytes:
    """Return a python-docx or docxtpl document as .docx bytes with fixed zip timestamps.

    python-docx stamps every zip entry with the current time; writing the entries with a
    fixed date instead makes the same input give a byte-identical file. This is
    ``OpcPackage.save`` with our own zip writer.
    """
    package = document.part.package
    parts = list(package.parts)
    for part in parts:
        part.before_marshal()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zip_file:
        # PackageWriter only calls write(); python-docx's PhysPkgWriter cannot be subclassed
        # (its __new__ always makes a _ZipPkgWriter), so ours is cast to the annotated type.
        writer = cast(PhysPkgWriter, _FixedTimeZipWriter(zip_file))
        PackageWriter._write_content_types_stream(writer, parts)
        PackageWriter._write_pkg_rels(writer, package.rels)
        PackageWriter._write_parts(writer, parts)
    return out.getvalue()


def write_docx(document, target: Path) -> None:
    """Save a python-docx or docxtpl document to ``target``, atomically and reproducibly."""
    write_bytes(target, docx_bytes(document))
