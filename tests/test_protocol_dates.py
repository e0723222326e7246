"""The registry's exchange windows on the school calendar (``orchestration.protocols.dates``).

The zorgthuis windows were hard-coded in the calendar module beside the registry; now the
registry's ``periodicity.exchanges`` is the only statement of them. These tests hold the
protocol's article 5 (seed 003) against what the registry resolves to.
"""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.foundations import calendar as cal
from orchestration.foundations import school_year as sy
from orchestration.protocols import load_registry
from orchestration.protocols.dates import exchange_windows, resolve_counting_date

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat
YEARS = tuple(sy.key(y) for y in range(2015, 2027))


def _zorgthuis():
    return load_registry().protocol("zorgthuis")


def test_zorgthuis_exchanges_2023_24_follow_article_5():
    windows = [tuple(e)[:5] for e in exchange_windows(_zorgthuis(), "2023-24")]
    assert windows == [
        ("first_school_day_of_october", D("2023-10-02"), "provisional", D("2023-10-16"),
         D("2023-10-31")),
        ("first_school_day_of_october", D("2023-10-02"), "definitive", D("2023-11-16"),
         D("2023-11-30")),
        ("first_school_day_of_february", D("2024-02-01"), "provisional", D("2024-02-16"),
         D("2024-02-29")),
        ("first_school_day_of_february", D("2024-02-01"), "definitive", D("2024-05-16"),
         D("2024-05-31")),
        ("january_15", D("2024-01-15"), "single", D("2024-09-16"), D("2024-09-30")),
        ("may_15", D("2024-05-15"), "single", D("2024-09-16"), D("2024-09-30")),
    ]


def test_the_february_provisional_window_ends_on_28_february_in_a_common_year():
    (february,) = [e for e in exchange_windows(_zorgthuis(), "2024-25")
                   if e.counting_date_name == "first_school_day_of_february"
                   and e.list_kind == "provisional"]
    assert (february.window_start, february.window_end) == (D("2025-02-16"), D("2025-02-28"))


@pytest.mark.parametrize("school_year", YEARS)
def test_every_zorgthuis_window_is_a_second_half_of_a_month_after_its_counting_date(school_year):
    windows = exchange_windows(_zorgthuis(), school_year)
    assert len(windows) == 6
    dates = cal.counting_dates(school_year)
    for e in windows:
        assert e.counting_date == dates[e.counting_date_name]
        assert e.window_start.day == 16
        assert e.window_end.month == e.window_start.month
        assert (e.window_end + dt.timedelta(days=1)).day == 1
        assert e.counting_date < e.window_start
        assert e.window_start - e.counting_date < dt.timedelta(days=366)


@pytest.mark.parametrize("school_year", YEARS)
def test_every_registry_counting_date_resolves_as_the_calendar_resolves_it(school_year):
    known = {**cal.counting_dates(school_year), **cal.duo_reference_dates(school_year)}
    for protocol in load_registry().protocols.values():
        for rule in protocol.periodicity.scheduled_counting_dates:
            assert resolve_counting_date(rule, school_year) == known[rule.name], protocol.id
