"""The track marts on the synthetic sample: NAFT trajectories and school situations, (OK)AN
careers for the city of Antwerp, and the compulsory-education status of every child.

Every check recomputes its expectation independently of the mart (from staging, the school
register or orchestration.foundations.calendar), so a wrong rule in the SQL makes it fail. Failure messages
give counts, never personal values.
"""

from __future__ import annotations

from collections import Counter

import pytest

from orchestration.foundations import calendar
from orchestration.foundations.warehouse import connect


@pytest.fixture(scope="module")
def con(pipeline):
    assert pipeline.first.success, "the main job failed: the track marts were not built"
    with connect(pipeline.paths, read_only=True) as connection:
        yield connection


def _one(con, sql: str):
    return con.execute(sql).fetchone()


# ------------------------------------------------------------------------------------- NAFT


def test_the_sample_has_naft_trajectories_beneficiaries_and_providers(con):
    tracks, beneficiaries, providers = _one(con, """
        select (select count(*) from marts.naft_track),
               (select count(*) from marts.naft_track_beneficiary),
               (select count(*) from marts.naft_provider)""")
    assert tracks > 0 and beneficiaries > 0 and providers > 0


def test_every_naft_trajectory_of_binc_is_in_naft_track_once(con):
    staged, marted = _one(con, """
        select (select count(distinct trajectory_id) from staging.stg_binc_naft_trajectories),
               (select count(*) from marts.naft_track)""")
    assert marted == staged


def test_the_control_group_holds_no_pupil_of_the_key_list_and_only_binc_years(con):
    on_list, outside, total = _one(con, """
        select count(*) filter (where pupil_key in (select pupil_key from marts.naft_key_list)),
               count(*) filter (where first_school_year < '2020-21' or last_school_year > '2024-25'),
               count(*)
        from marts.naft_control_group""")
    assert total > 0, "the sample must have a control group"
    assert on_list == 0, f"{on_list} control-group pupils are on the key list of NAFT pupils"
    assert outside == 0, f"{outside} control-group pupils outside the BINC years"


