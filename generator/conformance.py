"""PDF/A-2a and PDF/UA-1 for the PDFs LibreOffice writes: finishing touches and an honest claim.

LibreOffice 7.4 writes tagged PDF/A-2b. What it lacks for PDF/A-2a and PDF/UA-1 at the same
time is small and mechanical, so ``make_conformant`` adds it after the export:

- the XMP metadata declares conformance level A and PDF/UA-1 (``pdfuaid:part``), with the
  extension schema PDF/A requires for the pdfuaid namespace (LibreOffice's own
  ``PDFUACompliance`` option leaves it out, which breaks PDF/A);
- the RoleMap loses the entries that map a standard type to itself (``/H1 /H1``), which
  validators count as circular;
- every page gets ``/Tabs /S`` (links in reading order), the catalog ``/MarkInfo
  /Marked true`` and ``/ViewerPreferences /DisplayDocTitle true``;
- the template's header block, a borderless table whose paragraphs have the style
  ``Sidhuvudtabell`` (LibreOffice writes the style name as the structure type), is a layout
  table: its Table/TR/TD elements become Div, so a screen reader does not announce a table.
  So is every one-cell table: the unbreakable blocks that keep the Bilagor list, the
  signatures and a short list with its intro on one page (``markdownwriter.keep_on_one_page``).

Then the file is checked with the independent validator ``page-validation``: a level is
claimed only when the file passes it (a bilaga made in Word with Symbol-font bullets or
images without alternative text stays PDF/A-2b and claims no PDF/UA).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import page
import pikepdf
from lxml import etree

from .files import save_pdf

LAYOUT_TABLE_STYLES = frozenset({"/Sidhuvudtabell"})
"""Paragraph styles that mark a table as layout (the template's header block)."""

_TABLE_TYPES = frozenset({"/Table", "/TR", "/TD", "/TH", "/THead", "/TBody", "/TFoot"})

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "pdfuaid": "http://www.aiim.org/pdfua/ns/id/",
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
    "dc": "http://purl.org/dc/elements/1.1/",
}

_PDFUA_EXTENSION = f"""
<rdf:Description rdf:about="" xmlns:rdf="{NS['rdf']}" xmlns:pdfaExtension="{NS['pdfaExtension']}"
    xmlns:pdfaSchema="{NS['pdfaSchema']}" xmlns:pdfaProperty="{NS['pdfaProperty']}">
 <pdfaExtension:schemas>
  <rdf:Bag>
   <rdf:li rdf:parseType="Resource">
    <pdfaSchema:namespaceURI>{NS['pdfuaid']}</pdfaSchema:namespaceURI>
    <pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
    <pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
    <pdfaSchema:property>
     <rdf:Seq>
      <rdf:li rdf:parseType="Resource">
       <pdfaProperty:name>part</pdfaProperty:name>
       <pdfaProperty:valueType>Integer</pdfaProperty:valueType>
       <pdfaProperty:category>internal</pdfaProperty:category>
       <pdfaProperty:description>Indicates, which part of ISO 14289 standard is followed</pdfaProperty:description>
      </rdf:li>
     </rdf:Seq>
    </pdfaSchema:property>
   </rdf:li>
  </rdf:Bag>
 </pdfaExtension:schemas>
</rdf:Description>
"""


@dataclass
class Conformance:
    """What a PDF claims after ``make_conformant``, and why it claims no more."""

    pdfa: str | None
    """The PDF/A level claimed ("2a", "2b") or None."""
    pdfua: bool
    """True when the PDF claims (and passes) PDF/UA-1."""
    failures: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """Per profile that failed ("2a", "ua1"): the validator's (rule id, message) pairs."""


VALIDATOR_KEY = f"page-validation {page.__version__}; beslut-validate-v1".encode()
"""Identifies what ``validate_pdf`` returns (the validator's version, and v1 for how it is read);
part of the key of every kept result (``cache.BilagaCache.failures_of``)."""


VALIDATOR_FAILED = "BESLUT-VALIDATOR-FAILED"
"""The rule id ``validate_pdf`` reports when the validator could not read the file at all."""


