-- The school situation of every NAFT beneficiary around the start of the trajectory (protocol
-- naft_evaluation, files 2 and 4): one row per trajectory, pupil and relative school year, from
-- the school year before the start (-1) to two school years after it (+2), taken from
-- pupil_year; see the docs block `naft_relative_year`.

with

beneficiaries as (

    select * from {{ ref('naft_track_beneficiary') }}

),

pupil_year as (

    select * from {{ ref('pupil_year') }}

),

-- the school years Discimus has delivered: outside them a situation is unknown, not "absent"
observed as (

    select
        min(cast(substr(school_year, 1, 4) as integer)) as first_observed_school_year_start,
        max(cast(substr(school_year, 1, 4) as integer)) as last_observed_school_year_start
    from pupil_year

),

-- per pupil: the school year of early school leaving and of the first secondary qualification
outcomes as (

    select
        pupil_key,
        min(cast(substr(school_year, 1, 4) as integer)) filter (where is_early_school_leaver)
            as early_school_leaving_school_year_start,
        min(cast(substr(school_year, 1, 4) as integer)) filter (
            where obtained_secondary_qualification
        ) as qualification_school_year_start
    from pupil_year
    where pupil_key in (select beneficiaries.pupil_key from beneficiaries)
    group by pupil_key

),

relative_years as (

    select
        trajectory_id,
        pupil_key,
        trajectory_start_date,
        case
            when month(trajectory_start_date) >= 9 then year(trajectory_start_date)
            else year(trajectory_start_date) - 1
        end as start_school_year_start,
        unnest([-1, 0, 1, 2]) as relative_year
    from beneficiaries

),

situation_years as (

    select
        relative_years.*,
        relative_years.start_school_year_start + relative_years.relative_year
            as school_year_start,
        relative_years.start_school_year_start + relative_years.relative_year
        between observed.first_observed_school_year_start
        and observed.last_observed_school_year_start as is_observed
    from relative_years
    cross join observed

),

keyed as (

    select
        *,
        school_year_start || '-' || lpad(cast((school_year_start + 1) % 100 as varchar), 2, '0')
            as school_year,
        start_school_year_start || '-'
        || lpad(cast((start_school_year_start + 1) % 100 as varchar), 2, '0')
            as start_school_year
    from situation_years

),

final as (

    select
        keyed.trajectory_id,
        keyed.pupil_key,
        keyed.relative_year,
        keyed.school_year,
        keyed.start_school_year,
        keyed.trajectory_start_date,
        keyed.is_observed,
        case when keyed.is_observed then pupil_year.pupil_key is not null end as is_enrolled,
        pupil_year.school_number,
        pupil_year.branch_number,
        pupil_year.main_structure_code,
        pupil_year.education_level,
        pupil_year.education_type,
        pupil_year.education_form,
        pupil_year.finality,
        pupil_year.learning_path,
        pupil_year.study_year,
        pupil_year.grade,
        pupil_year.attest_code,
        pupil_year.attest_restriction,
        pupil_year.repeated_year,
        pupil_year.school_delay_years,
        -- as in pupil_year: leaves school early in this school year (unknown in the most recent
        -- school year); a year without enrolment is not a year of leaving
        case
            when keyed.is_observed and pupil_year.pupil_key is not null
                then pupil_year.is_early_school_leaver
            when keyed.is_observed then false
        end as is_early_school_leaver,
        case
            when keyed.is_observed
                then coalesce(
                    outcomes.early_school_leaving_school_year_start <= keyed.school_year_start,
                    false
                )
        end as has_left_school_early,
        case
            when keyed.is_observed
                then coalesce(pupil_year.obtained_secondary_qualification, false)
        end as obtained_secondary_qualification,
        case
            when keyed.is_observed
                then coalesce(
                    outcomes.qualification_school_year_start <= keyed.school_year_start, false
                )
        end as has_secondary_qualification
    from keyed
    left join pupil_year
        on
            keyed.pupil_key = pupil_year.pupil_key
            and keyed.school_year = pupil_year.school_year
    left join outcomes
        on keyed.pupil_key = outcomes.pupil_key

)

select * from final
