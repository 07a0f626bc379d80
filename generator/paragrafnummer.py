"""The § numbers of a protokoll, running through the organisation's year.

The first § of the first protokoll of a year is its ``första_paragraf``, else the
registry's, else 1; every later protokoll of the year under ``content/sammantraden/``
continues where the one before ended (``paragraf_start``). A stated ``första_paragraf``
that leaves a gap or repeats a § is refused, naming both protokoll.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .errors import ContentError
from .model import Organisationer
from .protokollet import PROTOKOLL_FILE, Protokoll
from .sammantrade import SAMMANTRADE_FILE, LoadedSammantrade, Sammantrade
from .validation import validate_model
from .yamlfile import YamlDocument, read_yaml


@dataclass(frozen=True)
class _Held:
    """A sammanträde of the same organisation and year that has a protokoll."""

    folder: Path
    datum: date
    punkter: int
    stated: int | None
    stated_line: int | None
    protokoll: Path


def paragraf_start(meeting: LoadedSammantrade, protokoll: Protokoll, doc: YamlDocument,
                   organisationer: Organisationer) -> int:
    """Return the first § of this protokoll, continuing the organisation's year.

    The sammanträden are the folders beside this one (``content/sammantraden/*``) of the same
    organisation and year that have a protokoll, in date order. Raise ContentError on a gap,
    a repeated § or an earlier meeting of the year without a protokoll.
    """
    here = meeting.source.parent.resolve()
    year = meeting.sammantrade.datum.year
    org = meeting.organisation
    held: list[_Held] = []
    waiting: list[tuple[Path, date]] = []
    for folder in sorted(p for p in here.parent.iterdir() if (p / SAMMANTRADE_FILE).is_file()):
        folder = folder.resolve()
        if folder == here:
            held.append(_Held(here, meeting.sammantrade.datum, len(meeting.punkter), protokoll.forsta_paragraf,
                              doc.line_of(("första_paragraf",)), doc.path))
            continue
        other = _read_other(folder)
        if other is None or other[0].organisation != org.id or other[0].datum.year != year:
            continue
        sammantrade, first, line = other
        if (folder / PROTOKOLL_FILE).is_file():
            held.append(_Held(folder, sammantrade.datum, len(sammantrade.punkter), first, line,
                              folder / PROTOKOLL_FILE))
        else:
            waiting.append((folder, sammantrade.datum))
    held.sort(key=lambda h: (h.datum, h.folder.name))
    mine = next(i for i, h in enumerate(held) if h.folder == here)
    earlier_waiting = [w for w in waiting if w[1] < meeting.sammantrade.datum]
    if earlier_waiting and protokoll.forsta_paragraf is None:
        folder, datum = earlier_waiting[-1]
        raise ContentError(f"{org.namn} har ett tidigare sammanträde {datum.isoformat()} ({folder}) utan "
                           "protokoll, så paragraferna i det här protokollet kan inte räknas fram. Skriv det "
                           "protokollet först, eller ange 'första_paragraf:' här.", file=doc.path)
    start = getattr(org, "forsta_paragraf", None) or 1
    expected = start
    for i, h in enumerate(held[:mine + 1]):
        if i == 0:
            expected = h.stated or start
        elif h.stated is not None and h.stated != expected:
            before = held[i - 1]
            last = expected - 1
            kind = (f"lucka: § {expected}–{h.stated - 1} finns inte i något protokoll" if h.stated > expected
                    else f"dubblett: § {h.stated}–{last} finns redan i protokollet från {before.datum.isoformat()}")
            raise ContentError(
                f"första_paragraf {h.stated} passar inte i {org.namn}s paragrafserie för {year} ({kind}). "
                f"Protokollet från {before.datum.isoformat()} ({before.protokoll}) slutar med § {last}, så det "
                f"här ska börja med § {expected}. Ta bort 'första_paragraf' eller rätta den.",
                file=h.protokoll, line=h.stated_line, field="första_paragraf")
        if i == mine:
            return expected
        expected = expected + h.punkter
    raise AssertionError("unreachable")


def _read_other(folder: Path) -> tuple[Sammantrade, int | None, int | None] | None:
    """Return another meeting's sammanträde and its protokoll's första_paragraf (and line)."""
    try:
        sammantrade = validate_model(Sammantrade, read_yaml(folder / SAMMANTRADE_FILE))
    except ContentError as e:
        raise ContentError(f"ett annat sammanträde i samma mapp har fel, och paragrafserien kan inte räknas "
                           f"fram förrän det är rättat:\n{e.format()}", file=folder / SAMMANTRADE_FILE) from e
    file = folder / PROTOKOLL_FILE
    if not file.is_file():
        return sammantrade, None, None
    doc = read_yaml(file)
    data = doc.data if isinstance(doc.data, dict) else {}
    value = data.get("första_paragraf")
    if value is None:
        return sammantrade, None, None
    try:
        return sammantrade, int(str(value)), doc.line_of(("första_paragraf",))
    except ValueError:
        raise ContentError("första_paragraf ska vara ett heltal, t.ex. 101.", file=file,
                           line=doc.line_of(("första_paragraf",)), field="första_paragraf") from None