def validate_pdf(path: Path, profile: str) -> list[tuple[str, str]]:
    """Return the (rule id, message) pairs ``page-validation`` finds for ``profile``; [] passes.

    The validator's parser is stricter than qpdf's: on a file it cannot parse (``ParseError``,
    ``SafetyLimitError``) the file is validated again as qpdf rewrites it (what goes into
    handlingar.pdf is such a rewrite); if that fails too, the one failure ``VALIDATOR_FAILED``
    is returned, never the exception.
    """
    try:
        report = page.validate_pdf(str(path), profile=profile)
    except (page.PageError, OSError, ValueError):
        try:
            report = page.validate_pdf_bytes(_rewritten(path), profile=profile)
        except Exception as e:  # noqa: BLE001 -- pikepdf or the validator on a damaged file
            return [(VALIDATOR_FAILED, f"{type(e).__name__}: {e}")]
    if report.is_compliant:
        return []
    return [(f.rule_id, f.message) for f in report.failures] or [("?", "ej godkänd")]


def _rewritten(path: Path) -> bytes:
    """Return the PDF ``path`` as qpdf (pikepdf) writes it: a new xref, recovered objects."""
    import io
    import sys

    out, err = sys.stdout, sys.stderr
    try:
        with pikepdf.open(path) as pdf:
            buffer = io.BytesIO()
            pdf.save(buffer)
            return buffer.getvalue()
    finally:
        sys.stdout, sys.stderr = out, err


def make_conformant(path: Path, *, title: str | None = None) -> Conformance:
    """Finish a tagged PDF from LibreOffice in place and claim the PDF/A-2a and PDF/UA-1 it passes.

    A PDF that is not PDF/A, or not tagged, is left as it is.
    """
    path = Path(path)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        level = _pdfa_level(pdf)
        if level is None or "/StructTreeRoot" not in pdf.Root:
            return Conformance(pdfa=level, pdfua=False)
        fix_structure(pdf)
        no_cr_before_endstream(pdf)
        _write_claims(pdf, conformance="A", pdfua=True, title=title)
        save_pdf(pdf, path, deterministic_id=True)
    failures = {profile: validate_pdf(path, profile) for profile in ("2a", "ua1")}
    failures = {profile: found for profile, found in failures.items() if found}
    if failures:
        with pikepdf.open(path, allow_overwriting_input=True) as pdf:
            _write_claims(pdf, conformance="B" if "2a" in failures else "A",
                          pdfua="ua1" not in failures, title=title)
            save_pdf(pdf, path, deterministic_id=True)
    return Conformance(pdfa="2b" if "2a" in failures else "2a", pdfua="ua1" not in failures,
                       failures=failures)


def fix_structure(pdf: pikepdf.Pdf) -> None:
    """Fix the catalog, pages and structure tree of a tagged PDF for PDF/A-2a and PDF/UA-1."""
    root = pdf.Root
    struct_root = root.StructTreeRoot
    role_map = struct_root.get("/RoleMap")
    if role_map is not None:
        for key in list(role_map.keys()):
            if role_map[key] == pikepdf.Name(key):
                del role_map[key]
        if not role_map.keys():
            del struct_root["/RoleMap"]
    root.MarkInfo = pikepdf.Dictionary(Marked=True)
    prefs = root.get("/ViewerPreferences")
    if not isinstance(prefs, pikepdf.Dictionary):
        prefs = root.ViewerPreferences = pikepdf.Dictionary()
    prefs.DisplayDocTitle = True
    for pg in pdf.pages:
        pg.obj.Tabs = pikepdf.Name.S
    roles = struct_root.get("/RoleMap") or pikepdf.Dictionary()  # read again: the loop above may have removed it
    for table in _elements(struct_root, "/Table"):
        if _is_layout_table(table, roles):
            _retag(table, "/Div")
    tag_footnotes(pdf)


