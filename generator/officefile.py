"""Office files (OOXML and ODF zip containers) made safe to hand to LibreOffice.

Two jobs, both before LibreOffice or any parser of ours reads the file:

- ``check_office_zip``: bounds on the container read from its central directory (no
  decompression): at most ``MAX_ENTRIES`` entries, ``MAX_UNPACKED`` bytes unpacked in all,
  and no entry above ``RATIO_FLOOR`` bytes that unpacks more than ``MAX_RATIO`` times its
  packed size. Office files compress about 3-20 times (XML) or not at all (images); a zip
  bomb compresses hundreds of times. Office files nested inside (embedded workbooks) are
  checked the same way.
- ``copy_office_file``: a copy for LibreOffice without links to the outside world, and with
  spreadsheets set up to print on A4 (``sheetprint.fit_sheet``; a sheet split across pages
  repeats its heading row and first column, ``sheetprint.add_print_titles``). In
  OOXML every relationship with ``TargetMode="External"`` other than a hyperlink (linked
  images, linked OLE objects, linked workbooks, attached templates, frames) is removed;
  in ODF every ``xlink:href`` to an absolute URL or path outside the package (linked
  images, sections, tables, objects) is emptied, except in hyperlinks (``text:a``,
  ``draw:a``). Linked content then shows as missing, never as whatever the link pointed
  to. Word fields that pull in another file (INCLUDEPICTURE, INCLUDETEXT, LINK, DDE) lose
  their instruction and keep their last result as text (``neutralise_fields``). The copy
  is written entry by entry through ``zipfile``, which stops at each entry's declared size
  and checks its CRC, so a container that lies about its sizes fails here.

Word comments are taken out of the copy (``strip_comment_anchors``): the ``-nogui``
LibreOffice packages of Debian 12 do not ship Writer's UI definitions
(``soffice.cfg/modules/swriter/ui/*.ui``, in ``libreoffice-writer`` only), and a loaded
document with comments makes Writer build the comment margin's window from
``annotation.ui``; in server mode that happens in the event loop and aborts LibreOffice
(``NoSuchElementException`` from ``InterimItemWindow``). ``soffice --convert-to`` closes the
document before the event loop runs, which is why it seemed to work. The PDF export
does not print comments anyway (``ExportNotes`` is off), so the PDF loses nothing;
``count_comments`` lets the bundle say "kommentarer togs bort".
"""

from __future__ import annotations

import html
import re
import shutil
import zipfile
import zlib
from pathlib import Path

from .errors import ConversionError
from .sheetprint import PrintTitles, add_print_titles, fit_sheet, read_number_formats

MAX_ENTRIES = 10_000
"""Most entries an office file may have (a 300-slide deck has about 2 000)."""
MAX_UNPACKED = 256 * 1024 * 1024
"""Most bytes an office file may unpack to, all entries together (256 MiB)."""
MAX_RATIO = 100
"""Largest unpacked/packed ratio of one entry above ``RATIO_FLOOR``."""
RATIO_FLOOR = 1024 * 1024
"""Entries smaller than this (1 MiB unpacked) may compress any amount."""
MAX_SHEET_EDIT = 64 * 1024 * 1024
"""Worksheets larger than this (unpacked) keep their own page setup (too big to print anyway)."""
NESTED_SUFFIXES = (".docx", ".xlsx", ".pptx", ".docm", ".xlsm", ".pptm", ".odt", ".ods", ".odp", ".zip")
"""Embedded files that are zip containers themselves and get the same check."""

ADVICE = ("Öppna filen i Word eller LibreOffice, komprimera eller ta bort stora bilder och inbäddade "
          "filer, spara den och försök igen, eller exportera den som PDF.")

