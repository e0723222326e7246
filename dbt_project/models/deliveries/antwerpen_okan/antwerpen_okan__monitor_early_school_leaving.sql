-- antwerpen_okan, public monitor table: newcomer pupils of the population who left secondary
-- education, per school year and whether their last known enrolment was in the city of Antwerp:
-- early school leavers (school year they entered the indicator) and qualified leavers (school
-- year of their first secondary qualification), and the early-school-leaving rate. Exact counts
-- here, from the table's microdata: the delivery writer publishes the table through
-- orchestration.disclosure before it leaves (a rate only where its counts are shown).

with

microdata as (

    select * from {{ ref('antwerpen_okan__monitor_early_school_leaving__microdata') }}

),

counts as (

    select
        school_year,
        last_enrolment_in_antwerp,
        count(*) filter (where is_early_school_leaver) as early_school_leaver_count,
        count(*) filter (where not is_early_school_leaver) as qualified_leaver_count
    from microdata
    where {{ in_delivery_period('school_year') }}
    group by all

),

final as (

    select
        cast(school_year as varchar) as school_year,
        cast(last_enrolment_in_antwerp as varchar) as last_enrolment_in_antwerp,
        cast(early_school_leaver_count as integer) as early_school_leaver_count,
        cast(qualified_leaver_count as integer) as qualified_leaver_count,
        cast(
            early_school_leaver_count
            / nullif(early_school_leaver_count + qualified_leaver_count, 0) as double
        ) as early_school_leaving_rate
    from counts

)

select * from final
