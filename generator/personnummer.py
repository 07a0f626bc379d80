"""Personnummer and samordningsnummer: finding them in text and masking them.

A number is a personnummer when its date exists and its last digit passes the Luhn
check (a samordningsnummer has 60 added to the day); a telephone number is not one.
The review (``review.check_personnummer``) stops a final document that has one; what is
written beside the documents (tillgänglighetsrapport, manifest.json) is masked with
``mask_personnummer``, except the numbers the ärende allows (``tillåt_personnummer``: the
paper itself prints them; see ``review.allowed_personnummer``). Pure text, no content
model: any stage may use it.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Collection
from typing import Any

PERSONNUMMER = re.compile(
    r"(?<![\w/.,+-])(?P<century>\d{2})?(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})"
    r"(?P<sep>[-+]?)(?P<last>\d{4})(?![\w/]|[-+.,]\d)"
)
"""ÅÅMMDD-NNNN, ÅÅMMDD+NNNN (100 years or older), ÅÅMMDDNNNN, ÅÅÅÅMMDD-NNNN, ÅÅÅÅMMDDNNNN."""

_PHONE_CONTEXT = re.compile(r"\b(?:tel|telefon|tfn|mobil|mobilnummer|fax|växel|sms)\W{0,3}\S*\W{0,3}$", re.I)


def luhn_valid(digits: str) -> bool:
    """Return True if ``digits`` (ÅÅMMDDNNNN) end with a correct Luhn check digit."""
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def personnummer_kind(match: re.Match) -> str | None:
    """Return "personnummer" or "samordningsnummer" if ``match`` is one, else None.

    The date must exist (a samordningsnummer has 60 added to the day) and the last digit
    must pass the Luhn check. Ten digits without a separator that begin with 0 are read as
    a telephone number (Swedish numbers begin with 0), not as someone born 2000–2009.
    """
    century, yy, mm, dd, sep, last = match.group("century", "yy", "mm", "dd", "sep", "last")
    if century is None and not sep and yy.startswith("0"):
        return None
    if century is not None and century not in ("18", "19", "20"):
        return None
    month, day = int(mm), int(dd)
    kind = "personnummer"
    if day > 60:
        day, kind = day - 60, "samordningsnummer"
    year = int(century + yy) if century else 2000 + int(yy)  # 20ÅÅ is a leap year iff ÅÅ % 4 == 0
    if not (1 <= month <= 12 and 1 <= day <= monthrange(year, month)[1]):
        return None
    if not luhn_valid(yy + mm + dd + last):
        return None
    return kind


def find_personnummer(text: str) -> list[tuple[re.Match, str]]:
    """Return every personnummer and samordningsnummer in ``text`` with its kind."""
    found = []
    for match in PERSONNUMMER.finditer(text):
        if _PHONE_CONTEXT.search(text[max(0, match.start() - 25):match.start()]):
            continue
        kind = personnummer_kind(match)
        if kind:
            found.append((match, kind))
    return found


def personnummer_key(match: re.Match) -> str:
    """Return the number of ``match`` as its ten digits ÅÅMMDDNNNN, whichever way it is written."""
    return "".join(match.group("yy", "mm", "dd", "last"))


def name_as_text(file_name: str) -> str:
    """Return a file name with its separators (/, \\, _) as spaces, so numbers in it stand alone."""
    return re.sub(r"[/\\_]", " ", file_name)


def mask_personnummer(text: str, allowed: Collection[str] = ()) -> str:
    """Return ``text`` with the last four digits of every personnummer and samordningsnummer masked.

    For what is written beside the documents (tillgänglighetsrapport, manifest.json): a
    number is found as the review finds it, in running text and in file names alike.
    A number in ``allowed`` (``personnummer_key``: the ärende allows it) is left as it is.
    """
    found = find_personnummer(name_as_text(text))  # same length: offsets match ``text``
    for match, _ in reversed(found):
        if personnummer_key(match) in allowed:
            continue
        text = text[:match.end() - 4] + "****" + text[match.end():]
    return text


def mask_personnummer_in(data: Any, allowed: Collection[str] = ()) -> Any:
    """Return JSON data (dicts, lists, strings) with ``mask_personnummer`` applied to every string."""
    if isinstance(data, str):
        return mask_personnummer(data, allowed)
    if isinstance(data, dict):
        return {key: mask_personnummer_in(value, allowed) for key, value in data.items()}
    if isinstance(data, list):
        return [mask_personnummer_in(value, allowed) for value in data]
    return data