_HYPERLINK = b"/relationships/hyperlink"
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*?/?>", re.S)
_EXTERNAL = re.compile(rb"""\bTargetMode\s*=\s*["']External["']""")
_HREF = re.compile(rb"""<([\w.-]+:[\w.-]+)[^>]*?:href\s*=[^>]*>""", re.S)
_HREF_ATTR = re.compile(rb"""([\w.-]+:href\s*=\s*)(["'])(.*?)\2""", re.S)
_ODF_HYPERLINKS = {b"text:a", b"draw:a", b"form:button"}
_SHEET_PART = re.compile(r"xl/worksheets/sheet\d+\.xml")
LINKING_FIELDS = frozenset({"INCLUDEPICTURE", "INCLUDETEXT", "INCLUDE", "IMPORT", "LINK", "DDE", "DDEAUTO"})
"""Word fields that read another file or program (INCLUDE and IMPORT are old names)."""
_ATTRS = rb"""(?:[^>"']|"[^"]*"|'[^']*')*?"""  # attributes, whose values may hold '>'
_FIELD_TOKEN = re.compile(
    rb"(?P<char><(?:\w+:)?fldChar\b" + _ATTRS + rb"(?:/>|>.*?</(?:\w+:)?fldChar>))"
    rb"|(?P<instr><(?:\w+:)?instrText\b" + _ATTRS + rb"(?:/>|>(?P<instrtext>.*?)</(?:\w+:)?instrText>))"
    rb"|<(?:\w+:)?fldSimple\b(?P<simple>" + _ATTRS + rb")>"
    rb"|</(?:\w+:)?fldSimple\s*>",
    re.S)
_FIELD_CHAR_TYPE = re.compile(rb"""fldCharType\s*=\s*["'](\w+)["']""")
_INSTR_ATTR = re.compile(rb"""\binstr\s*=\s*(["'])(.*?)\1""", re.S)
_COMMENT_ANCHOR = re.compile(
    rb"<(?:\w+:)?comment(?:RangeStart|RangeEnd|Reference)\b" + _ATTRS + rb"(?:/>|>.*?</(?:\w+:)?comment"
    rb"(?:RangeStart|RangeEnd|Reference)\s*>)", re.S)
_COMMENT = re.compile(rb"<(?:\w+:)?comment\b")
_ODF_ANNOTATION = re.compile(
    rb"<office:annotation\b" + _ATTRS + rb"(?:/>|>.*?</office:annotation\s*>)"
    rb"|<office:annotation-end\b" + _ATTRS + rb"/>", re.S)


def check_office_zip(path: Path, data: bytes | None = None, *, _depth: int = 0) -> None:
    """Raise ConversionError unless the zip container ``path`` (or ``data``) is within the limits.

    Reads only the central directory; damaged containers are left to the format check.
    """
    try:
        with zipfile.ZipFile(path if data is None else _BytesIO(data)) as zf:
            infos = zf.infolist()
            _check_infos(path, infos)
            if _depth < 2:
                for info in infos:
                    if info.filename.lower().endswith(NESTED_SUFFIXES):
                        nested = zf.read(info)  # bounded by the checks above
                        if nested.startswith(b"PK"):
                            check_office_zip(path, nested, _depth=_depth + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, zlib.error, EOFError,
            NotImplementedError):
        return


def _BytesIO(data: bytes):
    import io

    return io.BytesIO(data)


