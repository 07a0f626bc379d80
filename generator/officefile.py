"""Office files (OOXML and ODF zip containers) made safe to hand to LibreOffice.

Two jobs, both before LibreOffice or any parser of ours reads the file:

- ``check_office_zip``: bounds on the container read from its central directory (no
  decompression): at most ``MAX_ENTRIES`` entries, ``MAX_UNPACKED`` bytes unpacked in all,
  and no entry above ``RATIO_FLOOR`` bytes that unpacks more than ``MAX_RATIO`` times its
  packed size. Office files compress about 3-20 times (XML) or not at all (images); a zip
  bomb compresses hundreds of times. Office files nested inside (embedded workbooks) are
  checked the same way.
- ``copy_office_file``: a copy for LibreOffice without links to the outside world, and with
  spreadsheets set up to print on A4 (``fit_sheet_to_a4``). In
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

from lxml import etree

from .errors import ConversionError
from .wordxml import SML

MAX_ENTRIES = 10_000
"""Most entries an office file may have (a 300-slide deck has about 2 000)."""
MAX_UNPACKED = 256 * 1024 * 1024
"""Most bytes an office file may unpack to, all entries together (256 MiB)."""
MAX_RATIO = 100
"""Largest unpacked/packed ratio of one entry above ``RATIO_FLOOR``."""
RATIO_FLOOR = 1024 * 1024
"""Entries smaller than this (1 MiB unpacked) may compress any amount."""
MIN_PRINT_SCALE = 60
"""Smallest print scale (per cent) of a spreadsheet: 11 pt text prints at 6.6 pt. A sheet
that would need less to fit one page wide is split across pages instead."""
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
_SML = f"{{{SML}}}"
_BEFORE_PAGE_SETUP = {f"{_SML}{name}" for name in (
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
    "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate",
    "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting", "dataValidations",
    "hyperlinks", "printOptions", "pageMargins")}
"""The worksheet elements that come before pageSetup (ECMA-376, CT_Worksheet)."""
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
                    zout.writestr(out_info, fit_sheet_to_a4(zin.read(info), formats), compresslevel=1)
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


def fit_sheet_to_a4(data: bytes, formats: list[str] | None = None) -> bytes:
    """Return an OOXML worksheet part set up to print on A4, one page wide.

    Paper size A4, fit to 1 page wide and as many tall as needed, landscape when the used
    range is wider than tall (estimated from column widths and row heights). Gridlines,
    row and column headings and print areas stay as the file says. A part that is not
    well-formed XML is returned as it was (LibreOffice then reports it). With the
    workbook's number ``formats`` (``read_number_formats``), columns too narrow for their
    formatted numbers are widened first (``widen_number_columns``), so no number prints
    as ``###``.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return data
    if root.tag != f"{_SML}worksheet":
        return data
    if formats is not None:
        widen_number_columns(root, formats)
    sheet_pr = root.find(f"{_SML}sheetPr")
    if sheet_pr is None:
        sheet_pr = etree.Element(f"{_SML}sheetPr")
        root.insert(0, sheet_pr)
    setup_pr = sheet_pr.find(f"{_SML}pageSetUpPr")
    if setup_pr is None:
        setup_pr = etree.SubElement(sheet_pr, f"{_SML}pageSetUpPr")  # last child by the schema
    setup_pr.set("fitToPage", "1")
    setup = root.find(f"{_SML}pageSetup")
    if setup is None:
        setup = etree.Element(f"{_SML}pageSetup")
        after = [child for child in root if child.tag in _BEFORE_PAGE_SETUP]
        root.insert(root.index(after[-1]) + 1 if after else len(root), setup)
    width, height = _used_size(root)
    for key in list(setup.attrib):
        if key.startswith("{"):  # r:id of printer settings made for another paper
            del setup.attrib[key]
    setup.set("paperSize", "9")
    setup.set("orientation", "landscape" if width > height else "portrait")
    if width and _print_width(root, landscape=width > height) / width * 100 < MIN_PRINT_SCALE:
        # Too wide to shrink onto one page legibly: print at the smallest legible scale, page
        # after page from left to right, then down (as the sheet is read).
        setup_pr.set("fitToPage", "0")
        for key in ("fitToWidth", "fitToHeight"):
            setup.attrib.pop(key, None)
        setup.set("scale", str(MIN_PRINT_SCALE))
        setup.set("pageOrder", "overThenDown")
        setup.set("orientation", "landscape")
    else:
        setup.set("fitToWidth", "1")
        setup.set("fitToHeight", "0")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


