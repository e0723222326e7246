-- antwerpen_okan, microdata of the public monitor table monitor_early_school_leaving: one row per
-- pupil of the population who entered the early-school-leaving indicator (left secondary
-- education early or with a qualification, as in file 11c), in the school year of leaving,
-- whether their last known enrolment was in Antwerp, and the school of that enrolment. Never
-- delivered: orchestration.disclosure publishes the table from it.

with

leavers as (

    select * from {{ ref('okan_newcomer_leaver') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast(left_school_year as varchar) as school_year,
        cast(last_enrolment_in_antwerp as varchar) as last_enrolment_in_antwerp,
        cast(is_early_school_leaver as boolean) as is_early_school_leaver,
        cast(last_school_number as varchar) as school_number
    from leavers
    where
        {{ in_delivery_period('first_okan_school_year') }}
        and {{ in_delivery_period('left_school_year') }}

)

select * from final
