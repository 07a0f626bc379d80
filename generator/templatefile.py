"""A Word template's container, checked and cleaned before docxtpl opens it.

A template is a .docx from anyone (it travels by e-mail between förvaltningar), and
whatever it holds goes into every document rendered from it. ``read_template`` is the one
place every command (templates, render, build, letters, send, web) reads a template
through (``render.load_template``); it applies the checks office bilagor get
(``officefile``), stricter where a template needs it:

- **Bounded**: ``officefile.check_office_zip`` (entries, unpacked size, zip-bomb ratio),
  and for a template, at most ``MAX_TEMPLATE_FILE`` on disk, ``MAX_TEMPLATE_UNPACKED``
  unpacked and ``MAX_TEMPLATE_PART`` per XML part (a template's XML is parsed whole by
  python-docx and Jinja, so it must stay small; the city's are under 50 KB).
- **No DTDs**: a part with ``<!DOCTYPE`` or ``<!ENTITY`` (Word never writes one; an
  entity can read a local file or expand to gigabytes) is refused.
- **No macros**: a VBA project (``vbaProject.bin``), a macro-enabled content type (.docm,
  .dotm) or ActiveX controls: refused, since no generated document may carry them.
- **No links out**: external relationships other than hyperlinks (an attached template,
  linked images, linked objects, frames, a mail-merge data source) are removed, and so is
  what referred to them, so Word opens the result without a repair prompt; Word fields
  that read another file (INCLUDEPICTURE, INCLUDETEXT, LINK …) keep their last result as
  text (``officefile.neutralise_fields``); a mail merge (``w:mailMerge``, which can run a
  database query) goes. Each removal is a Swedish note (``CheckedTemplate.notes``), which
  ``beslut templates`` prints and every command that plans with the template warns of.

The result is cached by the template's bytes, so a batch of letters checks it once.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from .errors import ConversionError, TemplateError
from .officefile import _strip_relationships, check_office_zip, neutralise_fields
from .wordxml import R_STRICT, R, qn

MAX_TEMPLATE_FILE = 32 * 1024 * 1024
"""Largest template file read at all (32 MiB; logos and fonts included)."""
MAX_TEMPLATE_UNPACKED = 64 * 1024 * 1024
"""Most bytes a template may unpack to, all parts together (64 MiB)."""
MAX_TEMPLATE_PART = 8 * 1024 * 1024
"""Largest XML part of a template, unpacked (8 MiB)."""

_MACRO_PARTS = re.compile(r"(^|/)(vbaProject\.bin|vbaData\.xml|activeX\d*\.(xml|bin))$", re.I)
_MACRO_TYPES = re.compile(rb"macroEnabled|vbaProject|activeX", re.I)
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)
_REL_ID = re.compile(rb"""\bId\s*=\s*["']([^"']*)["']""")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*?/?>", re.S)
_ATTR = re.compile(rb"""\b(Type|Target)\s*=\s*["']([^"']*)["']""")
_R_NAMESPACES = (R, R_STRICT)
_W_MAIL_MERGE = qn("w:mailMerge")
_LINK_KINDS = {
    "attachedTemplate": "en bifogad mall (Utvecklare > Dokumentmall)",
    "image": "en länkad bild",
    "oleObject": "ett länkat objekt",
    "package": "ett länkat objekt",
    "subDocument": "ett underdokument",
    "frame": "en ram med innehåll utifrån",
    "mailMergeSource": "en datakälla för koppling",
    "mailMergeHeaderSource": "en datakälla för koppling",
    "recipientData": "en datakälla för koppling",
}


@dataclass(frozen=True)
class CheckedTemplate:
    """A template's bytes as docxtpl may open them, and what was removed to make them so."""

    data: bytes
    notes: tuple[str, ...] = ()
    """One Swedish sentence per removal, e.g. "tog bort en länkad bild (http://…)"."""


_CHECKED: dict[bytes, CheckedTemplate] = {}
_MAX_CHECKED = 8


def read_template(path: Path, data: bytes | None = None) -> CheckedTemplate:
    """Return the template at ``path`` (its bytes ``data`` if given) checked and cleaned.

    Raise TemplateError (exit 4) if it is too large, a zip bomb, or carries macros.
    """
    if data is None:
        try:
            size = path.stat().st_size
        except OSError as e:
            raise TemplateError(f"mallen går inte att läsa ({e.strerror}).", file=path) from e
        if size > MAX_TEMPLATE_FILE:
            raise TemplateError(
                f"mallen är {size // (1024 * 1024)} MiB; en mall får vara högst "
                f"{MAX_TEMPLATE_FILE // (1024 * 1024)} MiB. Ta bort stora bilder eller inbäddade filer i Word.",
                file=path)
        data = path.read_bytes()
    if data in _CHECKED:
        return _CHECKED[data]
    checked = _check(path, data)
    if len(_CHECKED) >= _MAX_CHECKED:
        _CHECKED.clear()
    _CHECKED[data] = checked
    return checked


def _check(path: Path, data: bytes) -> CheckedTemplate:
    try:
        check_office_zip(path, data)
    except ConversionError as e:
        raise TemplateError(e.message, file=path) from e
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            _check_sizes(path, infos)
            _refuse_macros(path, zf, infos)
            return _clean(path, zf, infos, data)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError, ValueError) as e:
        raise TemplateError(
            f"mallen går inte att öppna som Word-dokument ({type(e).__name__}: {e}). Spara den som "
            ".docx i Word.", file=path) from e


