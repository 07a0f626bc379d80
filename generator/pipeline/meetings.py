"""The front door's sammanträden: check one, write its kallelse, its protokoll and the utdrag.

``beslut agenda``, ``beslut minutes`` and ``beslut new --sammantrade`` (and the web page's
meeting pages) call these. The sammanträde's names and files are content (the door
imports them from ``sammantrade``); the protokoll (which loads the holiday calendar) and
what builds papers (agenda, minutes) are imported when a function is called.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..content import load_organisationer

if TYPE_CHECKING:
    from ..agenda import AgendaResult
    from ..minutes import MinutesResult
    from ..protokollet import LoadedProtokoll
    from ..sammantrade import LoadedSammantrade


def validate_sammantrade(path: Path, organisationer_path: Path) -> LoadedSammantrade:
    """Load and check a sammanträde as ``build_agenda`` does before writing; write nothing."""
    from ..agenda import validate_agenda

    return validate_agenda(path, organisationer_path)


def protokoll_file(folder: Path) -> Path:
    """Return the protokoll.yaml of the sammanträde in ``folder`` (there or not)."""
    from ..protokollet import resolve_protokoll_file

    return resolve_protokoll_file(folder)


def enligt_forslag() -> str:
    """Return what a protokoll's beslut says when the förslag was decided as written ("enligt förslag")."""
    from ..protokollet import ENLIGT_FORSLAG

    return ENLIGT_FORSLAG


def person_key(text: str) -> str:
    """Return the name a line about a person starts with, for comparing: "eva exempel"."""
    from ..protokollet import person_key as _person_key

    return _person_key(text)


def display_name(text: str) -> str:
    """Return "Namn (parti)" from a line such as "Eva Exempel (S), ordförande"."""
    from ..protokollet import display_name as _display_name

    return _display_name(text)


def load_protokoll(path: Path, organisationer_path: Path) -> LoadedProtokoll:
    """Read and check the sammanträde at ``path`` and its protokoll as ``build_minutes`` does; write nothing."""
    from ..protokollcheck import load_protokoll as _load_protokoll

    return _load_protokoll(path, organisationer_path)


def build_agenda(path: Path, organisationer_path: Path, out: Path, *, templates: Path | None = None,
                 converter_factory: Callable | None = None,
                 on_progress: Callable[[str], None] | None = None) -> AgendaResult:
    """Check a sammanträde, then write its kallelse and sammanträdeshandlingar (``beslut agenda``)."""
    from ..agenda import build_agenda as _build_agenda

    return _build_agenda(path, organisationer_path, out, templates=templates,
                         converter_factory=converter_factory, on_progress=on_progress)


def build_minutes(path: Path, organisationer_path: Path, out: Path, *, templates: Path | None = None,
                  converter_factory: Callable | None = None,
                  on_progress: Callable[[str], None] | None = None) -> MinutesResult:
    """Check a protokoll, then write it and every protokollsutdrag (``beslut minutes``)."""
    from ..minutes import build_minutes as _build_minutes

    return _build_minutes(path, organisationer_path, out, templates=templates,
                          converter_factory=converter_factory, on_progress=on_progress)


def create_sammantrade(folder: Path, org_id: str, organisationer_path: Path) -> list[Path]:
    """Write a new sammanträde (sammantrade.yaml with the usual punkter); return the files written."""
    from ..scaffold import create_sammantrade as _create_sammantrade

    return list(_create_sammantrade(folder, org_id, load_organisationer(organisationer_path)))


def create_protokoll(folder: Path, organisationer_path: Path) -> Path:
    """Write protokoll.yaml in the sammanträde ``folder``, each ärende's förslag filled in; return it."""
    from ..protokollscaffold import create_protokoll as _create_protokoll

    return _create_protokoll(folder, organisationer_path)


