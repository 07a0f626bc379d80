"""One part of handlingar.pdf read for bundling: checked, repaired where qpdf can, cleaned, opened.

``BundlePart`` is the beslutsunderlag or one bilaga as a PDF. ``check_pdf`` checks one
(the web page checks a bilaga when it is added); ``read_part`` is what ``bundle.write_bundle``
reads every part with, and ``PartsAhead`` reads them in a thread ahead of it. A part that
cannot go in raises a BundleError naming the part, its file, the problem and what to do.

PDFs are read as qpdf repairs them: pikepdf's ``check_pdf_syntax`` first (``kept_streams``
guards ``sys.stderr`` around it), the ``qpdf`` program where pikepdf's own gives up
(``rewrite_with_qpdf``), page boxes and annotations pypdf trips over removed
(``repair_pages``), then ``sanitize.sanitize_pdf`` takes out active content.

``check_pdf_syntax`` decodes every stream, JBIG2 images (scanned documents) with the
``jbig2dec`` program; without it they are not checked but still bundled as they are. This
module makes pikepdf run jbig2dec with a memory limit and a timeout (``bounded_jbig2dec``):
a JBIG2 bomb (a few KB that claim a 100 000-row page) took jbig2dec past 1.7 GB unbounded;
now its decoding fails at once and qpdf reports the stream as damaged.
"""

from __future__ import annotations

import contextlib
import decimal
import io
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pikepdf
import pikepdf.jbig2
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from .bilagor import bilaga_name
from .errors import BundleError
from .officefile import count_comments
from .pagegeometry import A4
from .runtemp import run_dir
from .sanitize import Cleaned, sanitize_pdf

JBIG2_MEMORY = 256 * 1024 * 1024
"""Most bytes jbig2dec may allocate for one image (an A4 page at 1200 dpi needs 17 MB)."""
JBIG2_TIMEOUT = 60.0
"""Seconds jbig2dec may take to decode one image."""


