"""The anslag's dates: three weeks to appeal, moved past weekends and Swedish holidays."""

from __future__ import annotations

from datetime import date

import pytest

from generator.anslag import anslag_for, is_closed_day, last_appeal_day


@pytest.mark.parametrize(("posted", "last", "why"), [
    (date(2026, 3, 2), date(2026, 3, 23), "an ordinary Monday: exactly three weeks"),
    (date(2026, 1, 10), date(2026, 2, 2), "three weeks end on a Saturday: Monday"),
    (date(2025, 3, 28), date(2025, 4, 22), "långfredagen, påskafton, påskdagen, annandag påsk: Tuesday"),
    (date(2025, 5, 30), date(2025, 6, 23), "midsommarafton (a Friday), then the weekend: Monday"),
    (date(2026, 12, 3), date(2026, 12, 28), "julafton, juldagen, then the weekend: Monday"),
    (date(2025, 12, 10), date(2026, 1, 2), "nyårsafton, then nyårsdagen: Friday 2 January"),
    (date(2026, 4, 23), date(2026, 5, 15), "Kristi himmelsfärdsdag (Thursday 14 May): Friday"),
    (date(2026, 5, 16), date(2026, 6, 8), "6 June, nationaldagen, is a Saturday; the 21st day is Saturday 6 June"),
])
def test_last_day_to_appeal(posted, last, why):
    assert last_appeal_day(posted) == last, why


def test_the_closed_days_are_the_law_s():
    assert is_closed_day(date(2026, 6, 19))  # midsommarafton
    assert is_closed_day(date(2026, 12, 24)) and is_closed_day(date(2026, 12, 31))
    assert is_closed_day(date(2026, 1, 6))  # trettondedag jul
    assert not is_closed_day(date(2026, 4, 30))  # valborgsmässoafton is a working day
    assert not is_closed_day(date(2026, 3, 2))


def test_anslag_dates_and_the_day_it_comes_down():
    anslag = anslag_for(date(2026, 3, 2), date(2026, 3, 4))
    assert (anslag.justerat, anslag.uppsatt, anslag.sista_dag, anslag.nedtas) == (
        date(2026, 3, 2), date(2026, 3, 4), date(2026, 3, 25), date(2026, 3, 26))
    assert anslag_for(date(2026, 3, 2)).uppsatt == date(2026, 3, 2)


def test_an_anslag_before_the_justering_is_refused():
    with pytest.raises(ValueError, match="före justeringen"):
        anslag_for(date(2026, 3, 2), date(2026, 3, 1))
