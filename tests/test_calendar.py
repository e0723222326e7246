"""Tests for orchestration.foundations.calendar: the Flemish school calendar and the protocol dates.

The expected calendar is the published table in /work/shared/DOMAIN.md §5 (school years 2017-18 to
2025-26; 2026-27 added here from the same BVR rules) and, independently of the holidays package,
the BVR 17 April 1991 rules themselves, implemented below from their DOMAIN.md summary.
"""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.foundations import calendar as cal
from orchestration.foundations import school_year as sy

D = dt.date.fromisoformat


def _day_range(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# --------------------------------------------------------------------------------------------
# The published calendar (DOMAIN.md §5)
# --------------------------------------------------------------------------------------------

# school year: 1st school day, 1st October school day, herfst, kerst, 1st February school day,
# krokus, pasen, Hemelvaart (Ascension Thursday; the Friday after is the bridge day).
PUBLISHED = {
    "2017-18": ("2017-09-01", "2017-10-02", ("2017-10-30", "2017-11-05"), ("2017-12-25", "2018-01-07"), "2018-02-01", ("2018-02-12", "2018-02-18"), ("2018-04-02", "2018-04-15"), "2018-05-10"),
    "2018-19": ("2018-09-03", "2018-10-01", ("2018-10-29", "2018-11-04"), ("2018-12-24", "2019-01-06"), "2019-02-01", ("2019-03-04", "2019-03-10"), ("2019-04-08", "2019-04-22"), "2019-05-30"),
    "2019-20": ("2019-09-02", "2019-10-01", ("2019-10-28", "2019-11-03"), ("2019-12-23", "2020-01-05"), "2020-02-03", ("2020-02-24", "2020-03-01"), ("2020-04-06", "2020-04-19"), "2020-05-21"),
    "2020-21": ("2020-09-01", "2020-10-01", ("2020-11-02", "2020-11-15"), ("2020-12-21", "2021-01-03"), "2021-02-01", ("2021-02-15", "2021-02-21"), ("2021-04-05", "2021-04-18"), "2021-05-13"),
    "2021-22": ("2021-09-01", "2021-10-01", ("2021-11-01", "2021-11-07"), ("2021-12-27", "2022-01-09"), "2022-02-01", ("2022-02-28", "2022-03-06"), ("2022-04-04", "2022-04-18"), "2022-05-26"),
    "2022-23": ("2022-09-01", "2022-10-03", ("2022-10-31", "2022-11-06"), ("2022-12-26", "2023-01-08"), "2023-02-01", ("2023-02-20", "2023-02-26"), ("2023-04-03", "2023-04-16"), "2023-05-18"),
    "2023-24": ("2023-09-01", "2023-10-02", ("2023-10-30", "2023-11-05"), ("2023-12-25", "2024-01-07"), "2024-02-01", ("2024-02-12", "2024-02-18"), ("2024-04-01", "2024-04-14"), "2024-05-09"),
    "2024-25": ("2024-09-02", "2024-10-01", ("2024-10-28", "2024-11-03"), ("2024-12-23", "2025-01-05"), "2025-02-03", ("2025-03-03", "2025-03-09"), ("2025-04-07", "2025-04-21"), "2025-05-29"),
    "2025-26": ("2025-09-01", "2025-10-01", ("2025-10-27", "2025-11-02"), ("2025-12-22", "2026-01-04"), "2026-02-02", ("2026-02-16", "2026-02-22"), ("2026-04-06", "2026-04-19"), "2026-05-14"),
    # Not in DOMAIN.md: derived here by hand from the BVR rules (1 Nov 2026 is a Sunday, Easter
    # 2027 is 28 March, so the Easter break starts on Easter Monday).
    "2026-27": ("2026-09-01", "2026-10-01", ("2026-11-02", "2026-11-08"), ("2026-12-21", "2027-01-03"), "2027-02-01", ("2027-02-08", "2027-02-14"), ("2027-03-29", "2027-04-11"), "2027-05-06"),
}  # fmt: skip
YEARS = tuple(PUBLISHED)
BREAKS = {"Herfstvakantie": 2, "Kerstvakantie": 3, "Krokusvakantie": 5, "Paasvakantie": 6}


def _period(school_year: str, name: str) -> tuple[dt.date, dt.date]:
    (found,) = [p for p in cal.school_holidays(school_year) if p.name == name]
    return found.start, found.end


def test_the_table_covers_school_years_2017_18_to_2026_27():
    assert YEARS == tuple(sy.key(y) for y in range(2017, 2027))


def test_the_holidays_package_is_asked_for_the_flemish_community_with_public_and_school_days():
    assert (cal.COUNTRY, cal.SUBDIVISION, cal.CATEGORIES) == ("BE", "Flemish", ("public", "school"))


@pytest.mark.parametrize("school_year", YEARS)
def test_the_first_school_day_of_the_school_year_matches_the_published_calendar(school_year):
    assert cal.first_school_day_of_school_year(school_year) == D(PUBLISHED[school_year][0])


@pytest.mark.parametrize("school_year", YEARS)
def test_the_first_school_day_of_october_matches_the_published_calendar(school_year):
    expected = D(PUBLISHED[school_year][1])
    assert cal.counting_dates(school_year)["first_school_day_of_october"] == expected
    assert cal.first_school_day_of_month(sy.start_year(school_year), 10) == expected


@pytest.mark.parametrize("school_year", YEARS)
def test_the_first_school_day_of_february_matches_the_published_calendar(school_year):
    expected = D(PUBLISHED[school_year][4])
    assert cal.counting_dates(school_year)["first_school_day_of_february"] == expected
    assert cal.first_school_day_of_month(sy.start_year(school_year) + 1, 2) == expected


@pytest.mark.parametrize("name", BREAKS)
@pytest.mark.parametrize("school_year", YEARS)
def test_each_school_break_matches_the_published_calendar(school_year, name):
    start, end = PUBLISHED[school_year][BREAKS[name]]
    assert _period(school_year, name) == (D(start), D(end))


@pytest.mark.parametrize("name", BREAKS)
@pytest.mark.parametrize("school_year", YEARS)
def test_no_day_of_a_school_break_is_a_school_day_and_lessons_resume_right_after(school_year, name):
    start, end = _period(school_year, name)
    assert not any(cal.is_school_day(day) for day in _day_range(start, end))
    assert cal.is_school_day(end + dt.timedelta(days=1))
    last_weekday_before = start - dt.timedelta(days=1)
    while last_weekday_before.weekday() >= 5:
        last_weekday_before -= dt.timedelta(days=1)
    assert cal.is_school_day(last_weekday_before)


@pytest.mark.parametrize("school_year", YEARS)
def test_ascension_and_its_bridge_friday_are_not_school_days(school_year):
    ascension = D(PUBLISHED[school_year][7])
    bridge = ascension + dt.timedelta(days=1)
    assert (ascension.weekday(), bridge.weekday()) == (3, 4)
    assert not cal.is_school_day(ascension)
    assert not cal.is_school_day(bridge)
    assert cal.is_school_day(ascension - dt.timedelta(days=1))
    names = {p.name: (p.start, p.end) for p in cal.school_holidays(school_year)}
    assert names["Vrijdag na O. L. H. Hemelvaart"] == (bridge, bridge)


@pytest.mark.parametrize("school_year", YEARS)
def test_summer_runs_from_1_july_to_31_august(school_year):
    year = sy.start_year(school_year) + 1
    assert _period(school_year, "Zomervakantie") == (dt.date(year, 7, 1), dt.date(year, 8, 31))
    assert cal.is_school_day(sy.first_day(school_year)) == (sy.first_day(school_year).weekday() < 5)


@pytest.mark.parametrize("school_year", YEARS)
def test_the_school_holidays_of_a_school_year_stay_inside_it_in_date_order(school_year):
    periods = cal.school_holidays(school_year)
    assert periods == sorted(periods, key=lambda p: (p.start, p.end, p.name))
    assert all(sy.first_day(school_year) <= p.start <= p.end <= sy.last_day(school_year) for p in periods)
    assert {"Herfstvakantie", "Kerstvakantie", "Krokusvakantie", "Paasvakantie", "Zomervakantie",
            "Wapenstilstand", "Dag van de Arbeid", "O. L. H. Hemelvaart",
            "Vrijdag na O. L. H. Hemelvaart", "Pinkstermaandag"} <= {p.name for p in periods}  # fmt: skip


# --------------------------------------------------------------------------------------------
# The BVR 17 April 1991 rules, independently of the holidays package
# --------------------------------------------------------------------------------------------


def _easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _monday_on_or_before(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _bvr_days_off(school_year: str) -> set[dt.date]:
    """Public holidays and school holidays of a school year per DOMAIN.md §5 (BVR 17 April 1991)."""
    autumn_year = sy.start_year(school_year)
    year = autumn_year + 1
    easter = _easter(year)
    nov_1 = dt.date(autumn_year, 11, 1)
    herfst = nov_1 + dt.timedelta(days=1) if nov_1.weekday() == 6 else _monday_on_or_before(nov_1)
    christmas = dt.date(autumn_year, 12, 25)
    kerst = _monday_on_or_before(christmas) + (dt.timedelta(weeks=1) if christmas.weekday() >= 5 else dt.timedelta())
    krokus = easter - dt.timedelta(days=48)  # the 7th Monday before Easter Sunday
    if easter.month == 3:
        pasen = easter + dt.timedelta(days=1)
    elif easter > dt.date(year, 4, 15):
        pasen = _monday_on_or_before(easter) - dt.timedelta(weeks=1)
    else:
        pasen = dt.date(year, 4, 1) + dt.timedelta(days=(7 - dt.date(year, 4, 1).weekday()) % 7)
    breaks = [(herfst, 7), (kerst, 14), (krokus, 7), (pasen, 14), (dt.date(year, 7, 1), 62)]
    days = {start + dt.timedelta(days=i) for start, length in breaks for i in range(length)}
    days |= {
        nov_1, dt.date(autumn_year, 11, 11), christmas, dt.date(year, 1, 1), dt.date(year, 5, 1),
        easter + dt.timedelta(days=1),  # Paasmaandag
        easter + dt.timedelta(days=39), easter + dt.timedelta(days=40),  # Hemelvaart + bridge
        easter + dt.timedelta(days=50),  # Pinkstermaandag
    }  # fmt: skip
    return days


ALL_SEED_YEARS = tuple(sy.key(y) for y in range(2015, 2027))


@pytest.mark.parametrize("school_year", ALL_SEED_YEARS)
def test_school_days_follow_the_bvr_1991_rules_every_day_of_every_school_year(school_year):
    rule_days_off = _bvr_days_off(school_year)
    differences = [
        day
        for day in _day_range(sy.first_day(school_year), sy.last_day(school_year))
        if cal.is_school_day(day) == (day.weekday() >= 5 or day in rule_days_off)
        and day not in cal._COVID_AUTUMN_EXTENSION_2020
    ]
    assert differences == []


def test_the_2020_autumn_break_was_extended_to_15_november_for_covid():
    extension = _day_range(D("2020-11-09"), D("2020-11-15"))
    assert extension == list(cal._COVID_AUTUMN_EXTENSION_2020)
    assert not any(cal.is_school_day(day) for day in extension)
    assert cal.is_school_day(D("2020-11-16"))
    assert _period("2020-21", "Herfstvakantie") == (D("2020-11-02"), D("2020-11-15"))
    assert _period("2020-21", "Wapenstilstand") == (D("2020-11-11"), D("2020-11-11"))


def test_the_covid_extension_is_the_only_piece_the_package_lacks():
    assert cal._missing_from_package(2019) == {}
    assert cal._missing_from_package(2021) == {}
    assert sorted(cal._missing_from_package(2020)) == list(cal._COVID_AUTUMN_EXTENSION_2020)


# --------------------------------------------------------------------------------------------
# School days and counting dates
# --------------------------------------------------------------------------------------------


def test_weekends_are_never_school_days():
    assert not cal.is_school_day(D("2023-10-07"))
    assert not cal.is_school_day(D("2023-10-08"))
    assert cal.is_school_day(D("2023-10-09"))


def test_weekday_public_holidays_are_not_school_days():
    assert not cal.is_school_day(D("2024-11-11"))  # Wapenstilstand, a Monday
    assert not cal.is_school_day(D("2024-05-01"))  # Dag van de Arbeid
    assert not cal.is_school_day(D("2024-05-20"))  # Pinkstermaandag


def test_good_friday_is_a_school_day_in_flanders():
    assert cal.is_school_day(D("2024-03-29"))


def test_a_datetime_is_judged_by_its_date():
    assert not cal.is_school_day(dt.datetime(2024, 2, 12, 9, 0))
    assert cal.first_school_day_on_or_after(dt.datetime(2024, 2, 17, 9, 0)) == D("2024-02-19")


def test_first_school_day_on_or_after_keeps_a_school_day():
    assert cal.first_school_day_on_or_after(D("2024-01-15")) == D("2024-01-15")


def test_first_school_day_on_or_after_crosses_a_whole_break():
    assert cal.first_school_day_on_or_after(D("2023-12-23")) == D("2024-01-08")
    assert cal.first_school_day_on_or_after(D("2024-06-29")) == D("2024-09-02")


def test_dates_before_2010_are_refused_because_the_package_has_no_school_holidays_then():
    with pytest.raises(ValueError, match="before 2010"):
        cal.is_school_day(D("2009-12-01"))


def test_a_malformed_school_year_is_refused():
    with pytest.raises(ValueError):
        cal.counting_dates("2023-25")


def test_first_school_day_of_february_2020_skips_the_weekend():
    assert cal.counting_dates("2019-20")["first_school_day_of_february"] == D("2020-02-03")


def test_first_school_day_of_february_2025_skips_the_weekend():
    assert cal.counting_dates("2024-25")["first_school_day_of_february"] == D("2025-02-03")


def test_first_school_day_of_february_2026_skips_the_sunday():
    assert cal.counting_dates("2025-26")["first_school_day_of_february"] == D("2026-02-02")


def test_first_school_day_of_october_2022_skips_the_weekend():
    assert cal.counting_dates("2022-23")["first_school_day_of_october"] == D("2022-10-03")


def test_15_january_on_a_saturday_moves_to_monday():
    assert cal.counting_dates("2021-22")["january_15"] == D("2022-01-17")


def test_15_january_on_a_sunday_moves_to_monday():
    assert cal.counting_dates("2022-23")["january_15"] == D("2023-01-16")


def test_15_may_on_the_ascension_bridge_friday_moves_to_monday():
    assert not cal.is_school_day(D("2026-05-15"))
    assert cal.counting_dates("2025-26")["may_15"] == D("2026-05-18")


def test_15_may_on_a_saturday_moves_past_the_weekend():
    assert cal.counting_dates("2020-21")["may_15"] == D("2021-05-17")


def test_15_may_on_a_saturday_before_whit_monday_moves_to_tuesday():
    assert cal.counting_dates("2026-27")["may_15"] == D("2027-05-18")


# january_15 and may_15 by hand: the weekday of 15 January / 15 May, then the BVR free days.
MOVED = {
    "2017-18": ("2018-01-15", "2018-05-15"),
    "2018-19": ("2019-01-15", "2019-05-15"),
    "2019-20": ("2020-01-15", "2020-05-15"),
    "2020-21": ("2021-01-15", "2021-05-17"),  # 15 May 2021: Saturday
    "2021-22": ("2022-01-17", "2022-05-16"),  # 15 Jan 2022: Saturday; 15 May 2022: Sunday
    "2022-23": ("2023-01-16", "2023-05-15"),  # 15 Jan 2023: Sunday
    "2023-24": ("2024-01-15", "2024-05-15"),
    "2024-25": ("2025-01-15", "2025-05-15"),
    "2025-26": ("2026-01-15", "2026-05-18"),  # 15 May 2026: Ascension bridge Friday
    "2026-27": ("2027-01-15", "2027-05-18"),  # 15 May 2027: Saturday, 17 May: Whit Monday
}


@pytest.mark.parametrize("school_year", YEARS)
def test_counting_dates_resolve_every_rule(school_year):
    start = sy.start_year(school_year)
    published, moved = PUBLISHED[school_year], MOVED[school_year]
    assert cal.counting_dates(school_year) == {
        "first_school_day_of_october": D(published[1]),
        "october_1": dt.date(start, 10, 1),
        "january_15": D(moved[0]),
        "february_1": dt.date(start + 1, 2, 1),
        "first_school_day_of_february": D(published[4]),
        "may_15": D(moved[1]),
        "june_30": dt.date(start + 1, 6, 30),
    }


@pytest.mark.parametrize("school_year", YEARS)
def test_moved_counting_dates_are_school_days_and_nothing_between_is(school_year):
    start = sy.start_year(school_year)
    dates = cal.counting_dates(school_year)
    for name, nominal in [
        ("first_school_day_of_october", dt.date(start, 10, 1)),
        ("january_15", dt.date(start + 1, 1, 15)),
        ("first_school_day_of_february", dt.date(start + 1, 2, 1)),
        ("may_15", dt.date(start + 1, 5, 15)),
    ]:
        assert cal.is_school_day(dates[name])
        assert not any(cal.is_school_day(d) for d in _day_range(nominal, dates[name])[:-1])


# --------------------------------------------------------------------------------------------
# zorgthuis and DUO
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("school_year", YEARS)
def test_zorgthuis_counting_dates_are_the_four_protocol_dates(school_year):
    dates = cal.counting_dates(school_year)
    assert cal.zorgthuis_counting_dates(school_year) == {
        "zorgthuis_october": dates["first_school_day_of_october"],
        "zorgthuis_january": dates["january_15"],
        "zorgthuis_february": dates["first_school_day_of_february"],
        "zorgthuis_may": dates["may_15"],
    }


def test_duo_reference_dates_are_plain_dates_even_on_a_weekend():
    # 15 October 2022 is a Saturday; DUO's state date does not move.
    assert cal.duo_reference_dates("2022-23") == {
        "duo_october_15": D("2022-10-15"),
        "duo_december_15": D("2022-12-15"),
        "duo_february_15": D("2023-02-15"),
    }


def test_a_duo_delivery_comes_after_its_reference_date():
    assert cal.duo_exchange_after(D("2023-10-15")) == D("2023-10-16")


def test_a_duo_delivery_describes_the_latest_reference_date_before_it():
    assert cal.duo_reference_date_before(D("2023-10-16")) == D("2023-10-15")
    assert cal.duo_reference_date_before(D("2023-10-15")) == D("2023-02-15")
    assert cal.duo_reference_date_before(D("2024-01-10")) == D("2023-12-15")
    assert cal.duo_reference_date_before(D("2024-09-20")) == D("2024-02-15")


# --------------------------------------------------------------------------------------------
# Leerplicht
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth_date", "start"),
    [
        ("2013-06-15", "2019-09-01"),  # turns 6 in 2019: the old rule
        ("2014-01-01", "2020-09-01"),  # turns 5 in 2019, before 2020-21, so 6 in 2020
        ("2014-12-31", "2020-09-01"),
        ("2015-01-01", "2020-09-01"),  # turns 5 in 2020: the new rule
        ("2015-12-31", "2020-09-01"),  # still 4 on its first compulsory day
        ("2016-02-29", "2021-09-01"),
    ],
)
def test_leerplicht_starts_on_1_september_of_the_year_the_child_turns_5_or_before_2020_6(birth_date, start):
    assert cal.leerplicht_period(D(birth_date))[0] == D(start)


@pytest.mark.parametrize(
    ("birth_date", "end"),
    [
        ("2006-03-10", "2024-03-10"),  # 18th birthday before 1 July: the birthday
        ("2006-06-30", "2024-06-30"),
        ("2006-07-01", "2024-06-30"),  # 18 after the school year: 30 June
        ("2006-12-31", "2024-06-30"),
        ("2008-02-29", "2026-03-01"),  # no 29 February in 2026: 1 March (project choice)
    ],
)
def test_leerplicht_ends_on_30_june_of_the_year_the_child_turns_18_or_earlier_on_the_birthday(birth_date, end):
    assert cal.leerplicht_period(D(birth_date))[1] == D(end)


def test_compulsory_school_age_includes_both_ends_of_the_period():
    born = D("2006-03-10")
    start, end = cal.leerplicht_period(born)
    assert start == D("2012-09-01")
    assert not cal.is_compulsory_school_age(born, start - dt.timedelta(days=1))
    assert cal.is_compulsory_school_age(born, start)
    assert cal.is_compulsory_school_age(born, end)
    assert not cal.is_compulsory_school_age(born, end + dt.timedelta(days=1))


def test_a_child_born_in_december_2015_is_compulsory_at_4_from_september_2020():
    assert cal.is_compulsory_school_age(D("2015-12-31"), D("2020-09-01"))
    assert not cal.is_compulsory_school_age(D("2015-12-31"), D("2020-08-31"))


# --------------------------------------------------------------------------------------------
# SQL parity: the dbt seed
# --------------------------------------------------------------------------------------------

SEED_NAMES = {
    "first_school_day_of_october", "october_1", "january_15", "february_1",
    "first_school_day_of_february", "may_15", "june_30",
    "zorgthuis_october", "zorgthuis_january", "zorgthuis_february", "zorgthuis_may",
    "duo_october_15", "duo_december_15", "duo_february_15",
}  # fmt: skip


def test_the_counting_dates_table_covers_2015_16_to_2026_27_with_every_name_once_a_year():
    rows = cal.counting_dates_table()
    assert [r.school_year for r in rows[:: len(SEED_NAMES)]] == list(ALL_SEED_YEARS)
    assert len(rows) == len(ALL_SEED_YEARS) * len(SEED_NAMES)
    for school_year in ALL_SEED_YEARS:
        names = [r.counting_date_name for r in rows if r.school_year == school_year]
        assert sorted(names) == sorted(SEED_NAMES)


def test_every_counting_date_falls_in_its_own_school_year():
    assert all(sy.of_date(r.counting_date) == r.school_year for r in cal.counting_dates_table())


def test_the_counting_dates_table_can_be_limited_to_some_school_years():
    rows = cal.counting_dates_table("2023-24", "2024-25")
    assert {r.school_year for r in rows} == {"2023-24", "2024-25"}
    assert [r for r in cal.counting_dates_table() if r.school_year in ("2023-24", "2024-25")] == rows


def test_the_seed_rows_repeat_the_python_functions():
    for row in cal.counting_dates_table("2024-25", "2024-25"):
        named = {
            **cal.counting_dates("2024-25"),
            **cal.zorgthuis_counting_dates("2024-25"),
            **cal.duo_reference_dates("2024-25"),
        }
        assert named[row.counting_date_name] == row.counting_date


def test_the_committed_seed_equals_what_the_calendar_produces_now(tmp_path):
    fresh = cal.write_counting_dates_seed(tmp_path / "counting_dates.csv")
    assert cal.SEED_PATH.read_text(encoding="utf-8") == fresh.read_text(encoding="utf-8"), (
        "dbt_project/seeds/reference/counting_dates.csv is stale: run "
        "`.venv/bin/python -m orchestration.foundations.calendar`"
    )


def test_the_seed_is_a_comma_separated_file_with_iso_dates(tmp_path):
    lines = cal.write_counting_dates_seed(tmp_path / "seed.csv").read_text().splitlines()
    assert lines[0] == "school_year,counting_date_name,counting_date"
    assert "2019-20,first_school_day_of_february,2020-02-03" in lines
    assert "2025-26,may_15,2026-05-18" in lines