def _check_infos(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Raise ConversionError if the entries break a limit."""
    if len(infos) > MAX_ENTRIES:
        raise ConversionError(
            f"Filen innehåller {len(infos):,} delar; högst {MAX_ENTRIES:,} tillåts. "
            f"Den kan vara skadad eller skapad för att överbelasta datorn. {ADVICE}".replace(",", " "),
            file=path)
    total = sum(i.file_size for i in infos)
    if total > MAX_UNPACKED:
        raise ConversionError(
            f"Filen packas upp till {_mib(total)}; högst {_mib(MAX_UNPACKED)} tillåts. Den kan vara "
            f"en så kallad zip-bomb eller innehålla mycket stora bilder eller filmer. {ADVICE}", file=path)
    for info in infos:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise ConversionError(
                f"Delen '{info.filename}' i filen packas upp {ratio} gånger större än den är packad; "
                f"högst {MAX_RATIO} gånger tillåts. Filen är troligen en så kallad zip-bomb, skapad för "
                f"att överbelasta datorn. {ADVICE}", file=path)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MiB".replace(",", " ")


def copy_office_file(src: Path, dst: Path) -> int:
    """Write a copy of the office file ``src`` to ``dst`` without links to outside content.

    Return the number of links removed. Raise ConversionError if ``src`` breaks the limits
    of ``check_office_zip`` or an entry is not what its header says (``zipfile`` checks the
    size and CRC of every entry it copies).
    """
    check_office_zip(src)
    removed = 0
    try:
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
            odf = "mimetype" in zin.namelist()
            odf_text = odf and b"opendocument.text" in zin.read("mimetype")[:100]
            formats: list[str] | None = None  # the workbook's number formats, read with the first sheet
            titles: dict[str, PrintTitles] = {}  # the print titles of the sheets split across pages
            workbook: tuple[zipfile.ZipInfo, zipfile.ZipInfo] | None = None  # written last, with them
            for info in zin.infolist():
                out_info = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                out_info.external_attr = info.external_attr
                stored = info.compress_type == zipfile.ZIP_STORED
                out_info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                name = info.filename.lower()
                word_part = not odf and name.startswith("word/") and name.endswith(".xml")
                if not odf and _SHEET_PART.fullmatch(name) and info.file_size <= MAX_SHEET_EDIT:
                    if formats is None:
                        formats = read_number_formats(zin)
                    data, sheet_titles = fit_sheet(zin.read(info), formats)
                    if sheet_titles is not None:
                        titles[name] = sheet_titles
                    zout.writestr(out_info, data, compresslevel=1)
                elif not odf and name == "xl/workbook.xml" and info.file_size <= MAX_SHEET_EDIT:
                    workbook = (info, out_info)
                elif name.endswith(".xml" if odf else ".rels") or word_part:
                    data = zin.read(info)
                    data, n = (_strip_odf_links(data) if odf else neutralise_fields(data) if word_part
                               else _strip_relationships(data))
                    removed += n
                    if word_part:
                        data = strip_comment_anchors(data)
                    elif odf_text and name == "content.xml":
                        data = _ODF_ANNOTATION.sub(b"", data)
                    zout.writestr(out_info, data, compresslevel=1)
                else:
                    with zin.open(info) as f_in, zout.open(out_info, "w", force_zip64=info.file_size > 2**31) as f_out:
                        shutil.copyfileobj(f_in, f_out, 1 << 20)
            if workbook is not None:
                data = zin.read(workbook[0])
                if titles and "xl/_rels/workbook.xml.rels" in zin.namelist():
                    data = add_print_titles(data, zin.read("xl/_rels/workbook.xml.rels"), titles)
                zout.writestr(workbook[1], data, compresslevel=1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError, ValueError) as e:
        dst.unlink(missing_ok=True)
        raise ConversionError(
            "Filen är skadad: en del av den stämmer inte med sin egen innehållsförteckning. "
            "Öppna den i Word eller LibreOffice, spara den igen och försök på nytt.", file=src) from e
    return removed


def strip_comment_anchors(data: bytes) -> bytes:
    """Return a WordprocessingML part without comment anchors (range marks and references).

    Without anchors LibreOffice imports no comments (see the module docstring on why
    they must go); the text they were attached to stays as it is.
    """
    if b"comment" not in data:
        return data
    return _COMMENT_ANCHOR.sub(b"", data)


def count_comments(path: Path) -> int:
    """Return how many comments the text document ``path`` (.docx, .odt) has; 0 for any other or unreadable file."""
    suffix = path.suffix.lower()
    if suffix not in (".docx", ".docm", ".odt"):
        return 0
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("content.xml" if suffix == ".odt" else "word/comments.xml")
            if info.file_size > MAX_SHEET_EDIT:
                return 1
            data = zf.read(info)
            if suffix == ".odt":
                return len(re.findall(rb"<office:annotation\b(?!-end)", data))
            return len(_COMMENT.findall(data))
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, zlib.error, EOFError, NotImplementedError):
        return 0


def neutralise_fields(data: bytes) -> tuple[bytes, int]:
    """Remove the Word fields that pull in other files from one WordprocessingML part.

    Return the new part and the number of fields removed. A field whose instruction
    starts with one of ``LINKING_FIELDS`` loses its markers (``w:fldChar`` begin, separate
    and end, its ``w:instrText``; a ``w:fldSimple`` its start and end tags) and keeps its
    cached result as plain runs, so LibreOffice shows what Word last showed and has no
    file name or URL to follow. Other fields (PAGE, HYPERLINK, TOC) are left as they are.
    """
    if b"instrText" not in data and b"fldSimple" not in data:
        return data, 0
    cut: list[tuple[int, int]] = []
    fields: list[tuple[list[tuple[int, int]], list[bytes]]] = []  # open complex fields: spans, instruction
    simple: list[tuple[tuple[int, int], bool]] = []  # open w:fldSimple: start tag span, linking?
    removed = 0
    for m in _FIELD_TOKEN.finditer(data):
        if m.group("char") is not None:
            found = _FIELD_CHAR_TYPE.search(m.group("char"))
            kind = found.group(1) if found else b""
            if kind == b"begin":
                fields.append(([m.span()], []))
            elif fields:
                fields[-1][0].append(m.span())
                if kind == b"end":
                    spans, instruction = fields.pop()
                    if _links_out(b"".join(instruction)):
                        cut += spans
                        removed += 1
        elif m.group("instr") is not None:
            if fields:
                fields[-1][0].append(m.span())
                fields[-1][1].append(m.group("instrtext") or b"")
        elif m.group("simple") is not None:
            attr = _INSTR_ATTR.search(m.group("simple"))
            linking = attr is not None and _links_out(attr.group(2))
            if m.group("simple").rstrip().endswith(b"/"):
                if linking:
                    cut.append(m.span())
                    removed += 1
            else:
                simple.append((m.span(), linking))
        elif simple:
            start_tag, linking = simple.pop()
            if linking:
                cut += [start_tag, m.span()]
                removed += 1
    if not cut:
        return data, 0
    pieces, last = [], 0
    for start, end in sorted(cut):
        pieces.append(data[last:start])
        last = end
    pieces.append(data[last:])
    return b"".join(pieces), removed


def _links_out(instruction: bytes) -> bool:
    """Return True if a field instruction (XML text) starts with a field name in ``LINKING_FIELDS``."""
    name = re.match(r"\s*([A-Za-z]+)", html.unescape(instruction.decode("utf-8", "replace")))
    return name is not None and name.group(1).upper() in LINKING_FIELDS


def _strip_relationships(data: bytes) -> tuple[bytes, int]:
    """Remove external relationships other than hyperlinks from one .rels part."""
    removed = 0

    def replace(match: re.Match) -> bytes:
        nonlocal removed
        rel = match.group(0)
        if _EXTERNAL.search(rel) and _HYPERLINK not in rel:
            removed += 1
            return b""
        return rel

    return _RELATIONSHIP.sub(replace, data), removed


def _strip_odf_links(data: bytes) -> tuple[bytes, int]:
    """Empty every href to outside the package in an ODF XML part, except hyperlinks."""
    removed = 0

    def tag(match: re.Match) -> bytes:
        nonlocal removed
        if match.group(1) in _ODF_HYPERLINKS:
            return match.group(0)

        def attr(m: re.Match) -> bytes:
            nonlocal removed
            if _is_outside(m.group(3)):
                removed += 1
                return m.group(1) + m.group(2) + m.group(2)
            return m.group(0)

        return _HREF_ATTR.sub(attr, match.group(0))

    return _HREF.sub(tag, data), removed


def _is_outside(href: bytes) -> bool:
    """Return True if an ODF href points outside the package (a URL, an absolute or parent path)."""
    href = href.strip()
    if not href or href.startswith(b"#"):
        return False
    return bool(re.match(rb"[A-Za-z][A-Za-z0-9+.-]*:", href)) or href.startswith((b"/", b"\\", b"../", b"..\\"))
