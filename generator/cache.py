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
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from pathlib import Path

from .conformance import VALIDATOR_KEY, validate_pdf
from .files import atomic_path, write_bytes

CACHE_DIR = Path(".cache") / "bilagor"
"""The cache folder, relative to ``out/``."""

CONVERSION_KEY = b"beslut-bilaga-pdf-v3-wide-sheets-comments-names"
"""Part of every key: change it when the way bilagor are converted changes."""


class BilagaCache:
    """The PDFs of converted bilagor under ``out/.cache/bilagor/``; safe to share between threads."""

    def __init__(self, out: Path):
        self.folder = out / CACHE_DIR
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
