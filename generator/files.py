"""Writing output files safely: atomically, and byte-for-byte reproducibly for .docx.

Nothing half-written may ever be seen in ``out/``: every file is written to a temporary
file in the same folder and then renamed over the target, so a failed run leaves the
previous output as it was.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
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


def as_on_disk(path: Path) -> Path:
    """Return ``path`` spelt as on disk where it differs only in Unicode normalisation.

    macOS writes "ä" in file names as "a" plus a combining diaeresis (NFD); YAML and
    keyboards give one character (NFC). Each part of ``path`` that does not exist as
    written is looked up among its folder's entries by its NFC form. A path that exists
    as written, or has no such twin, is returned as it is.
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        return path
    current = Path(path.anchor) if path.is_absolute() else Path()
    parts = path.parts[1:] if path.is_absolute() else path.parts
    for part in parts:
        candidate = current / part
        if not (candidate.exists() or candidate.is_symlink()):
            wanted = unicodedata.normalize("NFC", part)
            try:
                twin = next((entry.name for entry in current.iterdir()
                             if unicodedata.normalize("NFC", entry.name) == wanted), None)
            except OSError:
                twin = None
            if twin is None:
                return path
            candidate = current / twin
        current = candidate
    return current


def link_on_the_way(base: Path, path: Path) -> Path | None:
    """Return the first existing part of ``path`` below ``base`` that is a symbolic link, or None.

    Writing through such a link would put a file wherever the link points (an ärende,
    a bilagor folder), so every path written under ``out/`` is checked with this.
    ``base`` itself may be a link (an out folder on another drive): only what is below it counts.
    """
    try:
        parts = path.relative_to(base).parts
    except ValueError:
        return None
    current = base
    for part in parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def save_pdf(pdf, target: Path, **options) -> None:
    """Save the pikepdf ``pdf`` to ``target`` atomically: written in memory, then by Python.

    qpdf writing straight to a file that fills the disk throws from a place pikepdf cannot
    catch, and the whole process aborts (``terminate called … QPDFSystemError``); written
    by Python, a full disk is an ordinary OSError (ENOSPC) that is reported as such.
    """
    buffer = io.BytesIO()
    pdf.save(buffer, **options)
    write_bytes(Path(target), buffer.getvalue())


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file's bytes (the manifest's and the send log's checksum)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint_of(inputs: Iterable[tuple[str, Path | str]]) -> str:
    """Return the sha256 of what an output is made from: beslut's version and each input.

    Each input is a name with a file (its bytes count) or a text (e.g. a registry entry as
    JSON). The one mechanism behind the agenda's, the protokoll's and the letters'
    fingerprints: when none of the inputs changed, neither did the output.
    """
    from . import __version__

    digest = hashlib.sha256(f"beslut {__version__}\n".encode())
    for name, source in inputs:
        value = sha256_file(source) if isinstance(source, Path) else hashlib.sha256(source.encode()).hexdigest()
        digest.update(f"{name}\n{value}\n".encode())
    return digest.hexdigest()


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
    the same input give a byte-identical file. The bytes are those ``zipfile`` writes
    (deflated, Unix permissions 0644), written here so that an entry every letter of a
    batch shares (styles, theme, fonts) is compressed once per process, not per letter.
    """
    out, central = bytearray(), bytearray()
    dosdate = (ZIP_EPOCH[0] - 1980) << 9 | ZIP_EPOCH[1] << 5 | ZIP_EPOCH[2]
    dostime = ZIP_EPOCH[3] << 11 | ZIP_EPOCH[4] << 5 | ZIP_EPOCH[5] // 2
    for name, blob in entries:
        crc, data = _deflated(blob)
        raw, flags = (name.encode("ascii"), 0) if name.isascii() else (name.encode("utf-8"), 0x800)
        fields = (flags, zipfile.ZIP_DEFLATED, dostime, dosdate, crc, len(data), len(blob), len(raw))
        central += struct.pack(_CENTRAL, b"PK\x01\x02", _VERSION, _UNIX, _VERSION, 0, *fields,
                               0, 0, 0, 0, 0o644 << 16, len(out)) + raw
        out += struct.pack(_LOCAL, b"PK\x03\x04", _VERSION, 0, *fields, 0) + raw + data
    count = len(entries)
    end = struct.pack(_END, b"PK\x05\x06", 0, 0, count, count, len(central), len(out), 0)
    return bytes(out + central + end)


_LOCAL, _CENTRAL, _END = "<4s2B4HL2L2H", "<4s4B4HL2L5H2L", "<4s4H2LH"
"""A local file header, a central directory entry, the end record (zipfile's struct formats)."""
_VERSION, _UNIX = 20, 3
"""The zip version every entry needs and was made by, and the "made by" system (Unix), as zipfile writes them."""


@lru_cache(maxsize=64)
def _deflated(blob: bytes) -> tuple[int, bytes]:
    """Return the CRC-32 and the raw deflate stream of ``blob``, as zipfile compresses it."""
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return zlib.crc32(blob), compressor.compress(blob) + compressor.flush()


def docx_bytes(document) -> bytes:
    """Return a python-docx or docxtpl document as reproducible .docx bytes (fixed zip timestamps)."""
    return zip_entries(docx_entries(document))


def write_docx(document, target: Path) -> None:
    """Save a python-docx or docxtpl document to ``target``, atomically and reproducibly."""
    write_bytes(target, docx_bytes(document))