BUILTIN_FORMATS = {1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%", 11: "0.00E+00",
                   37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)",
                   40: "#,##0.00;[Red](#,##0.00)", 48: "##0.0E+0"}
"""Excel's built-in number formats with fixed digits (ECMA-376 18.8.30); 0 is General, which
never prints ``###`` (it rounds to fit), and dates and times are left alone."""
MAX_STYLES_BYTES = 16 * 1024 * 1024


def read_number_formats(zin: zipfile.ZipFile) -> list[str]:
    """Return the number format code of every cell style (``cellXfs``) of a workbook; "" for others."""
    try:
        info = zin.getinfo("xl/styles.xml")
        if info.file_size > MAX_STYLES_BYTES:
            return []
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        root = etree.fromstring(zin.read(info), parser)
    except (KeyError, etree.XMLSyntaxError, zipfile.BadZipFile, ValueError, zlib.error, EOFError):
        return []
    custom = {}
    for fmt in root.iterfind(f"{_SML}numFmts/{_SML}numFmt"):
        try:
            custom[int(fmt.get("numFmtId", ""))] = fmt.get("formatCode", "")
        except ValueError:
            continue
    codes = []
    for xf in root.iterfind(f"{_SML}cellXfs/{_SML}xf"):
        try:
            number = int(xf.get("numFmtId", "0"))
        except ValueError:
            number = 0
        codes.append(custom.get(number, BUILTIN_FORMATS.get(number, "")))
    return codes


_CELL_COLUMN = re.compile(r"[A-Z]+")


def widen_number_columns(root, formats: list[str]) -> int:
    """Widen the columns whose formatted numbers would not fit (LibreOffice prints ``###``).

    A number's printed width is estimated from its value and its format (digits, thousands
    separators, decimals, per cent, a minus or parentheses) in characters of the widest
    digit, the unit of ``<col width>``. Return how many columns were widened.
    """
    needed: dict[int, float] = {}
    for cell in root.iterfind(f"{_SML}sheetData/{_SML}row/{_SML}c"):
        if cell.get("t") not in (None, "n"):
            continue
        value = cell.findtext(f"{_SML}v")
        ref = _CELL_COLUMN.match(cell.get("r", ""))
        if value is None or ref is None:
            continue
        try:
            code = formats[int(cell.get("s", "0"))]
            chars = _printed_chars(float(value), code)
        except (IndexError, ValueError, OverflowError):
            continue
        if chars:
            column = _column_number(ref.group(0))
            needed[column] = max(needed.get(column, 0.0), chars)
    if not needed:
        return 0
    fmt = root.find(f"{_SML}sheetFormatPr")
    try:
        default = float(fmt.get("defaultColWidth", fmt.get("baseColWidth", 8.43))) if fmt is not None else 8.43
    except ValueError:
        default = 8.43
    cols = root.find(f"{_SML}cols")
    widths: dict[int, dict[str, str]] = {}
    spans = 0
    if cols is not None:
        for col in cols.iterfind(f"{_SML}col"):
            try:
                lo, hi = int(col.get("min", "")), int(col.get("max", ""))
            except ValueError:
                continue
            spans += max(0, min(hi, 16384) - max(lo, 1) + 1)
            if spans > 4 * 16384:
                return 0  # overlapping ranges a sheet has no use for: leave it as it is
            for n in range(max(lo, 1), min(hi, 16384) + 1):
                widths[n] = dict(col.attrib)
    widened = 0
    for n, printed in needed.items():
        attrs = widths.get(n, {})
        if attrs.get("hidden") in ("1", "true"):
            continue
        try:
            current = float(attrs.get("width", default))
        except ValueError:
            current = default
        if printed + 1 > current:
            widths[n] = {**attrs, "width": f"{printed + 1:.2f}", "customWidth": "1"}
            widened += 1
    if not widened:
        return 0
    if cols is None:
        cols = etree.Element(f"{_SML}cols")
        after = [child for child in root if child.tag in (f"{_SML}sheetPr", f"{_SML}dimension",
                                                        f"{_SML}sheetViews", f"{_SML}sheetFormatPr")]
        root.insert(root.index(after[-1]) + 1 if after else 0, cols)
    for child in list(cols):
        cols.remove(child)
    run: list = []  # [first, last, attrs] of consecutive columns with equal attributes
    for n in sorted(widths):
        attrs = {k: v for k, v in widths[n].items() if k not in ("min", "max")}
        if run and run[1] == n - 1 and run[2] == attrs:
            run[1] = n
            continue
        if run:
            _append_col(cols, *run)
        run = [n, n, attrs]
    if run:
        _append_col(cols, *run)
    return widened


