"""The registry's counting dates and exchange windows resolved on the Flemish school calendar.

The registry states dates as rules (``first_school_day_of_month`` in October, an exchange in the
``second_half_of_october``); this module turns them into days of a school year with
``orchestration.foundations.calendar``, so deliveries, ingestion checks and schedules read the
protocol's own dates from one place and no module hard-codes a protocol's windows.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from orchestration.foundations import calendar as cal
from orchestration.foundations import school_year as sy
from orchestration.protocols.registry import MONTHS, CountingDate, Protocol


class ExchangeWindow(NamedTuple):
    """One exchange of the registry in a school year: which list, for which counting date, in
    which window (both days included)."""

    counting_date_name: str
    counting_date: dt.date
    list_kind: str
    window_start: dt.date
    window_end: dt.date
    window: str  # as the registry names it, e.g. second_half_of_october


def resolve_counting_date(rule: CountingDate, school_year: str) -> dt.date:
    """A registry counting date in a school year.

    Names the calendar knows (``calendar.counting_dates`` and ``duo_reference_dates``) are taken
    from it, so Python, the dbt seed and the schedules agree; other names follow the rule.
    """
    known = {**cal.counting_dates(school_year), **cal.duo_reference_dates(school_year)}
    if rule.name in known:
        return known[rule.name]
    start = sy.start_year(school_year)
    year = start if rule.month >= 9 else start + 1
    if rule.rule == "first_school_day_of_month":
        return cal.first_school_day_of_month(year, rule.month)
    day = dt.date(year, rule.month, rule.day or 1)
    return cal.first_school_day_on_or_after(day) if rule.rule == "date_or_next_school_day" else day


def window_dates(window: str, after: dt.date) -> tuple[dt.date, dt.date]:
    """``second_half_of_october`` -> (16 October, 31 October) of the first October that does
    not end before ``after``; ``first_half_of_...`` -> the 1st to the 15th."""
    half, month_name = window.split("_", 1)[0], window.rsplit("_", 1)[1]
    month = MONTHS.index(month_name) + 1
    year = after.year if month >= after.month else after.year + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1))
    if half == "first":
        return dt.date(year, month, 1), dt.date(year, month, 15)
    return dt.date(year, month, 16), last


def counting_dates_in(protocol: Protocol, school_year: str) -> dict[str, dt.date]:
    """The protocol's scheduled counting dates (the text's, else its assumed one) in a year."""
    return {c.name: resolve_counting_date(c, school_year)
            for c in protocol.periodicity.scheduled_counting_dates}


def exchange_windows(protocol: Protocol, school_year: str) -> list[ExchangeWindow]:
    """Every exchange of the registry for the counting dates of one school year, with its
    window. A window lies in the first occurrence of its month on or after the counting date
    (so the single September exchange for 15 January and 15 May is the September after them).
    Sorted by window start; a later list for the same date supersedes the earlier one."""
    dates = counting_dates_in(protocol, school_year)
    windows = [ExchangeWindow(ex.counting_date, dates[ex.counting_date], ex.list_kind,
                              *window_dates(ex.window, dates[ex.counting_date]), ex.window)
               for ex in protocol.periodicity.exchanges]
    return sorted(windows, key=lambda e: (e.window_start, e.counting_date))
