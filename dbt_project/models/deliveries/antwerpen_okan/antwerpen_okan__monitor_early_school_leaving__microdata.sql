-- antwerpen_okan, microdata of the public monitor table monitor_early_school_leaving: one row per
-- pupil of the population who left secondary education, early (the school year they entered the
-- indicator) or with a qualification (the school year of their first secondary qualification),
-- whether their last known enrolment was in Antwerp, and the school of that enrolment. Never
-- delivered: orchestration.disclosure publishes the table from it.

with

leaving as (

    select * from {{ ref('okan_early_school_leaving') }}

),

first_enrolments as (

    select * from {{ ref('okan_first_enrolment') }}

),

population as (

    select pupil_key
    from first_enrolments
    where in_antwerpen_okan_population and {{ in_delivery_period('school_year') }}

),

leavers as (

    select
        cast(leaving.pupil_key as varchar) as pupil_key,
        cast(
            case
                when leaving.is_early_school_leaver then leaving.school_year
                else leaving.qualification_school_year
            end as varchar
        ) as school_year,
        cast(case when leaving.last_branch_in_antwerp then 'J' else 'N' end as varchar)
            as last_enrolment_in_antwerp,
        cast(leaving.is_early_school_leaver as boolean) as is_early_school_leaver,
        cast(leaving.last_school_number as varchar) as school_number
    from leaving
    inner join population
        on leaving.pupil_key = population.pupil_key
    where leaving.is_early_school_leaver or leaving.qualification_school_year is not null

),

final as (

    select *
    from leavers
    where {{ in_delivery_period('school_year') }}

)

select * from final
