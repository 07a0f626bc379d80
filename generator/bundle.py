"""Bundling the beslutsunderlag and its bilagor into one handlingar.pdf.

``write_bundle`` is the last stage of the pipeline. It checks every part first (``check_pdf``),
so a broken bilaga stops the run before anything is written, then appends the parts in order,
gives each one an outline item, page labels ("Bilaga 1:1", "Bilaga 1:2" …) and a small stamp
("Bilaga 1") at the visual top right of every page, and writes the file atomically.

Every page is A4 (``fit_to_a4``): a page of another size (US Letter, a slide, A3) is
scaled to fit A4 in its own orientation, portrait into 595 x 842 pt, landscape into
842 x 595, centred, before it is stamped; its links move with it.

When every part is tagged, so is the bundle (``tags.BundleStructure``); the stamps are
pagination artifacts drawn into each page's content stream (no marked content, no shared
Form XObject). The bundle gets XMP metadata with its title and claims PDF/UA-1 only when
``page-validation`` passes it (``conformance.claim_pdfua``); ``accessibility`` explains
why it does not.

The bundle makes no PDF/A claim, even when the first part is PDF/A: the bilagor appended to it
are arbitrary PDFs (untagged, fonts not necessarily embedded), so a claim would be false. The
bundle is built in a fresh writer and the catalog's XMP metadata (where ``pdfaid`` lives) and
output intents of the parts are never copied.
"""

from __future__ import annotations

import contextlib
import decimal
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NamedTuple, cast

import pikepdf
from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.constants import PageLabelStyle
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ByteStringObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from .bilagor import bilaga_name
from .conformance import claim_pdfua
from .errors import BeslutError, BundleError, EnvironmentProblem, describe_os_error
from .files import atomic_path
from .officefile import count_comments
from .pdfmeta import content_id, document_time, pdf_date
from .runtemp import run_dir
from .sanitize import Cleaned, sanitize_pdf
from .stampfont import register_stamp_font, without_null_mappings
from .tags import BundleStructure, is_tagged

STAMP_SIZE = 10.0
"""Font size of the stamp in points."""
STAMP_MARGIN = 28.35
"""Distance of the stamp's box from the top and right edges of the page (1 cm)."""
STAMP_PADDING = 3.0
"""White space between the stamp text and its box."""
A4 = (595.276, 841.89)
"""Width and height of an A4 page in points."""
A4_TOLERANCE = 2.0
"""Pages within this many points of A4 are left as they are."""

Overlays = dict[str, PageObject]
"""Stamp overlays by text, each an A4 page (``make_overlays``)."""


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


class BundleWarnings(list):
    """The Swedish warnings of ``write_bundle`` (a list of str), with what was cleaned per part."""

    cleaned: list[dict]
    """One entry per part that had active content removed: {'del', 'fil', 'borttaget', …}."""
    pdfua: bool = False
    """True when handlingar.pdf passed PDF/UA-1 and claims it."""
    failures: list[tuple[str, str]]
    """The PDF/UA-1 rules handlingar.pdf fails (rule id, message); [] when it passes."""


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


def write_bundle(
    parts: list[BundlePart], out_path: Path, *, title: str, language: str = "sv-SE",
    when: date | None = None, ahead: PartsAhead | None = None,
) -> BundleWarnings:
    """Check and clean every part, then write the bundle atomically; return Swedish warnings.

    The bundle is written to a temporary file in the same folder, then moved over
    ``out_path`` with ``os.replace``. Nothing is written before every part has passed
    ``check_pdf``; on any error a previous bundle at ``out_path`` is left as it was.
    The warnings' ``cleaned`` says what ``sanitize_pdf`` removed from which part.
    The bundle is dated ``when``, else like its first part (the paper, dated from its
    utfärdat), else from SOURCE_DATE_EPOCH; its /ID is computed from its content, so the
    same parts give the same bytes. See the module docstring on PDF/A. Parts in ``ahead``
    were read already.
    """
    if not parts:
        raise BundleError("handlingar.pdf får inga delar. Ange minst beslutsunderlaget.", file=out_path)
    checked = [(ahead and ahead.take(part)) or read_part(part) for part in parts]
    writer = PdfWriter()
    structure = BundleStructure(writer) if all(is_tagged(c.reader) for c in checked) else None
    overlays = make_overlays([part.stamp for part in parts if part.stamp])
    for part, (reader, _, _) in zip(parts, checked, strict=True):
        try:
            first = len(writer.pages)
            append_part(writer, part, reader, overlays)
            if structure is not None:
                structure.add_part(reader, first, part.bookmark)
        except BundleError:
            raise
        except Exception as e:  # pypdf on a file it read but cannot copy
            advice = "Exportera bilagan som PDF på nytt från originalet."
            raise make_part_error(part, "PDF-filen kunde inte kopieras", advice) from e
    if structure is not None:
        structure.finish(language)
    set_document_info(writer, title, language, bundle_date(checked[0].reader, when))
    writer.root_object.pop(NameObject("/AcroForm"), None)  # every form was flattened (sanitize_pdf)
    try:
        keep_marked_forms_apart(writer)
        writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
        failures = write_atomically(writer, out_path, title)
    except (BeslutError, OSError):  # ours (a disk that is full is the machine's: EnvironmentProblem)
        raise
    except Exception as e:  # pypdf or pikepdf on an object of a part that read fine but will not write
        raise BundleError(
            "handlingar.pdf kunde inte skrivas: en av delarna innehåller något som inte gick att skriva ut "
            f"igen ({type(e).__name__}). Bygg med en bilaga i taget för att hitta den, och exportera den "
            "bilagan som PDF på nytt från originalet.", file=out_path) from e
    warnings = BundleWarnings(warning for c in checked for warning in c.warnings)
    warnings.pdfua, warnings.failures = not failures, failures
    warnings.cleaned = [{"del": part.name, "fil": str(part.user_file), **c.cleaned.as_dict()}
                        for part, c in zip(parts, checked, strict=True) if c.cleaned]
    untagged = [part.bookmark for part, c in zip(parts, checked, strict=True) if not is_tagged(c.reader)]
    if untagged:
        warnings.append(
            "handlingar.pdf blir inte taggad (läsbar för skärmläsare), eftersom dessa delar saknar "
            f"taggar: {'; '.join(untagged)}. Ska handlingarna publiceras, be om en tillgänglig "
            "(taggad) PDF eller lägg in bilagan i Word-format, som görs om till taggad PDF."
        )
    return warnings


