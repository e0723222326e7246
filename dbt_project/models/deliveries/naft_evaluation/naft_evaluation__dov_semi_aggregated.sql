-- naft_evaluation, DOV file 6: the share of school-age young people living in Flanders who
-- follow education, in total and per postcode of residence, per school year 2017-18 to 2024-25.
-- The denominator is the Rijksregister extract (compulsory-school-age children) of 15 October of
-- each school year 2017-18 to 2024-25: every year has its extract.
-- "In education" = enrolled in a Flemish school or at a Dutch school (linked DUO record).
-- Exact shares here, from the microdata; population_count is a disclosure-support column, never
-- delivered: the delivery writer publishes the file through orchestration.disclosure.

with

microdata as (

    select * from {{ ref('naft_evaluation__dov_semi_aggregated__microdata') }}

),

areas as (

    select
        school_year,
        'TOTAL' as area_level,
        null as postcode,
        count(*) as population_count,
        count(*) filter (where in_education) as in_education_count
    from microdata
    group by school_year

    union all

    select
        school_year,
        'POSTCODE' as area_level,
        postcode,
        count(*) as population_count,
        count(*) filter (where in_education) as in_education_count
    from microdata
    where postcode is not null
    group by school_year, postcode

),

final as (

    select
        cast(school_year as varchar) as school_year,
        cast(area_level as varchar) as area_level,
        cast(postcode as varchar) as postcode,
        cast(in_education_count / population_count as double) as share_in_education,
        cast(population_count as integer) as population_count
    from areas

)

select * from final
