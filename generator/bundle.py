"""Bundling the beslutsunderlag and its bilagor into one handlingar.pdf.

``write_bundle`` is the last stage of the pipeline. It checks every part first (``bundleparts``),
so a broken bilaga stops the run before anything is written, then appends the parts in order,
gives each one an outline item, page labels ("Bilaga 1:1", "Bilaga 1:2" …) and a small stamp
("Bilaga 1") at the visual top right of every page, and writes the file atomically.

Each part is read by ``bundleparts`` (checked, repaired, cleaned, opened); its pages are
made A4 and stamped by ``pagegeometry``. This module puts them together and writes the file.

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

import io
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.constants import PageLabelStyle
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ByteStringObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from .bundleparts import BundlePart, PartsAhead, check_syntax, make_part_error, read_part
from .conformance import claim_pdfua
from .errors import BeslutError, BundleError, EnvironmentProblem, describe_os_error
from .files import atomic_path
from .pagegeometry import Overlays, fit_to_a4, make_overlays, stamp_page
from .pdfmeta import content_id, document_time, pdf_date
from .tags import BundleStructure, is_tagged


class BundleWarnings(list):
    """The Swedish warnings of ``write_bundle`` (a list of str), with what was cleaned per part."""

    cleaned: list[dict]
    """One entry per part that had active content removed: {'del', 'fil', 'borttaget', …}."""
    pdfua: bool = False
    """True when handlingar.pdf passed PDF/UA-1 and claims it."""
    failures: list[tuple[str, str]]
    """The PDF/UA-1 rules handlingar.pdf fails (rule id, message); [] when it passes."""


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
