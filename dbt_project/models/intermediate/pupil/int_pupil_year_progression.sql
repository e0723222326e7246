{{ config(materialized='view') }}
{#-
    Progress from one school year to the next, per pupil and school year: repeating the year and
    changing school (docs: repeated_year, changed_school). Compares each year's main enrolment
    with the previous school year's. Adds its columns to every column of
    int_pupil_year_school_delay (and so of int_pupil_years): pupil_year starts from here.
    A view like int_pupil_year_school_delay: storing 15 million wide rows once more would cost
    more than the self-join it holds; its invariants are tested on pupil_year.
-#}
with

-- not materialized: read several times below; materialising it would hold every row with all
-- its columns in memory (the table is simply scanned again instead)
pupil_years as not materialized (

    select * from {{ ref('int_pupil_year_school_delay') }}

),

-- only what the comparison needs from the previous year: a narrow build side for the join,
-- keyed on hash(pupil_key), 8 bytes instead of a 64-character string (see pupil_year and the
-- test assert_pupil_key_hashes_are_distinct)
previous_years as (

    select
        hash(pupil_key) as pupil_key_hash,
        school_year_start,
        main_structure_code,
        education_level,
        education_form,
        study_year,
        february_school_number
    from pupil_years

),

with_previous as (

    select
        current_year.*,
        previous_year.pupil_key_hash is not null as has_previous_year,
        previous_year.main_structure_code as previous_main_structure_code,
        previous_year.education_level as previous_education_level,
        previous_year.education_form as previous_education_form,
        previous_year.study_year as previous_study_year,
        previous_year.february_school_number as previous_february_school_number
    from pupil_years as current_year
    left join previous_years as previous_year
        on
            hash(current_year.pupil_key) = previous_year.pupil_key_hash
            and current_year.school_year_start = previous_year.school_year_start + 1

),

repetition as (

    select
        *,
        case
            when
                main_structure_code not in ('211', '311')
                or education_form is not distinct from 'OKAN'
                or study_year is null
                then 'not_gewoon_lager_or_voltijds_gewoon_secundair'
            when not has_previous_year then 'previous_year_unknown'
            -- a newcomer leaving OKAN for a first year is progress, not repetition
            when previous_education_form is not distinct from 'OKAN' then null
            when
                previous_main_structure_code not in ('211', '311')
                or previous_study_year is null
                then 'previous_year_not_comparable'
        end as repeated_year_exclusion_reason
    from with_previous

),

final as (

    select
        * exclude (
            has_previous_year, previous_main_structure_code, previous_education_level,
            previous_education_form, previous_study_year, repeated_year_exclusion_reason
        ),
        case
            when repeated_year_exclusion_reason is not null then null
            when previous_education_form is not distinct from 'OKAN' then false
            else
                education_level = previous_education_level
                and study_year = previous_study_year
        end as repeated_year,
        repeated_year_exclusion_reason,
        n_schools > 1 as changed_school_during_year,
        case
            when february_school_number is not null and previous_february_school_number is not null
                then february_school_number <> previous_february_school_number
        end as changed_school_since_previous_year
    from repetition

)

select * from final