def append_part(writer: PdfWriter, part: BundlePart, reader: PdfReader, overlays: Overlays) -> None:
    """Append one part's pages with its outline item, page labels and stamp."""
    first = len(writer.pages)
    resolve_named_links(reader)
    writer.append(reader, import_outline=False)
    last = len(writer.pages) - 1
    writer.add_outline_item(title=part.bookmark, page_number=first)
    writer.set_page_label(first, last, style=PageLabelStyle.DECIMAL, prefix=part.label, start=1)
    for page in writer.pages[first : last + 1]:
        fit_to_a4(page)
        if part.stamp:
            stamp_page(page, part.stamp, overlays)


def fit_to_a4(page: PageObject) -> None:
    """Scale ``page`` to fit A4 in its visual orientation, centred; leave an A4 page alone.

    What the viewer showed (the cropbox) is clipped, scaled and centred on a new A4
    mediabox; /Rotate stays, so a page shown landscape is still shown landscape. Link and
    other annotation rectangles move with the content.
    """
    left, bottom, right, top = get_visible_box(page)
    width, height = right - left, top - bottom
    rotated = (round(page.rotation / 90) % 2) == 1
    visual_landscape = (height > width) if rotated else (width > height)
    target = (A4[1], A4[0]) if visual_landscape else A4
    if rotated:
        target = (target[1], target[0])  # the unrotated page is the other way round
    if abs(width - target[0]) <= A4_TOLERANCE and abs(height - target[1]) <= A4_TOLERANCE and left == bottom == 0:
        return
    scale = min(target[0] / width, target[1] / height)
    dx = (target[0] - width * scale) / 2 - left * scale
    dy = (target[1] - height * scale) / 2 - bottom * scale
    detach_contents(page)
    contents = page.get_contents()
    if contents is not None:
        prefix = (f"q {scale:.6f} 0 0 {scale:.6f} {dx:.4f} {dy:.4f} cm "
                  f"{left:.4f} {bottom:.4f} {width:.4f} {height:.4f} re W n\n").encode()
        contents.set_data(prefix + contents.get_data() + b"\nQ\n")
        page.replace_contents(contents)
    box = ArrayObject([NumberObject(0), NumberObject(0), FloatObject(round(target[0], 3)),
                       FloatObject(round(target[1], 3))])
    page[NameObject("/MediaBox")] = box
    for key in ("/CropBox", "/TrimBox", "/BleedBox", "/ArtBox"):
        page.pop(NameObject(key), None)

    def move(values):
        return [FloatObject(round(float(v) * scale + (dx if i % 2 == 0 else dy), 4)) for i, v in enumerate(values)]

    for ref in page.get("/Annots") or []:
        annot = ref.get_object()
        if isinstance(annot, DictionaryObject) and "/Rect" in annot:
            annot[NameObject("/Rect")] = ArrayObject(move(annot["/Rect"]))
            if "/QuadPoints" in annot:
                annot[NameObject("/QuadPoints")] = ArrayObject(move(annot["/QuadPoints"]))