def bounded_jbig2dec(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run jbig2dec as pikepdf asks, within ``JBIG2_MEMORY`` and ``JBIG2_TIMEOUT``.

    A decoding past either fails as jbig2dec failing (``CalledProcessError``), which qpdf
    reports as a stream it could not decode.
    """
    if "--embedded" in args:
        args = [args[0], "-M", str(JBIG2_MEMORY), *args[1:]]
    try:
        return subprocess.run(args, timeout=JBIG2_TIMEOUT, **kwargs)
    except subprocess.TimeoutExpired as e:
        raise subprocess.CalledProcessError(-9, args, stderr=b"timed out") from e


pikepdf.jbig2.set_decoder(pikepdf.jbig2.JBIG2Decoder(subprocess_run=bounded_jbig2dec))


@dataclass(frozen=True)
class BundlePart:
    """One part of handlingar.pdf: the beslutsunderlag or one bilaga, already as PDF."""

    pdf: Path
    bookmark: str
    label: str | None
    stamp: str | None
    source: Path | None = None
    nummer: int | None = None

    @property
    def name(self) -> str:
        """Return how messages name this part, e.g. 'Bilaga 1 – Presentationsmaterial'."""
        if self.nummer is None or self.bookmark.startswith(bilaga_name(self.nummer)):
            return self.bookmark
        prefix = bilaga_name(self.nummer)
        return f"{prefix} – {self.bookmark}"

    @property
    def user_file(self) -> Path:
        """Return the file the user knows: the original if given, else the PDF."""
        return self.source or self.pdf


def make_part_error(part: BundlePart, problem: str, advice: str) -> BundleError:
    """Return a BundleError naming the part, its file, the problem and what to do."""
    converted = f" (PDF-filen: {part.pdf})" if part.source and part.source != part.pdf else ""
    return BundleError(
        f"{part.name} kan inte läggas i handlingar.pdf: {problem}{converted}. {advice}",
        file=part.user_file,
    )


def check_pdf(part: BundlePart) -> list[str]:
    """Validate one input PDF before bundling; return Swedish warnings; raise BundleError for bad input."""
    return read_part(part).warnings


class CheckedPart(NamedTuple):
    """One part checked and cleaned, ready to be appended."""

    reader: PdfReader
    warnings: list[str]
    cleaned: Cleaned
    """What ``sanitize.sanitize_pdf`` removed (JavaScript, attachments …); empty if nothing."""


def read_part(part: BundlePart) -> CheckedPart:
    """Check ``part.pdf``, remove its active content, and return it opened for bundling.

    pypdf alone misses damage (a corrupt content stream is copied silently) and refuses
    much that qpdf repairs (broken xref tables, null objects), so the file is first opened
    and checked with pikepdf the way ``qpdf --check`` does. If that finds anything, pypdf
    gets the file as qpdf rewrites it (page boxes that are not four numbers dropped), which
    is checked again: errors left reject the file, warnings left are said as such, and
    only a clean rewrite is "rättades automatiskt". Then ``sanitize_pdf`` removes
    JavaScript, attachments, forms and the like, with a warning naming what went; the
    comments taken out of an office bilaga before conversion are counted with them.
    """
    data = read_pdf_bytes(part)
    warnings: list[str] = []
    rewritten = False
    try:
        pikepdf.open(io.BytesIO(data)).close()
    except pikepdf.PasswordError:
        pass  # said below
    except Exception:  # noqa: BLE001 -- the qpdf of pikepdf gave up: the qpdf program may recover more
        rewritten_data = rewrite_with_qpdf(data)
        if rewritten_data is not None:
            data, rewritten = rewritten_data, True
    try:
        with kept_streams(), pikepdf.open(io.BytesIO(data)) as pdf:
            problems = pdf.check_pdf_syntax()
            page_count = len(pdf.pages)
            if pdf.is_encrypted:
                warnings.append(
                    f"{part.name} ({part.user_file}): PDF-filen har behörighetsbegränsningar "
                    "(till exempel mot utskrift, kopiering eller ändring). Begränsningarna följer "
                    "inte med i handlingar.pdf. Kontrollera att bilagan får spridas utan dem."
                )
            boxes = repair_pages(pdf)
            cleaned = sanitize_pdf(pdf)
            comments = count_comments(part.source) if part.source is not None else 0
            if comments:
                cleaned.removed["comment"] += comments
            if cleaned:
                warnings.append(f"{part.name} ({part.user_file}): {cleaned.describe()}.")
            repaired = bool(problems) or boxes or rewritten
            if pdf.is_encrypted or cleaned or repaired:
                data = save_unencrypted(pdf)  # qpdf writes a new xref and the objects it recovered
    except pikepdf.PasswordError as e:
        raise make_part_error(
            part,
            "PDF-filen är lösenordsskyddad och kan inte öppnas utan lösenord",
            "Be avsändaren om en version utan lösenord, eller öppna filen och spara en kopia "
            "utan lösenordsskydd.",
        ) from e
    except Exception as e:  # pikepdf raises several types for damaged files
        raise make_damaged_error(part) from e
    if repaired:
        remaining = check_syntax(data)  # the repaired file, as it goes into the bundle
        errors = [p for p in remaining if p.startswith("ERROR")]
        if errors:
            raise make_damaged_error(part, errors[0])
        if remaining:
            warnings.append(
                f"{part.name} ({part.user_file}): PDF-filen har fel som inte gick att rätta helt "
                f"({len(remaining)} st). Kontrollera att bilagans sidor ser rätt ut i handlingar.pdf, "
                "eller be om en ny PDF-fil."
            )
        else:
            warnings.append(
                f"{part.name} ({part.user_file}): PDF-filen hade fel som rättades automatiskt (med qpdf). "
                "Kontrollera att bilagans sidor ser rätt ut i handlingar.pdf."
            )
    reader = open_reader(part, data, page_count)
    return CheckedPart(reader, warnings, cleaned)


class PartsAhead:
    """Bundle parts read in a thread ahead of the bundle, e.g. while LibreOffice starts.

    Each part is read as ``write_bundle`` reads it (``read_part``: checked, cleaned,
    opened) and every object of it parsed, so that the bundle itself only copies. A part
    that fails here is simply read again by ``write_bundle``, which reports the problem.
    Each read part is handed out once (``take``): pypdf readers are changed by bundling.
    """

    def __init__(self, parts: list[BundlePart]):
        self._read: dict[BundlePart, CheckedPart] = {}
        self._thread = threading.Thread(target=self._read_all, args=(parts,), daemon=True)
        self._thread.start()

    def _read_all(self, parts: list[BundlePart]) -> None:
        for part in parts:
            try:
                checked = read_part(part)
                reader = checked.reader
                numbers = [(num, gen) for gen, table in reader.xref.items() for num in table]
                numbers += [(num, 0) for num in reader.xref_objStm]
                for num, gen in numbers:
                    reader.get_object(IndirectObject(num, gen, reader))
            except Exception:  # noqa: BLE001 -- write_bundle reads it again and reports
                continue
            self._read[part] = checked

    def take(self, part: BundlePart) -> CheckedPart | None:
        """Return ``part`` as read ahead (waiting for the reading to end), or None."""
        self._thread.join()
        return self._read.pop(part, None)


@contextlib.contextmanager
def kept_streams():
    """Restore ``sys.stdout`` and ``sys.stderr`` after the block, whatever it did to them.

    pikepdf's ``check_linearization`` (run by ``check_pdf_syntax`` on a linearized file)
    leaves ``sys.stderr`` pointing at its own StringIO: every later warning would be lost.
    """
    out, err = sys.stdout, sys.stderr
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def check_syntax(data: bytes) -> list[str]:
    """Return what ``qpdf --check`` finds in the PDF ``data`` ("ERROR: …", "WARNING: …"); [] if nothing."""
    try:
        with kept_streams(), pikepdf.open(io.BytesIO(data)) as pdf:
            return pdf.check_pdf_syntax()
    except Exception as e:  # noqa: BLE001 -- pikepdf raises several types for damaged files
        return [f"ERROR: {e}"]


QPDF_TIMEOUT = 60.0
"""Seconds the qpdf program may take to rewrite one damaged PDF."""


def rewrite_with_qpdf(data: bytes) -> bytes | None:
    """Return the PDF ``data`` as the ``qpdf`` program rewrites it, or None if it cannot.

    pikepdf's own qpdf (12.x) gives up on some damaged files that the qpdf program of the
    system (11.x, Debian 12) recovers with warnings (a missing trailer, a /Length that is
    not a number): about 1 in 200 of pdf.js's test files.
    """
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        return None
    with tempfile.TemporaryDirectory(prefix="qpdf-", dir=run_dir()) as work:
        src, dst = Path(work) / "in.pdf", Path(work) / "out.pdf"
        src.write_bytes(data)
        try:
            done = subprocess.run([qpdf, "--no-warn", str(src), str(dst)], capture_output=True,
                                  timeout=QPDF_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode not in (0, 3) or not dst.is_file():  # 3: succeeded with warnings
            return None
        return dst.read_bytes()


PAGE_BOXES = ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox")


def repair_pages(pdf: pikepdf.Pdf) -> bool:
    """Repair what qpdf reads but pypdf trips over, in every page; return True if anything was.

    Page boxes that are not four numbers (a null, a damaged array) or enclose no area are
    removed (a missing /CropBox is the /MediaBox; a missing /MediaBox becomes A4, the page
    is scaled to A4 anyway, ``fit_to_a4``), and so are entries of /Annots that are not
    annotations (null, a number: a reference to an object that does not exist reads as null).
    """
    changed = False
    for pdf_page in pdf.pages:
        obj = pdf_page.obj
        for key in PAGE_BOXES:
            if key in obj and not _is_box(obj[key]):
                del obj[key]
                changed = True
        try:
            valid = _is_box(pdf_page.mediabox)
        except Exception:  # noqa: BLE001 -- a damaged inherited box
            valid = False
        if not valid:
            obj.MediaBox = pikepdf.Array([0, 0, A4[0], A4[1]])
            changed = True
        annots = obj.get("/Annots")
        if annots is not None and not isinstance(annots, pikepdf.Array):
            del obj["/Annots"]
            changed = True
        elif annots is not None and not all(isinstance(a, pikepdf.Dictionary) for a in annots):
            obj.Annots = pikepdf.Array([a for a in annots if isinstance(a, pikepdf.Dictionary)])
            changed = True
    return changed


def _is_box(box) -> bool:
    """Return True if ``box`` is a rectangle: four numbers enclosing some area."""
    if not (isinstance(box, pikepdf.Array) and len(box) == 4):
        return False
    values = list(box)
    if not all(isinstance(v, (int, float, decimal.Decimal)) and not isinstance(v, bool) for v in values):
        return False
    return abs(float(values[2]) - float(values[0])) >= 1 and abs(float(values[3]) - float(values[1])) >= 1


def read_pdf_bytes(part: BundlePart) -> bytes:
    """Return the bytes of ``part.pdf``; raise BundleError if it is missing, empty or no PDF."""
    path = part.pdf
    if not path.exists():
        advice = "Kontrollera sökvägen och att filen ligger på plats."
        raise make_part_error(part, "filen finns inte", advice)
    if not path.is_file():
        raise make_part_error(part, "sökvägen är en mapp, inte en fil", "Ange PDF-filen i stället.")
    data = path.read_bytes()
    if not data:
        advice = "Spara eller exportera bilagan som PDF på nytt."
        raise make_part_error(part, "filen är tom (0 byte)", advice)
    if data.startswith(b"PK"):
        raise make_part_error(
            part,
            "filen är inte en PDF utan ett Office-dokument eller en zip-fil",
            "Öppna filen i sitt program och spara eller exportera den som PDF.",
        )
    if b"%PDF-" not in data[:1024]:
        raise make_part_error(
            part,
            "filen är inte en PDF (den börjar inte med %PDF-)",
            "Öppna filen i sitt program och spara eller exportera den som PDF.",
        )
    return data


def make_damaged_error(part: BundlePart, detail: str = "") -> BundleError:
    """Return the BundleError for a PDF that is truncated or damaged."""
    page = re.match(r"ERROR: page (\d+):", detail)
    where = f"sidan {page[1]} är skadad" if page else "filen är skadad eller ofullständig"
    return make_part_error(
        part,
        f"PDF-filen kan inte läsas, {where}",
        "Hämta filen på nytt eller exportera den som PDF igen från originalet.",
    )


def save_unencrypted(pdf: pikepdf.Pdf) -> bytes:
    """Return an opened (owner-password-only) PDF as unencrypted bytes."""
    out = io.BytesIO()
    pdf.save(out, encryption=False)
    return out.getvalue()


def open_reader(part: BundlePart, data: bytes, page_count: int) -> PdfReader:
    """Open ``data`` with pypdf, touching every page so that damage shows now, not later."""
    try:
        reader = PdfReader(io.BytesIO(data))
        for page in reader.pages:
            _ = page.cropbox, page.rotation
        if len(reader.pages) != page_count:
            raise ValueError(f"pypdf reads {len(reader.pages)} pages, qpdf {page_count}")
    except Exception as e:  # pypdf raises anything up to UnicodeDecodeError on bad input
        raise make_damaged_error(part) from e
    return reader
