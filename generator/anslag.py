"""The anslag of a justerat protokoll: when it is posted, the last day to appeal, when it comes down.

Kommunallagen (2017:725) 13 kap. 5 §: an appeal (laglighetsprövning) must have come in
within three weeks of the day the justering was announced on the anslagstavla, and
8 kap. 12 § keeps the announcement there until that time has run out. Lagen (1930:173)
om beräkning av lagstadgad tid moves a last day that falls on a Saturday, a Sunday, another
allmän helgdag, midsommarafton, julafton or nyårsafton to the next weekday: the days
``holidays`` (Sweden) lists as public and de facto holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays

APPEAL_DAYS = 21
"""Three weeks, from the day the anslag is posted."""


@dataclass(frozen=True)
class Anslag:
    """The dates of one protokoll's anslag, as the tillkännagivande prints them."""

    justerat: date
    """The day the protokoll was justerat."""
    uppsatt: date
    """The day the anslag is posted on the anslagstavla (not before ``justerat``)."""
    sista_dag: date
    """The last day an appeal may come in."""
    nedtas: date
    """The day the anslag comes down: the day after ``sista_dag``."""


@lru_cache(maxsize=32)
def _closed_days(year: int) -> frozenset[date]:
    found = holidays.country_holidays("SE", years=year, categories=("public", "de_facto"), include_sundays=False)
    return frozenset(found)


def is_closed_day(day: date) -> bool:
    """Return True for a Saturday, Sunday, allmän helgdag, midsommarafton, julafton or nyårsafton."""
    return day.weekday() >= 5 or day in _closed_days(day.year)


def next_open_day(day: date) -> date:
    """Return ``day``, or the next day that is not a closed day (lagen om beräkning av lagstadgad tid)."""
    while is_closed_day(day):
        day += timedelta(days=1)
    return day


def last_appeal_day(posted: date) -> date:
    """Return the last day to appeal a decision whose protokoll's anslag went up on ``posted``."""
    return next_open_day(posted + timedelta(days=APPEAL_DAYS))


def anslag_for(justerat: date, uppsatt: date | None = None) -> Anslag:
    """Return the anslag's dates: posted ``uppsatt`` (default: the day of justering).

    Raise ``ValueError`` when the anslag would go up before the protokoll is justerat.
    """
    posted = uppsatt or justerat
    if posted < justerat:
        raise ValueError(f"anslaget ({posted.isoformat()}) kan inte sättas upp före justeringen "
                         f"({justerat.isoformat()})")
    last = last_appeal_day(posted)
    return Anslag(justerat=justerat, uppsatt=posted, sista_dag=last, nedtas=last + timedelta(days=1))
