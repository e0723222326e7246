"""School years: the warehouse's time axis and its Dagster partition keys.

A Flemish school year runs from 1 September to 31 August. Partition keys use the short form
``2023-24``; source files use the long form ``2023-2024``.
"""

from __future__ import annotations

import datetime as dt

FIRST_SCHOOL_YEAR = 2015  # 2015-16
LAST_SCHOOL_YEAR = 2025  # 2025-26


def key(start_year: int) -> str:
    """``2023`` -> ``2023-24``."""
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def start_year(school_year: str) -> int:
    """``2023-24`` or ``2023-2024`` -> ``2023``; rejects anything else."""
    first, _, second = school_year.partition("-")
    if not (len(first) == 4 and first.isdigit() and second.isdigit() and len(second) in (2, 4)):
        raise ValueError(f"not a school year: {school_year!r}")
    year = int(first)
    if int(second) % 100 != (year + 1) % 100:
        raise ValueError(f"not a school year: {school_year!r}")
    return year


def long_form(school_year: str) -> str:
    """``2023-24`` -> ``2023-2024``, the form in source file names and columns."""
    year = start_year(school_year)
    return f"{year}-{year + 1}"


def of_date(day: dt.date) -> str:
    """The school year a date belongs to (1 September to 31 August)."""
    return key(day.year if day.month >= 9 else day.year - 1)


def first_day(school_year: str) -> dt.date:
    return dt.date(start_year(school_year), 9, 1)


def last_day(school_year: str) -> dt.date:
    return dt.date(start_year(school_year) + 1, 8, 31)


ALL: tuple[str, ...] = tuple(key(y) for y in range(FIRST_SCHOOL_YEAR, LAST_SCHOOL_YEAR + 1))
