-- antwerpen_okan, microdata of the public monitor table monitor_newcomer_inflow: one row per
-- pupil of the population, with the dimensions of the table (school year and education level of
-- the first (OK)AN enrolment, whether it was in Antwerp), the outcome (school delay) and the
-- school of that enrolment. Never delivered: orchestration.disclosure counts, protects (small
-- counts, secondary suppression, at least three schools behind every figure) and publishes the
-- table from it; the school column only lets it count schools.

with

newcomers as (

    select * from {{ ref('okan_newcomer') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast(school_year as varchar) as school_year,
        cast(education_level_group as varchar) as education_level,
        cast(first_enrolment_in_antwerp as varchar) as first_enrolment_in_antwerp,
        cast(has_school_delay as boolean) as has_school_delay,
        cast(school_number as varchar) as school_number
    from newcomers
    where {{ in_delivery_period('school_year') }}

)

select * from final