def keep_marked_forms_apart(writer: PdfWriter) -> None:
    """Mark each Form XObject with marked content as its own, so deduplication keeps it apart.

    LibreOffice Impress draws each slide's pictures through Form XObjects holding an MCID;
    byte-identical ones on different slides would otherwise be merged into one object used
    on many pages, which PDF/UA forbids (its place in the structure tree is not unique).
    """
    number = 0
    for page in writer.pages:
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else None
        xobjects = resources.get("/XObject") if isinstance(resources, DictionaryObject) else None
        xobjects = xobjects.get_object() if xobjects is not None else None
        for ref in (xobjects.values() if isinstance(xobjects, DictionaryObject) else []):
            form = ref.get_object()
            if (isinstance(form, StreamObject) and form.get("/Subtype") == "/Form"
                    and "/BeslutForm" not in form and b"/MCID" in form.get_data()):
                number += 1
                form[NameObject("/BeslutForm")] = NumberObject(number)


def resolve_named_links(reader: PdfReader) -> None:
    """Turn named link targets into explicit ones, so links keep pointing into their own part.

    pypdf keeps only the first of equal names across parts: two pdflatex bilagor both have
    "section.1", and the second one's links would jump into the first bilaga.
    """
    named = reader.named_destinations
    if not named:
        return
    for page in reader.pages:
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            if not isinstance(annot, DictionaryObject) or annot.get("/Subtype") != "/Link":
                continue
            action = annot.get("/A")
            action = action.get_object() if action is not None else None
            if isinstance(action, DictionaryObject) and action.get("/S") == "/GoTo":
                target, key = action, "/D"
            else:
                target, key = annot, "/Dest"
            name = target.get(key)
            if isinstance(name, str) and str(name) in named:
                target[NameObject(key)] = ArrayObject(named[str(name)].dest_array)


def stamp_page(page: PageObject, text: str, overlays: Overlays) -> None:
    """Stamp ``text`` at the visual top right of ``page``, whatever its cropbox and /Rotate."""
    left, bottom, right, top = get_visible_box(page)
    width, height = right - left, top - bottom
    rotation = (round(page.rotation / 90) * 90) % 360
    # The overlay is drawn in visual coordinates; map its origin (visual bottom left) to the
    # corner of the cropbox that the viewer shows at the bottom left.
    origin = {0: (left, bottom), 90: (right, bottom), 180: (right, top), 270: (left, top)}[rotation]
    visual = (width, height) if rotation in (0, 180) else (height, width)
    # The overlay is A4 with the stamp at its top right; move it to this page's top right.
    transformation = Transformation().translate(visual[0] - A4[0], visual[1] - A4[1])
    transformation = transformation.rotate(rotation).translate(*origin)
    detach_contents(page)
    page.merge_transformed_page(overlays[text], transformation, over=True)
    page.compress_content_streams()


def get_visible_box(page: PageObject) -> tuple[float, float, float, float]:
    """Return (left, bottom, right, top) of what a viewer shows: the cropbox within the mediabox."""
    edges = []
    for box in (page.cropbox, page.mediabox):
        xs = sorted((float(box.left), float(box.right)))
        ys = sorted((float(box.bottom), float(box.top)))
        edges.append((xs[0], ys[0], xs[1], ys[1]))
    (l1, b1, r1, t1), (l2, b2, r2, t2) = edges
    visible = (max(l1, l2), max(b1, b2), min(r1, r2), min(t1, t2))
    return visible if visible[0] < visible[2] and visible[1] < visible[3] else edges[1]


def detach_contents(page: PageObject) -> None:
    """Give ``page`` a content stream of its own before it is changed.

    Pages may share one content stream (habibi-rotated.pdf: four pages, one stream, four
    rotations). pypdf's merge writes the merged content back into the shared object, so
    without this every page sharing it would carry every other page's stamp.
    """
    contents = page.get_contents()
    if contents is not None:
        del page[NameObject("/Contents")]
        page.replace_contents(contents)


