-- The state of every pupil with an (OK)AN enrolment on 1 October, 1 February and 30 June, the
-- main enrolment of each date (read by the school portraits; file 11b lists every enrolment, in
-- okan_newcomer_career_enrolment): for every school year from the first (OK)AN enrolment to the
-- current school year, until the pupil leaves school early or obtains a secondary qualification
-- (see the docs block `okan_career_window`).

with

okan_pupils as (

    select * from {{ ref('okan_first_enrolment') }}

),

enrolments as (

    select * from {{ ref('int_tracks__enrolments') }}

),

counting_dates as (

    select * from {{ ref('counting_dates') }}

),

pupil_year as (

    select * from {{ ref('pupil_year') }}

),

-- the current school year: the latest one Discimus has delivered
observed as (

    select max(school_year_start) as current_school_year_start
    from enrolments

),

okan_pupil_years as (

    select
        *,
        cast(substr(school_year, 1, 4) as integer) as school_year_start
    from pupil_year
    where pupil_key in (select okan_pupils.pupil_key from okan_pupils)

),

-- per pupil: the school year of early school leaving and of the first secondary qualification
outcomes as (

    select
        pupil_key,
        min(school_year_start) filter (where is_early_school_leaver)
            as early_school_leaving_school_year_start,
        min(school_year_start) filter (where obtained_secondary_qualification)
            as qualification_school_year_start
    from okan_pupil_years
    group by pupil_key

),

-- first and last school year of each pupil's career window: the career stops after the school
-- year of early school leaving or of the first secondary qualification, whichever comes first
windows as (

    select
        okan_pupils.pupil_key,
        cast(substr(okan_pupils.school_year, 1, 4) as integer) as first_school_year_start,
        outcomes.early_school_leaving_school_year_start,
        least(
            observed.current_school_year_start,
            coalesce(outcomes.early_school_leaving_school_year_start, 9999),
            coalesce(outcomes.qualification_school_year_start, 9999)
        ) as stop_school_year_start
    from okan_pupils
    cross join observed
    left join outcomes
        on okan_pupils.pupil_key = outcomes.pupil_key

),

career_years as (

    select
        pupil_key,
        first_school_year_start,
        early_school_leaving_school_year_start,
        unnest(
            range(
                first_school_year_start,
                greatest(stop_school_year_start, first_school_year_start) + 1
            )
        ) as school_year_start
    from windows

),

career_dates as (

    select
        career_years.*,
        counting_dates.school_year,
        counting_dates.counting_date_name,
        cast(counting_dates.counting_date as date) as counting_date
    from career_years
    inner join counting_dates
        on
            career_years.school_year_start
            = cast(substr(counting_dates.school_year, 1, 4) as integer)
    where counting_dates.counting_date_name in ('october_1', 'february_1', 'june_30')

),

-- the enrolment of the pupil on each counting date; when several run, the main one as in the
-- pupil marts: latest start, then longest running, then highest enrolment id
states as (

    select
        career_dates.pupil_key,
        career_dates.counting_date,
        enrolments.enrolment_id,
        enrolments.school_number,
        enrolments.branch_number,
        enrolments.branch_nis_code,
        enrolments.branch_in_antwerp,
        enrolments.main_structure_code,
        enrolments.administrative_group,
        enrolments.education_form,
        enrolments.study_year,
        enrolments.is_okan_enrolment
    from career_dates
    inner join enrolments
        on
            career_dates.pupil_key = enrolments.pupil_key
            and career_dates.school_year = enrolments.school_year
            and career_dates.counting_date
            between enrolments.start_date and enrolments.covered_until
    qualify row_number() over (
        partition by career_dates.pupil_key, career_dates.counting_date
        order by
            enrolments.start_date desc,
            coalesce(enrolments.end_date, date '9999-12-31') desc,
            enrolments.enrolment_id desc
    ) = 1

),

final as (

    select
        career_dates.pupil_key,
        career_dates.school_year,
        career_dates.counting_date_name,
        career_dates.counting_date,
        career_dates.school_year_start - career_dates.first_school_year_start
            as years_since_first_okan_enrolment,

        -- the state on the counting date
        states.enrolment_id is not null as is_enrolled,
        states.school_number,
        states.branch_number,
        states.branch_nis_code,
        states.branch_in_antwerp,
        states.main_structure_code,
        states.administrative_group,
        states.education_form,
        states.study_year,
        states.is_okan_enrolment,

        -- the school year (pupil_year; empty in a year without any enrolment)
        okan_pupil_years.nationality,
        okan_pupil_years.has_non_dutch_home_language,
        okan_pupil_years.received_school_allowance,
        okan_pupil_years.has_low_educated_mother,
        okan_pupil_years.lives_in_high_delay_neighbourhood,
        okan_pupil_years.oki_score,
        okan_pupil_years.highest_certificate_type as certificate_type,
        okan_pupil_years.highest_certificate_name as certificate_name,
        coalesce(okan_pupil_years.obtained_secondary_qualification, false)
            as obtained_secondary_qualification,
        okan_pupil_years.attest_code,
        okan_pupil_years.attest_restriction,
        coalesce(
            career_dates.school_year_start = career_dates.early_school_leaving_school_year_start,
            false
        ) as is_early_school_leaving_year
    from career_dates
    left join states
        on
            career_dates.pupil_key = states.pupil_key
            and career_dates.counting_date = states.counting_date
    left join okan_pupil_years
        on
            career_dates.pupil_key = okan_pupil_years.pupil_key
            and career_dates.school_year = okan_pupil_years.school_year

)

select * from final
