-- antwerpen_okan, school portraits: per school with a branch in the city of Antwerp and school
-- year, the newcomer pupils of the population enrolled there on 1 February and their A, B and C
-- attests. School-scoped: each school receives only its own rows, never published or ranked.
-- Exact counts here, from the microdata: the delivery writer publishes them through
-- orchestration.disclosure (small counts suppressed) before they leave.

with

microdata as (

    select * from {{ ref('antwerpen_okan__school_portraits__microdata') }}

),

final as (

    select
        cast(school_year as varchar) as school_year,
        cast(institution_number as varchar) as institution_number,
        cast(count(distinct pupil_key) as integer) as newcomer_pupils,
        cast(count(distinct pupil_key) filter (where attest = 'A') as integer) as a_attest_count,
        cast(count(distinct pupil_key) filter (where attest = 'B') as integer) as b_attest_count,
        cast(count(distinct pupil_key) filter (where attest = 'C') as integer) as c_attest_count
    from microdata
    where {{ in_delivery_period('school_year') }}
    group by school_year, institution_number

)

select * from final