def tag_footnotes(pdf: pikepdf.Pdf) -> None:
    """Give every Note an /ID and tag the footnotes' links back to their reference.

    LibreOffice tags a footnote as Note without the /ID PDF/UA requires, and leaves the
    link from the footnote number back to the text outside the structure tree. Each such
    link becomes a Link element inside the page's next footnote Note.
    """
    struct_root = pdf.Root.StructTreeRoot
    notes = list(_elements(struct_root, "/Note"))
    for number, note in enumerate(notes, 1):
        if not note.get("/ID"):
            note.ID = pikepdf.String(f"fotnot-{number}")
    by_page: dict[tuple, list] = {}
    for note in notes:
        if "/Pg" in note:
            by_page.setdefault(note.Pg.objgen, []).append(note)
    parent_tree = struct_root.get("/ParentTree")
    if parent_tree is None or "/Nums" not in parent_tree:
        return
    next_key = int(struct_root.get("/ParentTreeNextKey", len(parent_tree.Nums) // 2))
    for pg in pdf.pages:
        waiting = list(by_page.get(pg.obj.objgen, []))
        for annot in pg.obj.get("/Annots") or []:
            if annot.get("/Subtype") != "/Link" or "/StructParent" in annot or not waiting:
                continue
            note = waiting.pop(0)
            link = pdf.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.StructElem, S=pikepdf.Name.Link, P=note, Pg=pg.obj,
                Alt=pikepdf.String("Tillbaka till texten"),
                K=pikepdf.Array([pikepdf.Dictionary(Type=pikepdf.Name.OBJR, Obj=annot, Pg=pg.obj)])))
            if not isinstance(note.K, pikepdf.Array):
                note.K = pikepdf.Array([note.K])
            note.K.insert(0, link)
            annot.StructParent = next_key
            annot.Contents = pikepdf.String("Tillbaka till texten")
            parent_tree.Nums.append(next_key)
            parent_tree.Nums.append(link)
            next_key += 1
    struct_root.ParentTreeNextKey = next_key


def iter_struct_elements(node):
    """Yield every structure element below ``node`` (a StructTreeRoot or element), each once."""
    stack = [node]
    seen = set()
    while stack:
        current = stack.pop()
        kids = current.get("/K") if isinstance(current, pikepdf.Dictionary) else None
        if kids is None:
            continue
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if not isinstance(kid, pikepdf.Dictionary) or "/S" not in kid:
                continue
            if kid.is_indirect:
                if kid.objgen in seen:
                    continue
                seen.add(kid.objgen)
            yield kid
            stack.append(kid)


def _elements(node, kind: str):
    """Yield the structure elements of type ``kind`` below ``node``."""
    return (element for element in iter_struct_elements(node) if element.S == kind)


def _is_layout_table(table, role_map) -> bool:
    """Return True if ``table`` is layout: a single TD cell, or all its paragraphs in a layout style.

    A one-cell table is how the templates and Markdown keep a block on one page
    (``markdownwriter.keep_on_one_page``); one cell without a header holds no data to navigate.
    """
    rows = [el for el in _descendants(table) if el.S == "/TR"]
    cells = [el for el in _descendants(table) if el.S in ("/TD", "/TH")]
    if len(rows) == 1 and len(cells) == 1 and cells[0].S == "/TD":
        return True
    paragraphs = [el for el in _descendants(table) if el.S not in _TABLE_TYPES]
    return bool(paragraphs) and all(str(el.S) in LAYOUT_TABLE_STYLES for el in paragraphs
                                    if role_map.get(el.S, el.S) == pikepdf.Name.P or el.S == "/P")


def _descendants(node):
    kids = node.get("/K")
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield kid
            yield from _descendants(kid)


def _retag(table, kind: str) -> None:
    """Turn a table and its rows and cells into ``kind`` elements, dropping table attributes."""
    for el in [table, *_descendants(table)]:
        if el.S in _TABLE_TYPES:
            el.S = pikepdf.Name(kind)
            if "/A" in el:
                del el["/A"]


def _pdfa_level(pdf: pikepdf.Pdf) -> str | None:
    """Return the PDF/A part and conformance the XMP declares, e.g. "2b", or None."""
    meta = pdf.open_metadata()
    part, conformance = meta.get("pdfaid:part"), meta.get("pdfaid:conformance")
    return f"{part}{conformance.lower()}" if part and conformance else None


