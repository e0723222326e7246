-- antwerpen_okan, microdata of the public monitor table monitor_newcomer_inflow: one row per
-- pupil of the population, with the dimensions of the table (school year and education level of
-- the first (OK)AN enrolment, whether it was in Antwerp), the outcome (school delay) and the
-- school of that enrolment. Never delivered: orchestration.disclosure counts, protects (small
-- counts, secondary suppression, at least three schools behind every figure) and publishes the
-- table from it; the school column only lets it count schools.

with

first_enrolments as (

    select * from {{ ref('okan_first_enrolment') }}

),

pupil_years as (

    select * from {{ ref('pupil_year') }}

),

final as (

    select
        cast(first_enrolments.pupil_key as varchar) as pupil_key,
        cast(first_enrolments.school_year as varchar) as school_year,
        cast(
            case
                when first_enrolments.education_level in ('kleuter', 'lager') then 'BASIS'
                when first_enrolments.education_level = 'secundair' then 'SECUNDAIR'
            end as varchar
        ) as education_level,
        cast(case when first_enrolments.branch_in_antwerp then 'J' else 'N' end as varchar)
            as first_enrolment_in_antwerp,
        cast(coalesce(pupil_years.school_delay_years > 0, false) as boolean)
            as has_school_delay,
        cast(first_enrolments.school_number as varchar) as school_number
    from first_enrolments
    left join pupil_years
        on
            first_enrolments.pupil_key = pupil_years.pupil_key
            and first_enrolments.school_year = pupil_years.school_year
    where
        first_enrolments.in_antwerpen_okan_population
        and {{ in_delivery_period('first_enrolments.school_year') }}

)

select * from final
