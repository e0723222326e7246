"""Which delivery a periodic protocol owes on a given day: pure functions, no Dagster.

Every date comes from the protocol registry (counting dates, exchange windows, validity) resolved
by ``orchestration.foundations.calendar`` (school days, holidays). Nothing here hard-codes a protocol.

An **exchange** is one delivery a protocol owes: for one counting (reference) date, one list kind
(provisional / definitive / single, zorgthuis only), an **exchange day** on which the delivery
job starts, and a last day until which a missed start is made up (the schedule only ticks while
the daemon runs). The rules:

- The registry gives exchange windows (e.g. "tweede helft van oktober"), resolved by
  ``orchestration.protocols.dates.exchange_windows``: a window lies in the first occurrence of
  its month on or after the counting date (so a single September exchange for 15 January and
  15 May is the September after them). The exchange day is the **first school day in the
  window**; it is made up until the window's last day.
- The registry gives counting dates but no windows (e.g. a state on 15 October, 15 December,
  15 February): a state is known once its day is over, so the exchange day is **the day after**
  the counting date (``calendar.duo_exchange_after``), made up during ``CATCH_UP`` days.
- A ``yearly`` protocol whose text names no counting date is planned for the
  ``assumed_counting_date`` its registry entry declares (with the reason).

A delivery is due only while the protocol is valid on the exchange day and on the day the
schedule asks (renewals included); otherwise the answer is a refusal that names the validity
end. The run key ``<protocol>/<counting date>/<counting date name>/<list kind>`` makes every
exchange fire once, however many ticks ask.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from orchestration.foundations import calendar as cal
from orchestration.foundations import school_year as sy
from orchestration.protocols.dates import counting_dates_in, exchange_windows
from orchestration.protocols.registry import Protocol

# How long after its exchange day a delivery without a protocol window may still start (the
# daemon may have been down on the day). Project choice: the texts state no window.
CATCH_UP = dt.timedelta(days=14)

SCHEDULED_KINDS = ("periodic", "yearly")


@dataclass(frozen=True)
class PlannedExchange:
    """One delivery a protocol owes."""

    protocol_id: str
    school_year: str
    counting_date_name: str
    counting_date: dt.date
    list_kind: str  # provisional | definitive | single | state
    exchange_day: dt.date  # the day the delivery job starts
    last_day: dt.date  # a start missed on the exchange day is made up until this day
    window: str  # how the exchange day was found, for messages and tags

    @property
    def run_key(self) -> str:
        return (f"{self.protocol_id}/{self.counting_date.isoformat()}/"
                f"{self.counting_date_name}/{self.list_kind}")

    def tags(self) -> dict[str, str]:
        return {"protocol": self.protocol_id, "school_year": self.school_year,
                "counting_date_name": self.counting_date_name,
                "counting_date": self.counting_date.isoformat(), "list_kind": self.list_kind,
                "exchange_day": self.exchange_day.isoformat()}


@dataclass(frozen=True)
class Decision:
    """What the schedule does on one day: the exchanges to start, or why nothing starts."""

    due: tuple[PlannedExchange, ...]
    reason: str = ""  # for a skip: why nothing is due


def is_scheduled(protocol: Protocol) -> bool:
    """Periodic and yearly protocols get a schedule; ``once`` and ``on_request`` only a job."""
    return protocol.periodicity.kind in SCHEDULED_KINDS


def exchanges_in(protocol: Protocol, school_year: str) -> list[PlannedExchange]:
    """Every exchange the protocol owes for the counting dates of one school year."""
    planned: list[PlannedExchange] = []
    if protocol.periodicity.exchanges:
        for name, counting, list_kind, start, end, window in exchange_windows(protocol,
                                                                              school_year):
            first_school_day = cal.first_school_day_on_or_after(start)
            if first_school_day > end:  # a window without school days: its first day
                first_school_day = start
            how = f"first school day of the {window.replace('_', ' ')}"
            planned.append(PlannedExchange(protocol.id, school_year, name, counting,
                                           list_kind, first_school_day, end, how))
    else:
        for name, counting in counting_dates_in(protocol, school_year).items():
            day = cal.duo_exchange_after(counting)
            planned.append(PlannedExchange(protocol.id, school_year, name, counting, "state", day,
                                           day + CATCH_UP - dt.timedelta(days=1),
                                           f"the day after {name}"))
    return sorted(planned, key=lambda e: (e.exchange_day, e.counting_date, e.list_kind))


def exchanged_before_start(protocol: Protocol,
                           school_years: list[str]) -> list[PlannedExchange]:
    """The lists of ``school_years`` whose exchange moment (not their counting date) fell
    before the protocol took effect and that no quoted arrangement in the registry covered
    (``validity.covered_before_start``): they are never delivered."""
    start = protocol.validity.valid_from
    covered = {(c.counting_date, c.list_kind) for c in protocol.validity.covered_before_start}
    return [e for year in school_years for e in exchanges_in(protocol, year)
            if e.exchange_day < start and (e.counting_date, e.list_kind) not in covered]


def exchanges_around(protocol: Protocol, day: dt.date) -> list[PlannedExchange]:
    """Exchanges whose counting dates lie in the school year of ``day`` or the one before
    (a September exchange belongs to the previous school year's counting dates)."""
    current = sy.start_year(sy.of_date(day))
    found: list[PlannedExchange] = []
    for year in (current - 1, current):
        found.extend(exchanges_in(protocol, sy.key(year)))
    return sorted(found, key=lambda e: (e.exchange_day, e.counting_date, e.list_kind))


def validity_refusal(protocol: Protocol, day: dt.date) -> str | None:
    """Why the protocol allows no delivery on ``day``, or None when it does."""
    if protocol.is_valid_on(day):
        return None
    v = protocol.validity
    if day < v.valid_from:
        return f"{protocol.id} is not valid before {v.valid_from.isoformat()}: no delivery yet"
    ends = v.ends_by_notice_on
    if v.notice is not None and ends is not None and day >= ends:
        return (f"{protocol.id} was terminated: notice given on {v.notice.given_on.isoformat()} "
                f"by {v.notice.given_by} ({v.notice.reference}), notice period "
                f"{v.notice_period}; it ended on {ends.isoformat()}: no exchange from that day")
    end = protocol.valid_until
    return (f"{protocol.id} expired: its validity ended on {end.isoformat()} (registry "
            f"validity{', renewals included' if v.renewals else ''}); no delivery after that "
            "until a renewal is added to the registry")


def decide(protocol: Protocol, day: dt.date) -> Decision:
    """The exchanges to start on ``day`` (the exchange day, or a catch-up day after it)."""
    day = day.date() if isinstance(day, dt.datetime) else day
    if not is_scheduled(protocol):
        return Decision((), f"{protocol.id} is {protocol.periodicity.kind}: it has a job, no "
                            "schedule")
    refusal = validity_refusal(protocol, day)
    if refusal:
        return Decision((), refusal)
    candidates = exchanges_around(protocol, day)
    due = tuple(e for e in candidates if e.exchange_day <= day <= e.last_day
                and protocol.is_valid_on(e.exchange_day))
    if due:
        return Decision(due)
    upcoming = [e for e in candidates if e.exchange_day > day]
    if not upcoming:
        following = exchanges_in(protocol, sy.key(sy.start_year(sy.of_date(day)) + 1))
        upcoming = [e for e in following if e.exchange_day > day]
    nxt = upcoming[0] if upcoming else None
    reason = f"no {protocol.id} exchange due on {day.isoformat()}"
    if nxt is not None:
        reason += (f"; next: {nxt.counting_date_name} {nxt.counting_date.isoformat()} "
                   f"({nxt.list_kind}) on {nxt.exchange_day.isoformat()}")
        if not protocol.is_valid_on(nxt.exchange_day):
            reason += f", but {validity_refusal(protocol, nxt.exchange_day)}"
    return Decision((), reason)


def cron_schedules(protocol: Protocol, years: range | None = None) -> list[str]:
    """Cron strings (07:00) that tick daily on every day that can be an exchange or catch-up
    day of the protocol, in any school year; the evaluation decides which tick delivers.

    Exchange days move with holidays and weekends, so the days of several school years
    (2015-16 .. 2030-31 by default, leap years included) are merged per month.
    """
    years = years or range(2015, 2031)
    days: dict[int, set[int]] = defaultdict(set)
    for year in years:
        for ex in exchanges_in(protocol, sy.key(year)):
            d = ex.exchange_day
            while d <= ex.last_day:
                days[d.month].add(d.day)
                d += dt.timedelta(days=1)
    crons = []
    for month in sorted(days):
        crons.append(f"0 7 {_ranges(sorted(days[month]))} {month} *")
    return crons


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7, 9, 10] -> '1-3,7,9-10'."""
    parts: list[str] = []
    start = prev = numbers[0]
    for n in numbers[1:] + [None]:  # type: ignore[list-item]
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(f"{start}-{prev}" if prev > start else f"{start}")
        if n is not None:
            start = prev = n
    return ",".join(parts)
