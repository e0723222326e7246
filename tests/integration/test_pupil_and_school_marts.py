"""The pupil and school marts on the warehouse built from the synthetic sample.

Properties that hold for any correct build and that a wrong join, a lost filter or a changed
definition would break: pupil_year covers exactly the enrolled pupils, indicators are what their
definitions say, rates stay in range, school figures add up, and pupils link to schools. The
warehouse is the one the ``pipeline`` fixture (tests/integration/conftest.py) builds; it is opened
read-only.
"""

from __future__ import annotations

import pytest

from orchestration.foundations.warehouse import connect

ZORGTHUIS_MONTHS = ("october", "january", "february", "may")
COUNTING_DATES = (("oct_first_school_day", "first_school_day_of_october"), ("oct1", "october_1"),
                  ("jan15", "january_15"), ("feb1", "february_1"),
                  ("feb_first_school_day", "first_school_day_of_february"), ("may15", "may_15"),
                  ("jun30", "june_30"))


@pytest.fixture(scope="module")
def con(pipeline):
    assert pipeline.first.success, "the main job failed: the marts were not built"
    with connect(pipeline.paths, read_only=True) as connection:
        yield connection


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def scalar(con, sql: str):
    return con.execute(sql).fetchone()[0]


def test_pupil_year_has_one_row_per_pupil_enrolled_in_each_school_year(con):
    per_year = rows(con, """
        select school_year, count(*), count(distinct pupil_key)
        from marts.pupil_year group by school_year order by school_year""")
    enrolled = rows(con, """
        select school_year, count(distinct pupil_key)
        from staging.stg_discimus_enrolments group by school_year order by school_year""")
    assert len(per_year) == 11  # 2015-16 to 2025-26
    assert [(y, n) for y, n, _ in per_year] == enrolled
    assert all(n == distinct for _, n, distinct in per_year)


def test_the_oki_score_is_the_number_of_characteristics_met(con):
    wrong = scalar(con, """
        select count(*) from marts.pupil_year
        where oki_score is distinct from (
            has_non_dutch_home_language::int + has_low_educated_mother::int
            + received_school_allowance::int + lives_in_high_delay_neighbourhood::int)""")
    assert wrong == 0
    assert scalar(con, "select count(distinct oki_score) from marts.pupil_year") >= 4


def test_every_rate_lies_between_zero_and_one(con):
    checks = {
        "marts.pupil_year": ["absence_rate"],
        "marts.school_year": ["pass_rate", "absence_rate", "presence_rate", "dropout_rate"],
        "marts.school_branch_year": ["pass_rate", "dropout_rate"],
    }
    for table, columns in checks.items():
        for column in columns:
            low, high, known = rows(con, f"select min({column}), max({column}), count({column}) "
                                         f"from {table}")[0]
            assert known > 0, f"{table}.{column} is never computed"
            assert 0 <= low <= high <= 1, f"{table}.{column} outside [0, 1]: {low}..{high}"
    for table in ("marts.school_year", "marts.school_branch_year", "marts.school_year_capacity"):
        assert scalar(con, f"select count(*) from {table} where occupancy_rate < 0") == 0
    assert scalar(con, "select count(*) from marts.school_year "
                       "where not school_oki between 0 and 4") == 0


def test_the_weighted_zorgthuis_count_is_one_and_a_half_times_the_count(con):
    for month in ZORGTHUIS_MONTHS:
        for table in ("marts.school_year", "marts.school_branch_year"):
            wrong = scalar(con, f"""
                select count(*) from {table}
                where zorgthuis_{month}_weighted_count
                      is distinct from 1.5 * zorgthuis_{month}_pupils""")
            assert wrong == 0, (table, month)
    assert scalar(con, "select sum(zorgthuis_february_pupils) from marts.school_year") > 0


def test_school_zorgthuis_counts_add_up_to_the_enrolled_pupils_on_the_lists(con):
    for month in ZORGTHUIS_MONTHS:
        by_school = dict(rows(con, f"""
            select school_year, sum(zorgthuis_{month}_pupils) from marts.school_year
            where zorgthuis_{month}_pupils is not null group by school_year"""))
        by_pupil = dict(rows(con, f"""
            select y.school_year, count(*)
            from marts.pupil_year as y
            inner join intermediate.int_pupil_zorgthuis as z
                on y.pupil_key = z.pupil_key and y.school_year = z.school_year
                and z.counting_date_name = 'zorgthuis_{month}' and z.school_number is not null
            group by y.school_year"""))
        assert {k: v for k, v in by_school.items() if v} == by_pupil, month


def test_every_school_of_a_pupil_on_the_february_counting_date_is_in_school_year(con):
    missing = scalar(con, """
        select count(*) from marts.pupil_year as p
        left join marts.school_year as s
            on p.feb_first_school_day_school_number = s.school_number
            and p.school_year = s.school_year
        where p.feb_first_school_day_enrolled and s.school_number is null""")
    assert missing == 0