def _append_col(cols, first: int, last: int, attrs: dict[str, str]) -> None:
    col = etree.SubElement(cols, f"{_SML}col")
    col.set("min", str(first))
    col.set("max", str(last))
    for key, value in attrs.items():
        col.set(key, value)


def _printed_chars(value: float, code: str) -> int:
    """Return how many characters ``value`` prints as in the number format ``code``; 0 if unknown.

    Only formats of digits are estimated (0, #, thousands separator, decimals, %, E); General,
    dates, times and text formats return 0 (they never print ``###`` or are left as they are).
    """
    section = code.split(";")[0] if value >= 0 or ";" not in code else code.split(";")[1]
    plain = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.', "", section)
    if not plain or re.search(r"[dmyhsDMYHS@]", plain) or not re.search(r"[0#]", plain):
        return 0
    quoted = "".join(re.findall(r'"([^"]*)"', section))
    escaped = len(re.findall(r"\\.|_.", section))  # \x prints x; _x leaves the width of x
    literal = len(re.sub(r"[0#?,.%Ee+-]", "", plain)) + len(quoted) + escaped
    if "%" in plain:
        value *= 100
    if "E" in plain.upper():
        return len(plain) + literal + (1 if value < 0 else 0)
    decimals = len(re.findall(r"[0#?]", plain.split(".", 1)[1])) if "." in plain else 0
    grouped = "," in plain.split(".", 1)[0]
    text = f"{abs(value):,.{decimals}f}" if grouped else f"{abs(value):.{decimals}f}"
    sign = 1 if value < 0 and ";" not in code else 0
    return len(text) + sign + literal + plain.count("%")


def _print_width(root, *, landscape: bool) -> float:
    """Return the width in points between the sheet's left and right margins on A4."""
    margins = root.find(f"{_SML}pageMargins")
    try:
        sides = (float(margins.get("left", 0.7)) + float(margins.get("right", 0.7))) if margins is not None else 1.4
    except ValueError:
        sides = 1.4
    return (841.89 if landscape else 595.28) - 72 * sides


def _used_size(root) -> tuple[float, float]:
    """Return the used range's estimated (width, height) in points, from its dimension and sizes."""
    dimension = root.find(f"{_SML}dimension")
    ref = dimension.get("ref", "A1") if dimension is not None else "A1"
    cells = re.findall(r"([A-Z]+)(\d+)", ref.upper())
    if not cells:
        return 0.0, 0.0
    cols = [_column_number(c) for c, _ in cells]
    rows = [int(r) for _, r in cells]
    first_col, last_col = min(cols), max(cols)
    fmt = root.find(f"{_SML}sheetFormatPr")
    default_width = float(fmt.get("defaultColWidth", fmt.get("baseColWidth", 8.43))) if fmt is not None else 8.43
    default_height = float(fmt.get("defaultRowHeight", 15)) if fmt is not None else 15.0
    widths = {}
    for col in root.iterfind(f"{_SML}cols/{_SML}col"):
        try:
            lo, hi, w = int(col.get("min")), int(col.get("max")), float(col.get("width", default_width))
        except (TypeError, ValueError):
            continue
        for n in range(max(lo, first_col), min(hi, last_col) + 1):
            widths[n] = 0.0 if col.get("hidden") in ("1", "true") else w
    chars = sum(widths.get(n, default_width) for n in range(first_col, last_col + 1))
    width = chars * 7 * 0.75  # about 7 pixels per character, 0.75 pt per pixel
    height = (max(rows) - min(rows) + 1) * default_height
    return width, height


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


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
