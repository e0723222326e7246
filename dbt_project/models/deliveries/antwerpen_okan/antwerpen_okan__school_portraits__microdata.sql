-- antwerpen_okan, microdata of the school portraits: one row per pupil of the population enrolled
-- on 1 February in a branch in the city of Antwerp, per school year, with the school and the
-- pupil's attest (A, B, C, or NONE). Never delivered: orchestration.disclosure publishes each
-- school's own figures from it (small counts suppressed).

with

career as (

    select * from {{ ref('okan_career') }}

),

first_enrolments as (

    select * from {{ ref('okan_first_enrolment') }}

),

population as (

    select pupil_key
    from first_enrolments
    where in_antwerpen_okan_population and {{ in_delivery_period('school_year') }}

),

final as (

    select distinct
        cast(career.pupil_key as varchar) as pupil_key,
        cast(career.school_year as varchar) as school_year,
        cast(career.school_number as varchar) as institution_number,
        cast(
            case when career.attest_code in ('A', 'B', 'C') then career.attest_code else 'NONE' end
            as varchar
        ) as attest
    from career
    inner join population
        on career.pupil_key = population.pupil_key
    where
        career.counting_date_name = 'february_1'
        and career.is_enrolled
        and career.branch_in_antwerp
        and {{ in_delivery_period('career.school_year') }}

)

select * from final