def make_overlays(texts: list[str]) -> Overlays:
    """Return, per text, a transparent A4 page with ``text`` in a white box at the top right.

    The pages are made as one document, so every stamp uses one subset of the font (reportlab
    makes a subset per document, and that is most of the cost of a stamp).
    """
    font = register_stamp_font()
    face = cast(TTFont, pdfmetrics.getFont(font)).face  # registered as a TTFont; the stubs say Font
    ascent, descent = face.ascent * STAMP_SIZE / 1000, face.descent * STAMP_SIZE / 1000
    width, height = A4
    unique = list(dict.fromkeys(texts))
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=1, pageCompression=1)
    for text in unique:
        text_width = pdfmetrics.stringWidth(text, font, STAMP_SIZE)
        box_width = text_width + 2 * STAMP_PADDING
        box_height = ascent - descent + 2 * STAMP_PADDING
        x = width - STAMP_MARGIN - box_width
        y = height - STAMP_MARGIN - box_height
        # A pagination artifact: screen readers skip it (the part's title is in the tags).
        c.addLiteral("/Artifact <</Type /Pagination /Subtype /Header>> BDC")
        c.setFillColorRGB(1, 1, 1)
        c.setStrokeColorRGB(0.35, 0.35, 0.35)
        c.setLineWidth(0.5)
        c.rect(x, y, box_width, box_height, stroke=1, fill=1)
        c.setFillColorRGB(0, 0, 0)
        c.setFont(font, STAMP_SIZE)
        c.drawString(x + STAMP_PADDING, y + STAMP_PADDING - descent, text)
        c.addLiteral("EMC")
        c.showPage()
    c.save()
    pages = list(PdfReader(out).pages) if unique else []
    fonts = {font.idnum: font.get_object() for overlay in pages  # one font object, shared by the pages
             for font in cast(DictionaryObject, cast(DictionaryObject, overlay["/Resources"])["/Font"]).values()}
    for font_object in fonts.values():
        drop_null_unicode(font_object)
    return dict(zip(unique, pages, strict=True))


def drop_null_unicode(font: DictionaryObject) -> None:
    """Remove the ToUnicode entries reportlab maps to U+0000 (codes 0-31), which PDF/UA forbids."""
    cmap = font.get("/ToUnicode")
    if cmap is not None:
        cmap = cmap.get_object()
        cmap.set_data(without_null_mappings(cmap.get_data()))


def bundle_date(first: PdfReader, when: date | None) -> str | None:
    """Return the bundle's PDF date: ``when``, the first part's creation date, or SOURCE_DATE_EPOCH."""
    if when is not None:
        return pdf_date(document_time(Path("."), when))
    metadata = first.metadata
    created = metadata.get("/CreationDate") if metadata is not None else None
    if isinstance(created, str) and re.fullmatch(r"D:\d{14}.*", created):
        return created
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return pdf_date(datetime.fromtimestamp(int(epoch), UTC)) if epoch.isdigit() else None


def set_document_info(writer: PdfWriter, title: str, language: str, created: str | None = None) -> None:
    """Set the title, dates, language and opening view (outline shown) of the bundle."""
    writer.add_metadata({"/Title": title, "/Creator": "beslut"})
    if created:
        writer.add_metadata({"/CreationDate": created, "/ModDate": created})
    root = writer.root_object
    root[NameObject("/Lang")] = TextStringObject(language)
    root[NameObject("/ViewerPreferences")] = DictionaryObject(
        {NameObject("/DisplayDocTitle"): BooleanObject(True)}
    )
    writer.page_mode = "/UseOutlines"
    for key in ("/Metadata", "/OutputIntents"):  # no PDF/A claim, see the module docstring
        root.pop(NameObject(key), None)


ID_PLACEHOLDER = b"beslut:id:000000"


def with_content_id(writer: PdfWriter) -> bytes:
    """Return the written PDF with a document /ID computed from its bytes (pypdf writes none).

    Written once with a placeholder /ID, whose hex digits in the trailer are then replaced
    by the MD5 of that output: the same content gives the same /ID.
    """
    writer._ID = ArrayObject([ByteStringObject(ID_PLACEHOLDER), ByteStringObject(ID_PLACEHOLDER)])
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    placeholder = ID_PLACEHOLDER.hex().encode()
    digest = content_id(data).hex().encode()
    head, sep, trailer = data.rpartition(b"trailer")
    if not sep or trailer.count(placeholder) != 2:
        raise ValueError("pypdf wrote the /ID where it was not expected")
    return head + sep + trailer.replace(placeholder, digest)


def write_atomically(writer: PdfWriter, out_path: Path, title: str) -> list[tuple[str, str]]:
    """Write the bundle beside ``out_path``, claim PDF/UA-1 if it passes, and rename it into place.

    Return the PDF/UA-1 failures ([] when it passes and claims it).
    """
    try:
        with atomic_path(out_path) as tmp:
            tmp.write_bytes(with_content_id(writer))
            failures = claim_pdfua(tmp, title=title)
            errors = [p for p in check_syntax(tmp.read_bytes()) if p.startswith("ERROR")]
            if errors:
                raise BundleError(
                    "handlingar.pdf blev skadad när den sattes ihop (qpdf --check: "
                    f"{errors[0].removeprefix('ERROR: ')}), så den skrevs inte. Det är troligen en bilaga "
                    "som är skadad på ett sätt som inte märktes förut: bygg med en bilaga i taget för att "
                    "hitta den, och be om en ny PDF-fil av den.", file=out_path)
            return failures
    except OSError as e:
        raise EnvironmentProblem(f"handlingar.pdf kunde inte skrivas: {describe_os_error(e)}",
                                 file=out_path) from e
