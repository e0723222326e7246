-- antwerpen_okan, public monitor table: the inflow of newcomer pupils of the population per school
-- year of their first (OK)AN enrolment, education level (BASIS / SECUNDAIR) and whether that
-- enrolment was in a branch in the city of Antwerp, with how many of them had school delay.
-- City-wide only (no school, branch or neighbourhood). Exact counts here, from the table's
-- microdata: the delivery writer publishes the table through orchestration.disclosure (small
-- counts and what would reveal them suppressed) before it leaves.

with

microdata as (

    select * from {{ ref('antwerpen_okan__monitor_newcomer_inflow__microdata') }}

),

final as (

    select
        cast(school_year as varchar) as school_year,
        cast(education_level as varchar) as education_level,
        cast(first_enrolment_in_antwerp as varchar) as first_enrolment_in_antwerp,
        cast(count(*) as integer) as newcomer_count,
        cast(count(*) filter (where has_school_delay) as integer) as school_delay_count
    from microdata
    where {{ in_delivery_period('school_year') }}
    group by all

)

select * from final
