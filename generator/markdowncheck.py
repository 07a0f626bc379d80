"""The Markdown of a text field read and checked: the parser, and what cannot become a correct Word document.

The handläggare writes text fields in Markdown, parsed by markdown-it-py (CommonMark, GitHub
pipe tables, footnotes; no images, raw HTML kept as text): ``parse_markdown``, once per text.
Before anything is written, a field is checked here: footnotes inside footnotes, footnote
references without their text and tables too large are refused (``markdown_problems``,
called when content is checked); a line that looks like a table row but is not one is
warned about (``table_warnings``). Writing the tokens into Word is ``markdown``'s.
This room needs no Word library, so content checks Markdown without loading one.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

_PARSER = (MarkdownIt("commonmark", {"html": False, "linkify": False})
           .disable("image").enable("table").use(footnote_plugin))


@lru_cache(maxsize=256)
def parse_markdown(text: str) -> tuple[Token, ...]:
    """Return the markdown-it tokens of ``text``; a batch parses each text only once."""
    return tuple(_PARSER.parse(text))


def find_stray_table_lines(text: str) -> list[int]:
    """Return the (1-based) lines of ``text`` that start with '|' but are not part of a table.

    markdown-it prints a malformed pipe table (no delimiter row, or a different number of
    columns) as plain text with its pipes; the handläggare is warned instead.
    """
    covered: set[int] = set()
    for token in parse_markdown(text or ""):
        if token.type in ("table_open", "fence", "code_block") and token.map:
            covered.update(range(*token.map))
    return [number + 1 for number, line in enumerate((text or "").splitlines())
            if line.lstrip().startswith("|") and number not in covered]


MAX_TABLE_ROWS = 1000
"""The most rows (header included) a Markdown table may have: the PDF checker refuses a table over 1024."""
MAX_TABLE_COLUMNS = 63
"""The most columns a Markdown table may have: Word's own limit."""
_FOOTNOTE_LEFT_AS_TEXT = re.compile(r"\[\^([^\]\s]+)\]")


def markdown_problems(text: str) -> list[tuple[int, str]]:
    """Return what in the Markdown ``text`` cannot become a correct Word document, with its line.

    Each problem is (line in the text, 0-based; Swedish message): a footnote reference inside
    a footnote (Word has no footnotes in footnotes), a footnote reference with no footnote
    text (it would be printed as '[^x]'), and a table over ``MAX_TABLE_ROWS`` rows or
    ``MAX_TABLE_COLUMNS`` columns.
    """
    problems: list[tuple[int, str]] = []
    in_footnote = False
    table_line, rows, columns, cells = 0, 0, 0, 0
    for token in parse_markdown(text or ""):
        kind = token.type
        if kind == "footnote_open":
            in_footnote = True
        elif kind == "footnote_close":
            in_footnote = False
        elif kind == "table_open":
            table_line, rows, columns = (token.map or (0,))[0], 0, 0
        elif kind == "tr_open":
            rows, cells = rows + 1, 0
        elif kind in ("td_open", "th_open"):
            cells += 1
            columns = max(columns, cells)
        elif kind == "table_close":
            if rows > MAX_TABLE_ROWS:
                problems.append((table_line, f"tabellen har {rows} rader, men en tabell får ha högst "
                                 f"{MAX_TABLE_ROWS}. Dela upp den i flera tabeller, eller lägg uppgifterna "
                                 "i en bilaga (t.ex. ett Excel-ark)."))
            if columns > MAX_TABLE_COLUMNS:
                problems.append((table_line, f"tabellen har {columns} kolumner, men Word tillåter högst "
                                 f"{MAX_TABLE_COLUMNS}. Dela upp den, eller lägg uppgifterna i en bilaga."))
        elif kind == "inline":
            line = (token.map or (0,))[0]
            for child in token.children or []:
                if child.type == "footnote_ref" and in_footnote:
                    label = child.meta.get("label", "")
                    problems.append((line, f"fotnoten [^{label}] står i en annan fotnots text. Word kan inte "
                                     "ha en fotnot i en fotnot: skriv texten direkt i den första fotnoten."))
                elif child.type == "text":
                    for match in _FOOTNOTE_LEFT_AS_TEXT.finditer(child.content):
                        problems.append((line, f"fotnoten {match.group(0)} har ingen fotnotstext. Lägg till en "
                                         f"rad '{match.group(0)}: …' längre ned i fältet, eller ta bort "
                                         "hänvisningen."))
    return problems


def table_warnings(model, field: str = "") -> list[str]:
    """Return a Swedish warning for every malformed Markdown table in ``model``'s text fields.

    ``model`` is a pydantic model (an ärende or an utskick); every string in it is checked,
    named by its YAML key.
    """
    warnings = []
    if isinstance(model, str):
        stray = find_stray_table_lines(model)
        for line in [n for n in stray if n - 1 not in stray]:  # once per block of lines
            shown = model.splitlines()[line - 1].strip()
            warnings.append(
                f"{field}, rad {line} i texten: '{shown[:60]}' ser ut som en tabellrad men blev "
                "ingen tabell och skrivs ut som text. En tabell behöver en rubrikrad, sedan en "
                "avgränsningsrad som '| --- | --- |' och lika många kolumner på varje rad.")
    elif isinstance(model, (list, tuple)):
        for index, item in enumerate(model, 1):
            warnings += table_warnings(item, f"{field} {index}")
    elif hasattr(type(model), "model_fields"):
        for name, info in type(model).model_fields.items():
            key = info.alias or name
            warnings += table_warnings(getattr(model, name), f"{field}.{key}" if field else key)
    return warnings