def no_cr_before_endstream(pdf: pikepdf.Pdf) -> None:
    """End every compressed content stream whose data ends with a carriage return otherwise.

    The writer puts a line feed before ``endstream``; after a final CR in the data that
    reads as a CR LF end-of-line, and a validator then finds the /Length one byte off
    (``PDFA2A-STREAM-LENGTH-001``): about one letter in forty lost its PDF/A-2a claim so.
    A zlib stream ends with the checksum of its data, so the data itself must change: a
    page's content stream gets a line feed more at the end, which draws nothing. (Other
    streams, e.g. fonts and images, cannot be changed so; none has been seen to end so.)
    """
    contents = []
    for pdf_page in pdf.pages:
        found = pdf_page.obj.get("/Contents")
        contents += list(found) if isinstance(found, pikepdf.Array) else [found] if found is not None else []
    for stream in contents:
        if (isinstance(stream, pikepdf.Stream) and stream.get("/Filter") == pikepdf.Name.FlateDecode
                and stream.read_raw_bytes().endswith(b"\r")):
            data = stream.read_bytes()
            packed = zlib.compress(data)
            while packed.endswith(b"\r"):
                data += b"\n"
                packed = zlib.compress(data)
            stream.write(packed, filter=pikepdf.Name.FlateDecode)


def claim_pdfua(path: Path, *, title: str) -> list[tuple[str, str]]:
    """Give a tagged PDF (handlingar.pdf) XMP with ``title`` and claim PDF/UA-1 only if it passes.

    The file is changed in place: XMP metadata with dc:title, ``/DisplayDocTitle``, and
    ``pdfuaid:part`` 1 with its extension schema. It is then checked with ``page-validation``;
    if it fails, the claim is taken out again. Return the failures ([] when it passes).
    No PDF/A claim is made (see ``bundle``).
    """
    path = Path(path)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        prefs = pdf.Root.get("/ViewerPreferences")
        if not isinstance(prefs, pikepdf.Dictionary):
            prefs = pdf.Root.ViewerPreferences = pikepdf.Dictionary()
        prefs.DisplayDocTitle = True
        _write_claims(pdf, conformance=None, pdfua=True, title=title)
        save_pdf(pdf, path, deterministic_id=True)
    failures = validate_pdf(path, "ua1")
    if failures:
        with pikepdf.open(path, allow_overwriting_input=True) as pdf:
            _write_claims(pdf, conformance=None, pdfua=False, title=title)
            save_pdf(pdf, path, deterministic_id=True)
    return failures


def _write_claims(pdf: pikepdf.Pdf, *, conformance: str | None, pdfua: bool, title: str | None) -> None:
    """Rewrite the XMP's PDF/A and PDF/UA identification (and dc:title if given or missing).

    ``conformance`` None leaves PDF/A out: no pdfaid is written.
    """
    if title:
        pdf.docinfo["/Title"] = title
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        if title:
            meta["dc:title"] = title
        elif not meta.get("dc:title") and pdf.docinfo.get("/Title"):
            meta["dc:title"] = str(pdf.docinfo.Title)
        if conformance is not None:
            meta["pdfaid:conformance"] = conformance
        if "pdfuaid:part" in meta:
            del meta["pdfuaid:part"]
    xmp = etree.fromstring(pdf.Root.Metadata.read_bytes())
    rdf = xmp.find(".//rdf:RDF", NS)
    for description in rdf.findall("rdf:Description", NS):
        if description.find("pdfaExtension:schemas", NS) is not None:
            rdf.remove(description)
    if pdfua:
        ident = etree.SubElement(rdf, f"{{{NS['rdf']}}}Description", nsmap={"pdfuaid": NS["pdfuaid"]})
        ident.set(f"{{{NS['rdf']}}}about", "")
        etree.SubElement(ident, f"{{{NS['pdfuaid']}}}part").text = "1"
        rdf.append(etree.fromstring(_PDFUA_EXTENSION))
    body = etree.tostring(xmp, encoding="utf-8")
    packet = (b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body
              + b"\n" + (b" " * 99 + b"\n") * 20 + b'<?xpacket end="w"?>')
    pdf.Root.Metadata = pdf.make_stream(packet, Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
