"""Spreadsheets set up to print on A4 before LibreOffice converts them: one page wide, numbers never ``###``.

``officefile.copy_office_file`` passes every OOXML worksheet part (``xl/worksheets/sheetN.xml``)
through ``fit_sheet_to_a4``: paper size A4, fit to one page wide (landscape when the used
range is wider than tall), or, where that would print smaller than ``MIN_PRINT_SCALE``, the
smallest legible scale page after page; a sheet split so repeats its heading rows and first
column on every page (``add_print_titles`` on the workbook part). Columns too narrow for their formatted numbers are
widened first (``widen_number_columns``, with the workbook's formats from
``read_number_formats``). The parts are parsed with lxml without DTDs, entities or network.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from typing import NamedTuple

from lxml import etree

from .wordxml import PACKAGE_RELATIONSHIPS, SML
from .wordxml import R as _DOC_RELS

_RELS = PACKAGE_RELATIONSHIPS

MIN_PRINT_SCALE = 60
"""Smallest print scale (per cent) of a spreadsheet: 11 pt text prints at 6.6 pt. A sheet
that would need less to fit one page wide is split across pages instead."""
_SML = f"{{{SML}}}"
_BEFORE_PAGE_SETUP = {f"{_SML}{name}" for name in (
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
    "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate",
    "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting", "dataValidations",
    "hyperlinks", "printOptions", "pageMargins")}
"""The worksheet elements that come before pageSetup (ECMA-376, CT_Worksheet)."""
_BEFORE_DEFINED_NAMES = {f"{_SML}{name}" for name in (
    "fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews", "sheets",
    "functionGroups", "externalReferences")}
"""The workbook elements that come before definedNames (ECMA-376, CT_Workbook)."""
MAX_TITLE_ROWS = 5
"""Most frozen rows repeated on every page of a split sheet; more and only the first repeats."""
MAX_TITLE_COLUMNS = 2
"""Most frozen columns repeated on every page of a split sheet; more and only the first repeats."""


class PrintTitles(NamedTuple):
    """The rows and columns a sheet split across pages repeats on every page (1-based, inclusive)."""

    first_row: int
    last_row: int
    first_column: int
    last_column: int

    def reference(self, sheet: str) -> str:
        """Return the ``_xlnm.Print_Titles`` formula for the sheet named ``sheet``."""
        quoted = "'" + sheet.replace("'", "''") + "'"
        columns = f"${_column_letters(self.first_column)}:${_column_letters(self.last_column)}"
        return f"{quoted}!{columns},{quoted}!${self.first_row}:${self.last_row}"


def fit_sheet_to_a4(data: bytes, formats: list[str] | None = None) -> bytes:
    """Return an OOXML worksheet part set up to print on A4, one page wide (see ``fit_sheet``)."""
    return fit_sheet(data, formats)[0]


def fit_sheet(data: bytes, formats: list[str] | None = None) -> tuple[bytes, PrintTitles | None]:
    """Return an OOXML worksheet part set up to print on A4, one page wide, and its print titles.

    Paper size A4, fit to 1 page wide and as many tall as needed, landscape when the used
    range is wider than tall (estimated from column widths and row heights). Gridlines,
    row and column headings and print areas stay as the file says. A part that is not
    well-formed XML is returned as it was (LibreOffice then reports it). With the
    workbook's number ``formats`` (``read_number_formats``), columns too narrow for their
    formatted numbers are widened first (``widen_number_columns``), so no number prints
    as ``###``. The print titles are None unless the sheet is split across pages; then they
    are the rows and columns every page should repeat (``print_titles``), for the workbook
    part's ``_xlnm.Print_Titles`` (``add_print_titles``).
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return data, None
    if root.tag != f"{_SML}worksheet":
        return data, None
    titles = None
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
        titles = print_titles(root)
    else:
        setup.set("fitToWidth", "1")
        setup.set("fitToHeight", "0")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True), titles


def print_titles(root) -> PrintTitles:
    """Return the rows and columns a split sheet (worksheet element ``root``) repeats on every page.

    The frozen heading rows and columns where the sheet has them (at most ``MAX_TITLE_ROWS``
    and ``MAX_TITLE_COLUMNS``), else the first row and first column of its used range.
    """
    dimension = root.find(f"{_SML}dimension")
    cells = re.findall(r"([A-Z]+)(\d+)", (dimension.get("ref", "A1") if dimension is not None else "A1").upper())
    first_row = min((int(r) for _, r in cells), default=1)
    first_column = min((_column_number(c) for c, _ in cells), default=1)
    frozen_rows = frozen_columns = 0
    for pane in root.iterfind(f"{_SML}sheetViews/{_SML}sheetView/{_SML}pane"):
        if pane.get("state") in ("frozen", "frozenSplit"):
            try:
                frozen_rows = int(float(pane.get("ySplit", "0")))
                frozen_columns = int(float(pane.get("xSplit", "0")))
            except ValueError:
                pass
            break
    rows = (1, frozen_rows) if 0 < frozen_rows <= MAX_TITLE_ROWS else (first_row, first_row)
    columns = (1, frozen_columns) if 0 < frozen_columns <= MAX_TITLE_COLUMNS else (first_column, first_column)
    return PrintTitles(*rows, *columns)


def add_print_titles(workbook: bytes, rels: bytes, titles: dict[str, PrintTitles]) -> bytes:
    """Return the workbook part ``workbook`` with print titles for the sheets in ``titles``.

    ``titles`` maps worksheet part names (``xl/worksheets/sheet1.xml``, lower case) to the
    rows and columns to repeat; ``rels`` is the workbook's relationships part, which names
    each sheet's part. A sheet that has print titles of its own keeps them. A part that is
    not well-formed XML is returned as it was.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(workbook, parser)
        targets = {}
        for rel in etree.fromstring(rels, parser).iterfind(f"{{{_RELS}}}Relationship"):
            target = rel.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            targets[rel.get("Id")] = posixpath.normpath(part).lower()
    except etree.XMLSyntaxError:
        return workbook
    if root.tag != f"{_SML}workbook":
        return workbook
    names = root.find(f"{_SML}definedNames")
    existing = {name.get("localSheetId") for name in (names if names is not None else [])
                if name.get("name", "").lower() == "_xlnm.print_titles"}
    added = 0
    for index, sheet in enumerate(root.iterfind(f"{_SML}sheets/{_SML}sheet")):
        part = targets.get(sheet.get(f"{{{_DOC_RELS}}}id"))
        if part not in titles or str(index) in existing:
            continue
        if names is None:
            names = etree.Element(f"{_SML}definedNames")
            after = [child for child in root if child.tag in _BEFORE_DEFINED_NAMES]
            root.insert(root.index(after[-1]) + 1 if after else len(root), names)
        name = etree.SubElement(names, f"{_SML}definedName")
        name.set("name", "_xlnm.Print_Titles")
        name.set("localSheetId", str(index))
        name.text = titles[part].reference(sheet.get("name", ""))
        added += 1
    if not added:
        return workbook
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


def _column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number
