"""Turning documents into PDF: the PDF stage of the pipeline.

``Converter`` keeps one LibreOffice warm behind unoserver's XML-RPC server (about 0.05 s
per document instead of about 0.8 s for a cold ``soffice --convert-to``). Office documents
go through LibreOffice as tagged PDF/A-2b; images are placed on an A4 page with reportlab;
PDFs are copied as they are. Every output is written atomically and checked to really be
a PDF, because LibreOffice sometimes writes nothing and says nothing.

What is accepted and how a file is recognised is ``inputformats``; a picture's page is
``imagepdf``; the LibreOffice server itself (started, restarted, stopped, its profile and
timeouts) is ``libreoffice``. ``PdfConverter`` is what the engine needs of a converter.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Protocol

from .errors import BeslutError, ConversionError
from .files import atomic_path
from .imagepdf import image_to_pdf
from .inputformats import (
    IMAGE_SUFFIXES,
    OFFICE_FORMATS,
    RESAVE_HINT,
    TEXT_KINDS,
    OfficeFormat,
    check_container,
    check_is_pdf,
)
from .libreoffice import LibreOffice, LibreOfficeDied, LibreOfficeHung, conversion_timeout
from .officefile import copy_office_file

ACCEPTED = (*OFFICE_FORMATS, *IMAGE_SUFFIXES, ".pdf")
"""File extensions ``Converter.to_pdf`` accepts."""


class PdfConverter(Protocol):
    """What the engine needs of a converter: ``Converter``, or a wrapper lent by a pool.

    mypy checks every implementation against this, so a wrapper that forgets a method
    fails in CI instead of silently falling back to a slower route at run time.
    """

    def __enter__(self) -> PdfConverter: ...

    def __exit__(self, *exc: object) -> None: ...

    def start(self) -> None:
        """Start LibreOffice now (the first conversion would otherwise)."""

    def to_pdf(self, src: Path, dst: Path, *, pdfa: bool = True, title: str | None = None,
               when: date | None = None) -> Path:
        """Convert ``src`` to the finished PDF ``dst``."""

    def export_pdf(self, src: Path, out: Path, *, options: tuple[str, ...] = ()) -> Path:
        """Export the .docx ``src`` as LibreOffice writes it (not finished) to ``out``."""


class Converter(LibreOffice):
    """A warm LibreOffice (unoserver) that converts documents to PDF; use as a context manager.

    The server starts with the first office document, so PDFs and images convert even
    where LibreOffice is not installed. One thread at a time. ``timeout`` is the seconds
    one conversion may take, ``memory_limit`` the bytes of address space LibreOffice may
    use, ``restart_after`` the conversions after which it is replaced by a fresh one.
    Its profile and temporary files live in ``workdir`` (default: the run's own
    temporary folder, ``runtemp.run_dir``).
    """

    def __enter__(self) -> Converter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def to_pdf(self, src: Path, dst: Path, *, pdfa: bool = True, title: str | None = None,
               when: date | None = None) -> Path:
        """Convert ``src`` to the PDF ``dst`` and return ``dst``.

        ``pdfa`` makes office documents PDF/A-2b (they are always tagged); images and
        PDFs are not PDF/A. ``title`` replaces the PDF's title; by default an office
        document keeps the title from its properties and an image gets its file name.
        ``when`` dates the PDF (see ``document_time``); the same input gives the same bytes.
        A PDF is copied as it is.
        """
        src, dst = Path(src), Path(dst)
        ext = src.suffix.lower()
        if ext not in ACCEPTED:
            raise ConversionError(
                f"Filformatet '{src.suffix or '(ingen filändelse)'}' kan inte göras om till PDF. "
                f"Godkända format: {', '.join(ACCEPTED)}. Spara filen i något av dem och försök igen.",
                file=src)
        if not src.is_file():
            raise ConversionError("Filen finns inte. Kontrollera sökvägen och filnamnet.", file=src)
        if ext == ".pdf":
            with atomic_path(dst) as tmp:
                shutil.copyfile(src, tmp)
                check_is_pdf(tmp, src)
            return dst
        # All the work in the run's temporary folder: a killed run leaves nothing beside dst.
        with tempfile.TemporaryDirectory(prefix="doc-", dir=self._base_dir()) as work:
            made = Path(work) / "made.pdf"
            if ext in IMAGE_SUFFIXES:
                image_to_pdf(src, made, title or src.stem)
            else:
                self._office_to_pdf(src, Path(work), made, OFFICE_FORMATS[ext], pdfa)
            check_is_pdf(made, src)
            try:
                finish_converted(made, dst, src=src, conform=pdfa and ext in OFFICE_FORMATS, title=title, when=when)
            except (BeslutError, OSError):
                raise
            except Exception as e:  # pikepdf or the validator on what LibreOffice made of the file
                raise ConversionError(
                    f"PDF-filen som gjordes av filen gick inte att läsa ({type(e).__name__}). {RESAVE_HINT}",
                    file=src) from e
        return dst

    def export_pdf(self, src: Path, out: Path, *, options: tuple[str, ...] = ()) -> Path:
        """Write the .docx ``src`` as LibreOffice exports it (tagged PDF/A-2b, not finished) to ``out``.

        ``options`` are extra export filter options ("Name=value"). For a document beslut
        made itself and finishes in pieces (``letterbatch``); anything else goes through
        ``to_pdf``. Such a document has no table of contents or other index to update
        (unoserver's update lays the whole document out twice more).
        """
        src, out = Path(src), Path(out)
        with tempfile.TemporaryDirectory(prefix="doc-", dir=self._base_dir()) as work:
            self._office_to_pdf(src, Path(work), out, OFFICE_FORMATS[src.suffix.lower()], True, options,
                                update_index=False)
        check_is_pdf(out, src)
        return out

    def _office_to_pdf(self, src: Path, work: Path, out: Path, fmt: OfficeFormat, pdfa: bool,
                       options: tuple[str, ...] = (), update_index: bool = True) -> None:
        """Convert a copy of ``src`` without outside links; retry once on a fresh LibreOffice."""
        check_container(src, fmt)
        # LibreOffice never sees (or locks) the original; the copy keeps its name, which
        # FILENAME fields and &F headers print.
        (work / "fil").mkdir()
        copy = work / "fil" / src.name
        copy_office_file(src, copy)
        timeout = conversion_timeout(copy, self.timeout)
        failure: Exception | None = None
        for _ in range(2):
            try:
                # Only text documents have indexes (tables of contents) to update; for a
                # spreadsheet or a deck the update is only two more layouts.
                self._convert_once(copy, out, fmt, pdfa, src, options, update_index and fmt.kind in TEXT_KINDS,
                                   timeout)
                return
            except ConversionError:
                self._check_temp_space("LibreOffice kunde inte göra om filen")
                raise
            except (LibreOfficeDied, LibreOfficeHung) as e:
                self._check_temp_space("LibreOffice kunde inte göra om filen")
                failure = e  # the server is gone: the next attempt gets a fresh LibreOffice
        if isinstance(failure, LibreOfficeHung):
            raise ConversionError(
                f"LibreOffice blev inte klart inom {timeout:g} sekunder, två gånger (andra gången i "
                "en nystartad LibreOffice), och avbröts. Filen är troligen mycket stor eller gjord så att "
                f"LibreOffice fastnar. {RESAVE_HINT}", file=src) from failure
        raise ConversionError(
            "LibreOffice kraschade på filen två gånger (andra gången i en nystartad LibreOffice). Filen är "
            f"troligen skadad, eller behöver mer än {self.memory_limit / 1024**3:g} GiB minne. {RESAVE_HINT}",
            file=src) from failure


def finish_converted(made: Path, dst: Path, *, src: Path, conform: bool, title: str | None = None,
                     when: date | None = None) -> None:
    """Write the PDF LibreOffice ``made`` of ``src`` to ``dst``: dated, /ID from content, and conforming.

    ``conform`` adds PDF/A-2a and PDF/UA-1 where the validator agrees (``make_conformant``).
    """
    # Imported here: a command line run imports this module to start LibreOffice early,
    # before the PDF tools (pikepdf, the validator) are needed.
    from .conformance import make_conformant
    from .pdfmeta import document_time, finish_pdf

    with tempfile.TemporaryDirectory(prefix="fin-", dir=made.parent) as work:
        final = Path(work) / "final.pdf"
        finish_pdf(made, final, title=title, when=document_time(src, when), src=src)
        if conform:
            make_conformant(final)  # PDF/A-2a and PDF/UA-1 where the validator agrees
        with atomic_path(dst) as tmp:
            shutil.copyfile(final, tmp)
