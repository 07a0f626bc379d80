"""Converted bilagor, kept by content: a bilaga is converted (and validated) once, not on every build.

A .docx, .pptx, .xlsx (…) bilaga is converted to PDF by LibreOffice, which takes seconds.
The PDF is kept in ``out/.cache/bilagor/<key>.pdf``, where the key is the sha256 of the
file's bytes, its name (printed by FILENAME fields) and the conversion settings
(``CONVERSION_KEY``). An edited bilaga has another key; a rebuild after editing only the
text reuses every PDF. A bilaga that fails to convert is not cached. Deleting the folder is always safe.

The validator's findings on a bilaga's PDF (the tillgänglighetsrapport checks every part)
are kept beside them as ``<key>.json``, keyed by the PDF's bytes, the profile and
``conformance.VALIDATOR_KEY`` (the validator's version): a new validator or another PDF
never reuses an old result.

``ByModification`` keeps values in memory by the files they came from (the web page's
start page: each ärende's check, review and builds until its files change).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from .conformance import VALIDATOR_KEY, validate_pdf
from .files import atomic_path, write_bytes
from .outfolder import BILAGA_CACHE

T = TypeVar("T")

CONVERSION_KEY = b"beslut-bilaga-pdf-v3-wide-sheets-comments-names"
"""Part of every key: change it when the way bilagor are converted changes."""


class BilagaCache:
    """The PDFs of converted bilagor under ``out/.cache/bilagor/``; safe to share between threads."""

    def __init__(self, out: Path):
        self.folder = out / BILAGA_CACHE
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def pdf_for(self, source: Path, convert) -> Path:
        """Return the PDF of ``source``: from the cache, or made by ``convert(source, target)``."""
        cached = self._pdf_path(source)
        with self._lock(cached.stem):
            if not cached.is_file():
                with atomic_path(cached) as tmp:
                    convert(source, tmp)
        return cached

    def converted(self, source: Path) -> Path | None:
        """Return the PDF of ``source`` if it was converted before, else None (nothing is converted)."""
        try:
            cached = self._pdf_path(source)
        except OSError:
            return None
        return cached if cached.is_file() else None

    def _pdf_path(self, source: Path) -> Path:
        """Return where the PDF of ``source`` is kept: named by the hash of its content."""
        # The name is part of the key: FILENAME fields and &F headers print it.
        key = CONVERSION_KEY + source.name.encode("utf-8", "surrogateescape") + b"\0" + source.read_bytes()
        return self.folder / f"{hashlib.sha256(key).hexdigest()}.pdf"

    def failures_of(self, pdf: Path, profile: str) -> list[tuple[str, str]]:
        """Return ``conformance.validate_pdf(pdf, profile)``: from the cache, or validated now and kept."""
        key = hashlib.sha256(VALIDATOR_KEY + profile.encode() + b"\0" + pdf.read_bytes()).hexdigest()
        cached = self.folder / f"{key}.json"
        try:
            return [(rule, message) for rule, message in json.loads(cached.read_bytes())]
        except (OSError, ValueError, TypeError):  # not cached yet, or a damaged entry: validate again
            pass
        failures = validate_pdf(pdf, profile)
        write_bytes(cached, json.dumps(failures, ensure_ascii=False).encode("utf-8"))
        return failures

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def clear(self) -> None:
        """Remove every cached PDF."""
        shutil.rmtree(self.folder, ignore_errors=True)


# --- values kept until their files change ---------------------------------------------------


Stamp = tuple[int, int, int] | None
"""A file's (inode, modification time in ns, size), or None when it is missing."""


def stamp(path: Path) -> Stamp:
    """Return what changes when ``path`` is written, replaced, created or removed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def folder_stamps(folder: Path, *subfolders: str) -> tuple:
    """Return the stamps of ``folder``, each entry in it and in its ``subfolders`` (one level each)."""
    stamps: list = []
    for where in (folder, *(folder / s for s in subfolders)):
        stamps.append((where.name, stamp(where)))
        try:
            with os.scandir(where) as entries:
                for entry in sorted(entries, key=lambda e: e.name):
                    st = entry.stat()
                    stamps.append((entry.name, (st.st_ino, st.st_mtime_ns, st.st_size)))
        except OSError:
            continue
    return tuple(stamps)


class ByModification(Generic[T]):
    """Values computed from files, kept until one of those files changes; safe to share between threads.

    The web page's start page lists every ärende and utskick with its check, review and
    builds; computing that takes tens of milliseconds each. Here each one is kept with the
    stamps (``stamp``) of the files it was computed from and computed again only when a
    stamp differs, so a page of 250 answers with a few thousand ``stat`` calls.
    """

    def __init__(self) -> None:
        self._values: dict[object, tuple[tuple, T]] = {}
        self._lock = threading.Lock()
        self._computing: dict[object, threading.Lock] = {}
        self._changed = False

    def get(self, key: object, stamps: tuple, compute: Callable[[], T]) -> T:
        """Return the value kept for ``key`` if its ``stamps`` are unchanged, else ``compute()`` (kept).

        Two threads asking for one key at once compute it once (the start page's first
        request while the server warms the list).
        """
        with self._lock:
            kept = self._values.get(key)
            computing = self._computing.setdefault(key, threading.Lock())
        if kept is not None and kept[0] == stamps:
            return kept[1]
        with computing:
            with self._lock:
                kept = self._values.get(key)
            if kept is not None and kept[0] == stamps:
                return kept[1]
            value = compute()
            with self._lock:
                self._values[key] = (stamps, value)
                self._changed = True
        return value

    def save(self, path: Path) -> None:
        """Write the values to ``path`` (JSON) if any changed since the last save or load.

        Keys and values must be JSON (strings, numbers, lists, dicts). The file names this
        program's code (``code_stamp``): values computed by other code are never loaded.
        """
        with self._lock:
            if not self._changed:
                return
            entries = [[key, stamps, value] for key, (stamps, value) in self._values.items()]
            self._changed = False
        write_bytes(path, json.dumps({"kod": code_stamp(), "värden": entries}, ensure_ascii=False).encode("utf-8"))

    def load(self, path: Path) -> None:
        """Read values saved by ``save`` (by this program's code), so a restarted server starts warm.

        A missing, damaged or other code's file is ignored: its values are computed again.
        """
        try:
            data = json.loads(path.read_bytes())
            if data.get("kod") != code_stamp():
                return
            entries = [(key, _tupled(stamps), value) for key, stamps, value in data["värden"]]
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return
        with self._lock:
            for key, stamps, value in entries:
                self._values.setdefault(key, (stamps, value))


def _tupled(value):
    """Return ``value`` with every list a tuple (stamps as ``stamp`` and ``folder_stamps`` make them)."""
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value


_CODE_STAMP: list[str] = []


def code_stamp() -> str:
    """Return a digest of this program's Python files (name, time, size): it changes with the code."""
    if not _CODE_STAMP:
        digest = hashlib.sha256()
        for path in sorted(Path(__file__).parent.rglob("*.py")):
            digest.update(f"{path.relative_to(Path(__file__).parent)}\0{stamp(path)}\0".encode())
        _CODE_STAMP.append(digest.hexdigest())
    return _CODE_STAMP[0]