def test_school_headcounts_equal_the_pupils_enrolled_there_on_the_february_counting_date(con):
    mismatches = scalar(con, """
        with pupils as (
            select feb_first_school_day_school_number as school_number, school_year,
                   count(*) as n
            from marts.pupil_year where feb_first_school_day_enrolled group by all),
        capacity as (
            select school_number, school_year, sum(enrolled_pupils) as n
            from marts.school_year_capacity group by all)
        select count(*) from marts.school_year as s
        left join pupils using (school_number, school_year)
        left join capacity using (school_number, school_year)
        where s.enrolled_pupils <> coalesce(pupils.n, 0)
           or s.enrolled_pupils <> coalesce(capacity.n, 0)""")
    assert mismatches == 0


def test_a_pupil_has_at_most_one_main_enrolment_per_counting_date(con):
    duplicates = scalar(con, """
        select count(*) from (
            select pupil_key, school_year, counting_date_name from marts.pupil_year_counting_date
            group by all having count(*) > 1)""")
    assert duplicates == 0
    # and the wide columns of pupil_year (computed straight from a pupil's only enrolment, or
    # from the ranking for pupils with several) agree with the long table on every date
    for prefix, name in COUNTING_DATES:
        disagreements = scalar(con, f"""
            select count(*) from marts.pupil_year as p
            left join marts.pupil_year_counting_date as c
                on p.pupil_key = c.pupil_key and p.school_year = c.school_year
                and c.counting_date_name = '{name}'
            where p.{prefix}_enrolled <> (c.pupil_key is not null)
               or p.{prefix}_school_number is distinct from c.school_number
               or p.{prefix}_branch_number is distinct from c.branch_number""")
        assert disagreements == 0, name


def test_an_early_school_leaver_leaves_once_and_never_in_the_most_recent_school_year(con):
    assert scalar(con, """
        select count(*) from (select pupil_key from marts.pupil_year
                              where is_early_school_leaver group by 1 having count(*) > 1)""") == 0
    latest = scalar(con, "select max(school_year) from marts.pupil_year")
    assert scalar(con, f"""select count(is_early_school_leaver) from marts.pupil_year
                           where school_year = '{latest}'""") == 0
    # and no early school leaver has a later enrolment or a secondary qualification by then
    assert scalar(con, """
        select count(*) from marts.pupil_year as leaver
        inner join marts.pupil_year as later
            on leaver.pupil_key = later.pupil_key and later.school_year > leaver.school_year
        where leaver.is_early_school_leaver""") == 0
    assert scalar(con, """
        select count(*) from marts.pupil_year as leaver
        inner join marts.pupil_year as earlier
            on leaver.pupil_key = earlier.pupil_key and earlier.school_year <= leaver.school_year
        where leaver.is_early_school_leaver and earlier.obtained_secondary_qualification""") == 0


def test_school_dropout_counts_add_up_to_the_pupils_leaving_there(con):
    by_school = dict(rows(con, """
        select school_year, sum(early_school_leavers) from marts.school_year
        where early_school_leavers is not null group by 1"""))
    by_pupil = dict(rows(con, """
        select school_year, count(*) from marts.pupil_year where is_early_school_leaver
        group by 1"""))
    assert {k: v for k, v in by_school.items() if v} == by_pupil
    assert sum(by_pupil.values()) > 0


def test_the_sample_exercises_every_pupil_indicator(con):
    counts = rows(con, """
        select count(school_delay_years), count(*) filter (where school_delay_years > 0),
               count(*) filter (where repeated_year), count(*) filter (where changed_school_during_year),
               count(*) filter (where obtained_secondary_qualification),
               count(*) filter (where zorgthuis_february),
               count(*) filter (where attest_code = 'C'), count(*) filter (where is_newcomer)
        from marts.pupil_year""")[0]
    assert all(n > 0 for n in counts), counts


def test_a_pupil_who_leaves_from_okan_is_never_an_early_school_leaver(con):
    """Protocol antwerpen_okan 11c counts the vsv indicator, which needs a qualifying track."""
    from_okan = rows(con, """
        select l.pupil_key, e.education_form, bool_or(p.is_early_school_leaver)
        from intermediate.int_pupil_school_leaving as l
        inner join intermediate.int_pupil_enrolments as e
            on l.last_enrolment_id = e.enrolment_id and l.leaving_school_year = e.school_year
        inner join marts.pupil_year as p on l.pupil_key = p.pupil_key
        where l.school_leaving_status = 'left_from_okan'
        group by all""")
    assert from_okan, "the sample has no pupil leaving from OKAN: the rule is not exercised"
    assert all(form == "OKAN" and not early for _, form, early in from_okan)
    # and no early school leaver's last enrolment is in OKAN
    assert scalar(con, """
        select count(*) from intermediate.int_pupil_school_leaving
        where school_leaving_status = 'early_school_leaver' and last_education_form = 'OKAN'""") == 0


def test_school_absences_add_up_to_the_pupils_absences(con):
    """One definition (macro absence_totals) summed two ways must give the same year totals."""
    columns = ("expected_half_days", "absent_half_days", "unjustified_absent_half_days")
    sums = ", ".join(f"sum({c})" for c in columns)
    by_pupil = rows(con, f"select school_year, {sums} from marts.pupil_year "
                         f"where expected_half_days is not null group by 1 order by 1")
    by_school = rows(con, f"select school_year, {sums} from marts.school_year "
                          f"where expected_half_days is not null group by 1 order by 1")
    assert by_pupil == by_school
    assert sum(row[2] for row in by_pupil) > 0
