"""Day numbers and school days, vectorised.

Why day numbers: careers are simulated for a million children at once, so dates are int32 days
since 1970-01-01 in numpy arrays and become ``date`` values only in the writers. School days come
from :mod:`orchestration.foundations.calendar` (holidays package, Flemish school holidays), the same rules
the warehouse uses, so counting dates in the synthetic data and in the marts agree.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np

from orchestration.foundations import calendar
from orchestration.foundations import school_year as sy

FIRST_YEAR = sy.FIRST_SCHOOL_YEAR  # 2015 (2015-16)
LAST_YEAR = sy.LAST_SCHOOL_YEAR  # 2025 (2025-26)
YEARS = tuple(range(FIRST_YEAR, LAST_YEAR + 1))
EPOCH = dt.date(1970, 1, 1)


def days_of(values: np.ndarray) -> np.ndarray:
    """datetime64 values -> int32 day numbers."""
    return values.astype("datetime64[D]").astype(np.int64).astype(np.int32)


def day(year, month: int, dom: int):
    """Day number(s) of year(s)/month/day; ``year`` may be an array (days_from_civil)."""
    y = np.asarray(year, dtype=np.int64) - (1 if month <= 2 else 0)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + dom - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    out = (era * 146097 + doe - 719468).astype(np.int32)
    return out if out.ndim else int(out)


def of_date(value: dt.date) -> int:
    return (value - EPOCH).days


def to_date(number: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(number))


@functools.lru_cache(maxsize=1)
def _school_day_table() -> tuple[int, np.ndarray]:
    """(first day number, cumulative school-day count) from 1 Sept 2015 to 31 Aug 2026."""
    first = dt.date(FIRST_YEAR, 9, 1)
    last = dt.date(LAST_YEAR + 1, 8, 31)
    flags = np.array([calendar.is_school_day(first + dt.timedelta(days=i))
                      for i in range((last - first).days + 1)], dtype=np.int32)
    return of_date(first), np.concatenate([[0], np.cumsum(flags)])


def school_days_between(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Number of school days from ``start`` to ``end``, both included (day-number arrays)."""
    origin, cum = _school_day_table()
    s = np.clip(start - origin, 0, len(cum) - 2)
    e = np.clip(end - origin, -1, len(cum) - 2)
    return np.maximum(cum[e + 1] - cum[s], 0)


def last_school_day_on_or_before(value: dt.date) -> dt.date:
    while not calendar.is_school_day(value):
        value -= dt.timedelta(days=1)
    return value


def zorgthuis_dates(start_year: int) -> dict[str, dt.date]:
    """The four zorgthuis counting dates of a school year (from orchestration.foundations.calendar)."""
    dates = calendar.zorgthuis_counting_dates(sy.key(start_year))
    return {"october": dates["zorgthuis_october"], "january": dates["zorgthuis_january"],
            "february": dates["zorgthuis_february"], "may": dates["zorgthuis_may"]}


def duo_dates(start_year: int) -> list[dt.date]:
    """15 October, 15 December, 15 February (DUO and Rijksregister reference dates)."""
    return list(calendar.duo_reference_dates(sy.key(start_year)).values())
