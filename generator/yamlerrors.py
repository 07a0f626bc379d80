"""PyYAML's syntax errors told in plain Swedish: what is wrong, on which line, what to do.

``describe_yaml_error`` turns a ``yaml.YAMLError`` into a Swedish message and the line the
handläggare should look at (for an unclosed quote: where it opened, not the end of the file).
No English parser text is shown; the caller keeps the original as the exception's cause, so
``--debug`` shows it.
"""

from __future__ import annotations

import re

import yaml

_CHARACTER_NAMES = {
    "\x00": "nolltecken", "\t": "tabb", "\x0b": "vertikal tabb", "\x0c": "sidmatning",
    "\r": "vagnretur", "\x1b": "escape-tecken", "\x85": "radslutstecken (NEL)",
    "\ufffe": "icke-tecken", "\uffff": "icke-tecken",
}

_KEY_LINE = re.compile(r"^(\s*(?:-\s+)?)([^\s:#'\"\[\]{},][^\s:]*):(\s|$)")
"""A line that starts a field: optional list dash, a key without spaces, a colon."""


def describe_character(char: str) -> str:
    """Return a character as the user reads it: ``U+000B (vertikal tabb)``."""
    if "\ud800" <= char <= "\udfff":
        name = "ensamt surrogattecken"
    else:
        name = _CHARACTER_NAMES.get(char, "kontrolltecken")
    return f"U+{ord(char):04X} ({name})"


def describe_yaml_error(error: yaml.YAMLError, text: str) -> tuple[str, int | None]:
    """Return a Swedish message for ``error`` in ``text`` and the line it is about."""
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position) + 1 if isinstance(error.position, int) else None
        char = chr(error.character) if isinstance(error.character, int) else "?"
        return (f"filen innehåller tecknet {describe_character(char)}, som inte kan stå i ett "
                "Word-dokument. Ta bort det.", line)
    if not isinstance(error, yaml.MarkedYAMLError):
        return _syntax("YAML kan inte läsa filen. Kontrollera indrag, kolon och citattecken."), None
    lines = text.splitlines()
    problem = error.problem or ""
    context = error.context or ""
    mark = error.problem_mark or error.context_mark
    if mark is None:
        return _syntax("YAML kan inte läsa filen. Kontrollera indrag, kolon och citattecken."), None
    opened = error.context_mark or mark
    row = mark.line + 1

    if "'\\t'" in problem or "tab character" in problem:
        advice = ("raden har ett tabbtecken där YAML kräver mellanslag: använd mellanslag för "
                  "indrag och efter ':' (ställ in textredigeraren på att skriva mellanslag för Tab).")
        return _at(advice, mark)
    if context in ("while scanning a quoted scalar", "while scanning a double-quoted scalar"):
        quote = _char_at(lines, opened)
        if "end of stream" in problem or "document separator" in problem:
            inside = "''" if quote == "'" else '\\"'
            advice = (f"citattecknet ({quote}) som börjar texten här avslutas aldrig. Avsluta texten "
                      f"med {quote}; ett {quote} inuti texten skrivs {inside}.")
            return _at(advice, opened)
        advice = ("okänd kod efter '\\' inom dubbla citattecken. Skriv '\\\\' för ett bakstreck, "
                  "eller använd enkla citattecken ('…') runt texten.")
        return _at(advice, mark)
    if context in ("while scanning an alias", "while scanning an anchor"):
        sign = _char_at(lines, opened)
        meaning = "en hänvisning" if sign == "*" else "ett ankare"
        advice = (f"texten börjar med '{sign}', som YAML läser som {meaning}: sätt citattecken runt "
                  f"texten, så här: {_quoted(lines, opened.line)}")
        return _at(advice, opened)
    if context in ("while parsing a flow sequence", "while parsing a flow mapping"):
        start, end = ("[", "]") if "sequence" in context else ("{", "}")
        instead = ("en punkt per rad som börjar med '- '" if start == "["
                   else "ett fält per rad, indraget under fältet")
        advice = (f"'{start}' som börjar här avslutas inte med '{end}' (eller saknar ',' mellan "
                  f"värdena). Skriv hellre {instead}, eller sätt citattecken runt texten om "
                  f"'{start}' hör till den.")
        return _at(advice, opened)
    if context == "while scanning a block scalar":
        advice = ("efter '|' eller '>' ska raden ta slut: skriv texten på raderna under, indragen.")
        return _at(advice, opened)
    if context == "while scanning a simple key":
        advice = "raden saknar ':' efter fältnamnet. Skriv fält på formen 'namn: värde'."
        return _at(advice, opened)
    if problem == "mapping values are not allowed here":
        return _colon_in_text(lines, mark)
    if problem == "mapping keys are not allowed here" or "cannot start any token" in problem:
        sign = _char_at(lines, mark)
        advice = (f"texten kan inte börja med '{sign}' i YAML: sätt citattecken runt texten, så "
                  f"här: {_quoted(lines, mark.line)}")
        return _at(advice, mark)
    if "expected a single document" in context:
        advice = ("filen får bara innehålla ett dokument, och raden '---' avslutar det. Ta bort "
                  "raden, eller sätt citattecken runt texten om den börjar med '---'.")
        return _at(advice, mark)
    if "found unexpected end of stream" in problem or "<stream end>" in problem:
        advice = ("filen tar slut för tidigt: något som börjar här (citattecken, '[' eller '{') "
                  "avslutas aldrig.")
        return _at(advice, opened)
    if problem.startswith(("expected <block end>", "did not find expected", "expected '<document start>'")):
        return _misplaced(lines, mark)
    advice = "YAML kan inte läsa raden. Kontrollera indrag, kolon och citattecken på raden och raden före."
    return _syntax(advice, mark.column), row


