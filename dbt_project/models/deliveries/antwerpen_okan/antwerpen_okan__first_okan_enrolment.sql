-- antwerpen_okan, file 11a: the first (OK)AN enrolment of every pupil in the protocol's
-- population (from school year 2015-16: at least one (OK)AN enrolment and at least one
-- enrolment in a branch in the city of Antwerp, NIS 11002), one row per unique person code.
-- The branch is given only when it lies in Antwerp; birth year only; flags as 0/1.

with

newcomers as (

    select * from {{ ref('okan_newcomer') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast({{ pseudonym('antwerpen_okan', 'pupil_key') }} as varchar) as person_code,
        cast(school_year as varchar) as school_year,
        cast(antwerp_school_number as varchar) as institution_number,
        cast(antwerp_branch_number as integer) as branch_number,
        cast(main_structure_code as varchar) as main_structure,
        cast(administrative_group as integer) as administrative_group,
        cast(start_date as date) as newcomer_enrolment_start_date,
        cast(end_date as date) as newcomer_enrolment_end_date,
        -- the protocol allows the birth year, never the birth date
        cast(birth_year as integer) as birth_year,
        cast(study_year as integer) as study_year,
        cast({{ delivery_gender('gender') }} as varchar) as gender,
        cast(nationality as varchar) as nationality,
        cast(has_non_dutch_home_language as integer) as home_language_flag,
        cast(received_school_allowance as integer) as school_allowance_flag,
        cast(has_low_educated_mother as integer) as mother_education_flag,
        cast(oki_score as integer) as oki
    from newcomers
    where {{ in_delivery_period('school_year') }}

)

select * from final