def _check_sizes(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    total = sum(info.file_size for info in infos)
    if total > MAX_TEMPLATE_UNPACKED:
        raise TemplateError(
            f"mallen packas upp till {total // (1024 * 1024)} MiB; en mall får packas upp till högst "
            f"{MAX_TEMPLATE_UNPACKED // (1024 * 1024)} MiB. Den kan vara en så kallad zip-bomb, eller ha "
            "mycket stora bilder: ta bort dem i Word.", file=path)
    for info in infos:
        if info.filename.lower().endswith((".xml", ".rels")) and info.file_size > MAX_TEMPLATE_PART:
            raise TemplateError(
                f"delen '{info.filename}' i mallen är {info.file_size // (1024 * 1024)} MiB; högst "
                f"{MAX_TEMPLATE_PART // (1024 * 1024)} MiB tillåts i en mall. Den kan vara en så kallad "
                "zip-bomb; en mall med så mycket text är det inte.", file=path)


def _refuse_macros(path: Path, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    macro = next((info.filename for info in infos if _MACRO_PARTS.search(info.filename)), None)
    if macro is None and "[Content_Types].xml" in zf.namelist():
        types = zf.read("[Content_Types].xml")
        found = _MACRO_TYPES.search(types)
        macro = f"[Content_Types].xml: {found.group(0).decode()}" if found else None
    if macro is not None:
        raise TemplateError(
            f"mallen innehåller makron eller ActiveX-kontroller ({macro}). En mall får inte ha det, "
            "eftersom allt i mallen hamnar i varje dokument: öppna den i Word och spara den som "
            "Word-dokument (*.docx), inte som dokument eller mall med makron (.docm, .dotm).", file=path)


def _clean(path: Path, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], data: bytes) -> CheckedTemplate:
    """Return the template without links out (or ``data`` itself when it has none)."""
    notes: list[str] = []
    parts = {info.filename: zf.read(info) for info in infos}  # bounded by _check_sizes
    for name, blob in parts.items():
        if name.endswith((".xml", ".rels")) and _DTD.search(blob):
            raise TemplateError(
                f"delen '{name}' i mallen har en dokumenttypdeklaration (<!DOCTYPE eller <!ENTITY), som "
                "Word aldrig skriver och som kan hämta filer eller fylla minnet. Mallen är inte gjord i "
                "Word: använd en mall som är sparad i Word.", file=path)
    changed: dict[str, bytes] = {}
    for name, blob in parts.items():
        if not name.endswith(".rels"):
            continue
        stripped, removed = _strip_relationships(blob)
        if not removed:
            continue
        changed[name] = stripped
        kept = set(_REL_ID.findall(stripped))
        gone = {}
        for rel in _RELATIONSHIP.findall(blob):
            found = _REL_ID.search(rel)
            if found and found.group(1) not in kept:
                attrs = {k.decode(): v.decode("utf-8", "replace") for k, v in _ATTR.findall(rel)}
                gone[found.group(1).decode()] = attrs
                kind = attrs.get("Type", "").rsplit("/", 1)[-1]
                target = attrs.get("Target", "")
                notes.append(f"tog bort {_LINK_KINDS.get(kind, 'en länk ut')} ({target[:120]})")
        owner = _owner_of(name)
        if owner in parts and gone:
            changed[owner] = _drop_references(changed.get(owner, parts[owner]), set(gone))
    for name, blob in parts.items():
        if not (name.startswith("word/") and name.endswith(".xml")):
            continue
        neutral, fields = neutralise_fields(changed.get(name, blob))
        if name == "word/settings.xml":
            neutral, merges = _drop_mail_merge(neutral)
            notes += ["tog bort en koppling till en datakälla (Utskick > Koppla dokument)"] * merges
        if fields:
            notes.append(f"gjorde {fields} fält som hämtar en annan fil (INCLUDEPICTURE, INCLUDETEXT, "
                         f"LINK …) i {name} till vanlig text")
        if neutral != blob:
            changed[name] = neutral
    if not changed:
        return CheckedTemplate(data)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in infos:
            zout.writestr(info, changed.get(info.filename, parts[info.filename]))
    return CheckedTemplate(out.getvalue(), tuple(notes))


def _owner_of(rels_name: str) -> str:
    """Return the part a .rels part belongs to: word/_rels/document.xml.rels -> word/document.xml."""
    folder, _, file = rels_name.rpartition("_rels/")
    return folder + file.removesuffix(".rels")


def _drop_references(blob: bytes, ids: set[str]) -> bytes:
    """Remove what refers to the relationships ``ids`` from an XML part.

    An image (``a:blip``) loses only its ``r:link`` (it may still embed a picture); any
    other element that refers to one (an attached template, a linked object, a frame's
    source) is removed whole.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(blob, parser)
    except etree.XMLSyntaxError:
        return blob
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue
        refs = [key for key, value in element.attrib.items()
                if value in ids and key.startswith("{") and key[1:].split("}")[0] in _R_NAMESPACES]
        if not refs:
            continue
        if etree.QName(element).localname == "blip":
            for key in refs:
                del element.attrib[key]
        elif element.getparent() is not None:
            element.getparent().remove(element)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _drop_mail_merge(blob: bytes) -> tuple[bytes, int]:
    """Remove ``w:mailMerge`` from the settings part; return it and how many were removed."""
    if b"mailMerge" not in blob:
        return blob, 0
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(blob, parser)
    except etree.XMLSyntaxError:
        return blob, 0
    merges = root.findall(_W_MAIL_MERGE)
    for element in merges:
        root.remove(element)
    if not merges:
        return blob, 0
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True), len(merges)


def cleaning_warnings(path: Path) -> tuple[str, ...]:
    """Return the notes of the template at ``path`` as warnings of a run ("mallen X: tog bort …").

    Raise TemplateError as ``read_template`` does; a missing template gives no warnings
    (rendering says it is missing).
    """
    if not path.is_file():
        return ()
    return tuple(f"mallen {path.name}: {note}." for note in read_template(path).notes)