def _at(advice: str, mark) -> tuple[str, int]:
    """Return ``advice`` as a syntax error message at ``mark``, and the mark's line."""
    return _syntax(advice, mark.column), mark.line + 1


def _syntax(advice: str, column: int | None = None) -> str:
    where = f" (kolumn {column + 1})" if column is not None else ""
    return f"YAML-syntaxfel{where}: {advice}"


def _char_at(lines: list[str], mark) -> str:
    """Return the character at ``mark`` (or '?' past the end)."""
    line = lines[mark.line] if mark.line < len(lines) else ""
    return line[mark.column] if mark.column < len(line) else "?"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_list_item(line: str) -> bool:
    stripped = line.lstrip(" ")
    return stripped == "-" or stripped.startswith("- ")


def _quoted(lines: list[str], index: int) -> str:
    """Return line ``index`` with its text in single quotes: ``rubrik: 'Beslut: ny plan'``."""
    line = lines[index] if index < len(lines) else ""
    match = _KEY_LINE.match(line)
    if match:
        prefix, value = match.group(1) + match.group(2) + ": ", line[match.end():]
    else:
        dash = re.match(r"^\s*(-\s+)?", line)
        assert dash is not None  # the pattern matches any line
        prefix, value = (dash.group(1) or ""), line[dash.end():]
    value = value.strip().replace("'", "''")
    return f"{prefix.strip()} '{value}'".strip() if prefix.strip() else f"'{value}'"


def _previous(lines: list[str], index: int, wanted) -> int | None:
    """Return the index of the nearest line above ``index`` that is not blank or a comment
    and for which ``wanted(line)`` holds."""
    for i in range(index - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#") and wanted(lines[i]):
            return i
    return None


def _colon_in_text(lines: list[str], mark) -> tuple[str, int]:
    """Explain a ': ' that YAML read as a new field: in a text, or on a line indented too far."""
    line = lines[mark.line]
    if ": " in line[: mark.column] or line[: mark.column].rstrip().endswith(":"):
        advice = ("texten innehåller ': ' (kolon och mellanslag), som YAML läser som ett nytt "
                  f"fält: sätt citattecken runt texten, så här: {_quoted(lines, mark.line)}")
        return _syntax(advice, mark.column), mark.line + 1
    key = _previous(lines, mark.line, _KEY_LINE.match)
    if key is not None and _indent(line) > _indent(lines[key]):
        advice = (f"raden fortsätter texten från rad {key + 1} och innehåller ': ', som YAML läser "
                  f"som ett nytt fält. Är det ett nytt fält: raden ska ha samma indrag som rad "
                  f"{key + 1} ({_indent(lines[key])} mellanslag). Är det text: sätt citattecken runt "
                  "hela texten.")
        return _syntax(advice, mark.column), mark.line + 1
    above = _previous(lines, mark.line, lambda _: True)
    if above is not None:
        advice = "raden saknar ':' efter fältnamnet. Skriv fält på formen 'namn: värde'."
        return _syntax(advice), above + 1
    advice = "YAML kan inte läsa raden. Kontrollera indrag, kolon och citattecken."
    return _syntax(advice, mark.column), mark.line + 1


def _misplaced(lines: list[str], mark) -> tuple[str, int]:
    """Explain something YAML did not expect where it stands: text after a closing quote or
    bracket on the same line, or a line whose indentation does not match the lines above."""
    line = lines[mark.line] if mark.line < len(lines) else ""
    if line.strip() and mark.column > _indent(line) + (2 if _is_list_item(line) else 0):
        match = _KEY_LINE.match(line)
        value = line[match.end():].strip() if match else line.strip().lstrip("- ")
        sign = value[:1] or "?"
        closing = {"[": "]", "{": "}"}.get(sign, sign)
        advice = (f"texten börjar med '{sign}' och fortsätter efter det avslutande '{closing}'. "
                  f"YAML läser då bara det som står inom '{sign}{closing}': sätt citattecken runt hela "
                  f"texten, så här: {_quoted(lines, mark.line)}")
        return _syntax(advice, mark.column), mark.line + 1
    same_kind = _is_list_item if _is_list_item(line) else _KEY_LINE.match
    other = _previous(lines, mark.line, same_kind)
    if other is not None and _indent(lines[other]) != _indent(line):
        advice = (f"raden ska ha samma indrag som rad {other + 1} ({_indent(lines[other])} "
                  "mellanslag): indraget visar vad som hör ihop.")
    elif _is_list_item(line):
        advice = ("en lista ('- ') kan inte stå här. Skriv listan indragen under ett fält som "
                  "slutar med ':', t.ex. 'förslag_till_beslut:'.")
    else:
        advice = ("raden har fel indrag i förhållande till raderna ovanför: fält på samma nivå "
                  "ska ha samma antal mellanslag i början.")
    return _syntax(advice, mark.column), mark.line + 1