def test_the_key_list_is_every_pupil_named_in_binc_and_holds_only_the_key(con):
    named, listed = _one(con, """
        select (select count(distinct pupil_key) from staging.stg_binc_naft_beneficiaries),
               (select count(*) from marts.naft_key_list)""")
    assert named > 0 and listed == named
    columns = [r[0] for r in con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'naft_key_list'").fetchall()]
    assert columns == ["pupil_key"]


# ------------------------------------------------------------------------------------- OKAN

# (OK)AN enrolments and Antwerp branches, straight from staging and the school register
OKAN_ENROLMENTS = """
    select distinct pupil_key from staging.stg_discimus_enrolments
    where (is_newcomer or education_form = 'OKAN') and school_year >= '2015-16'
      and education_level in ('kleuter', 'lager', 'secundair')"""
ANTWERP_ENROLMENTS = """
    select distinct e.pupil_key
    from staging.stg_discimus_enrolments as e
    join staging.stg_school_register_branches as b
      on b.school_number = e.school_number and b.branch_number = e.branch_number
     and b.school_year = e.school_year
    where b.municipality_nis_code = '11002' and e.school_year >= '2015-16'
      and e.education_level in ('kleuter', 'lager', 'secundair')"""


def test_okan_first_enrolment_holds_every_pupil_with_an_okan_enrolment_once(con):
    expected, marted, distinct = _one(con, f"""
        select (select count(*) from ({OKAN_ENROLMENTS})),
               (select count(*) from marts.okan_first_enrolment),
               (select count(distinct pupil_key) from marts.okan_first_enrolment)""")
    assert expected > 0
    assert marted == distinct == expected


def test_okan_population_pupils_all_have_an_okan_enrolment_and_an_antwerp_branch(con):
    population, without_okan, without_antwerp = _one(con, f"""
        select count(*),
               count(*) filter (where pupil_key not in ({OKAN_ENROLMENTS})),
               count(*) filter (where pupil_key not in ({ANTWERP_ENROLMENTS}))
        from marts.okan_first_enrolment where in_antwerpen_okan_population""")
    assert population > 0, "the sample must feed the antwerpen_okan population"
    assert without_okan == 0, f"{without_okan} population pupils without an (OK)AN enrolment"
    assert without_antwerp == 0, f"{without_antwerp} population pupils never in an Antwerp branch"


def test_every_okan_pupil_with_an_antwerp_enrolment_is_in_the_population(con):
    missed = _one(con, f"""
        select count(*) from marts.okan_first_enrolment
        where not in_antwerpen_okan_population and pupil_key in ({ANTWERP_ENROLMENTS})""")[0]
    assert missed == 0, f"{missed} (OK)AN pupils with an Antwerp enrolment left out"


def test_the_first_okan_enrolment_is_the_earliest_one(con):
    later = _one(con, f"""
        select count(*)
        from marts.okan_first_enrolment as f
        join staging.stg_discimus_enrolments as e using (pupil_key)
        where (e.is_newcomer or e.education_form = 'OKAN') and e.school_year >= '2015-16'
          and e.education_level in ('kleuter', 'lager', 'secundair')
          and e.start_date < f.start_date""")[0]
    assert later == 0, f"{later} earlier (OK)AN enrolments exist than the 'first' one"


def test_okan_career_has_three_dates_per_year_from_the_first_year_without_gaps(con):
    wrong = _one(con, """
        with per_pupil as (
            select c.pupil_key, f.school_year as first_year,
                   min(c.school_year) as min_year, count(distinct c.school_year) as n_years,
                   max(cast(substr(c.school_year, 1, 4) as integer))
                   - min(cast(substr(c.school_year, 1, 4) as integer)) + 1 as span,
                   count(*) as n_rows
            from marts.okan_career as c
            join marts.okan_first_enrolment as f using (pupil_key)
            group by all)
        select count(*) from per_pupil
        where min_year != first_year or n_years != span or n_rows != 3 * n_years""")[0]
    assert wrong == 0, f"{wrong} pupils have a career that is not 3 rows per consecutive year"


def test_okan_career_stops_after_the_year_of_leaving_or_qualification(con):
    after_stop, no_stop_year = _one(con, """
        with stops as (
            select pupil_key,
                   least(coalesce(esl.school_year, '9999'), coalesce(q.first_year, '9999')) as stop
            from marts.okan_first_enrolment
            left join marts.okan_early_school_leaving as esl using (pupil_key)
            left join (select pupil_key, min(school_year) as first_year
                       from marts.pupil_year
                       where obtained_secondary_qualification group by all) as q using (pupil_key)),
        last_years as (select pupil_key, max(school_year) as last_year
                       from marts.okan_career group by all)
        select count(*) filter (where l.last_year > s.stop),
               count(*) filter (where s.stop != '9999' and l.last_year < s.stop)
        from last_years as l join stops as s using (pupil_key)""")
    assert after_stop == 0, f"{after_stop} careers continue after leaving or qualification"
    assert no_stop_year == 0, f"{no_stop_year} careers stop before their leaving/qualification year"


def test_okan_early_school_leaving_has_one_row_per_okan_pupil(con):
    first, leaving = _one(con, """
        select (select count(*) from marts.okan_first_enrolment),
               (select count(*) from marts.okan_early_school_leaving)""")
    assert leaving == first


# ---------------------------------------------------------------------- compulsory education


def test_compulsory_status_counts_add_up_to_the_extracts_children_per_reference_date(con):
    extract = dict(con.execute("""
        select reference_date, count(distinct pupil_key)
        from staging.stg_rijksregister_children group by all""").fetchall())
    statuses = con.execute("""
        select reference_date, status, count(*)
        from marts.compulsory_education_status group by all""").fetchall()
    totals: Counter = Counter()
    for reference_date, _status, n in statuses:
        totals[reference_date] += n
    assert extract, "the sample has no Rijksregister extract"
    assert dict(totals) == extract


def test_every_status_occurs_in_the_sample(con):
    seen = {row[0] for row in con.execute(
        "select distinct status from marts.compulsory_education_status").fetchall()}
    assert seen == {"enrolled_flanders", "schooled_netherlands", "found_nowhere"}


def test_a_child_linked_to_duo_and_not_enrolled_is_schooled_in_the_netherlands(con):
    wrong = _one(con, """
        select count(*)
        from marts.compulsory_education_status as s
        join linkage.duo_links as l
          on l.pupil_key = s.pupil_key and l.peildatum = s.reference_date
        where s.status = 'found_nowhere'""")[0]
    assert wrong == 0, f"{wrong} children linked to a DUO record are reported as found nowhere"


def test_the_sql_leerplicht_flag_equals_calendar_is_compulsory_school_age_for_every_child(con):
    rows = con.execute("""
        select s.reference_date, c.birth_date, s.is_compulsory_school_age
        from marts.compulsory_education_status as s
        join staging.stg_rijksregister_children as c using (pupil_key, reference_date)""").fetchall()
    assert rows
    differ = Counter(
        (reference_date, flag)
        for reference_date, birth_date, flag in rows
        if birth_date is not None and calendar.is_compulsory_school_age(birth_date, reference_date) != flag
    )
    assert not differ, f"SQL and Python disagree on {sum(differ.values())} children: {dict(differ)}"


def test_the_leerplicht_periods_equal_calendar_leerplicht_period_for_every_birth_date(con):
    rows = con.execute("""
        select birth_date, compulsory_education_start_date, compulsory_education_end_date
        from intermediate.int_tracks__compulsory_education_periods""").fetchall()
    assert rows
    wrong = sum(1 for birth, start, end in rows if calendar.leerplicht_period(birth) != (start, end))
    assert wrong == 0, f"{wrong} of {len(rows)} birth dates have another period in SQL than in Python"


def test_the_duo_review_queue_is_passed_through_whole(con):
    review, marted = _one(con, """
        select (select count(*) from linkage.duo_review),
               (select count(*) from marts.compulsory_education_duo_review)""")
    assert marted == review
