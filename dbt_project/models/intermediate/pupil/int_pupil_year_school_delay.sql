{{ config(materialized='view') }}
{#-
    School delay (schoolse vertraging) per pupil and school year, on the year's main enrolment
    (docs: school_delay). Expected study year from the birth year; excluded programmes get a
    null delay and the reason. Adds its columns to every column of int_pupil_years, so the chain
    int_pupil_years -> int_pupil_year_school_delay (a view: a projection) ->
    int_pupil_year_progression -> pupil_year needs no join per indicator: at 15 million
    pupil-years each such join keeps another hash table of 64-character keys in memory.
-#}
with

pupil_years as (

    select * from {{ ref('int_pupil_years') }}

),

exclusions as (

    select
        *,
        case
            when education_level is null or education_level not in ('lager', 'secundair')
                then 'not_primary_or_secondary'
            when education_type = 'buitengewoon' then 'special_education'
            when programme = 'dbso' then 'dbso'
            when education_form = 'OKAN' then 'okan'
            when programme is distinct from 'voltijds' then 'other_main_structure'
            when study_year is null then 'study_year_unknown'
            when education_level = 'secundair' and study_year >= 7 then 'seventh_year'
            when study_direction ilike '%se-n-se%' then 'se_n_se'
            when birth_year is null then 'birth_date_unknown'
        end as school_delay_exclusion_reason
    from pupil_years

),

final as (

    select
        * exclude (school_delay_exclusion_reason),
        case
            when school_delay_exclusion_reason is null and education_level = 'lager'
                then school_year_start - birth_year - 5
            when school_delay_exclusion_reason is null and education_level = 'secundair'
                then school_year_start - birth_year - 11
        end as expected_study_year,
        case
            when school_delay_exclusion_reason is null and education_level = 'lager'
                then school_year_start - birth_year - 5 - study_year
            when school_delay_exclusion_reason is null and education_level = 'secundair'
                then school_year_start - birth_year - 11 - study_year
        end as school_delay_years,
        school_delay_exclusion_reason
    from exclusions

)

select * from final
