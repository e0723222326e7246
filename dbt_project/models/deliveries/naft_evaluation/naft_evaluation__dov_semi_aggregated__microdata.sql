-- naft_evaluation, microdata of dov_semi_aggregated: one row per school-age young person living
-- in Flanders per school year 2017-18 to 2024-25 (Rijksregister extract on the first DUO
-- reference date, 15 October, of the school year), with the postcode of residence and whether
-- the young person follows education (a Flemish enrolment or a linked DUO record). Never
-- delivered: orchestration.disclosure publishes the shares (total and per postcode) from it.

with

residents as (

    select * from {{ ref('school_age_resident_year') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast(school_year as varchar) as school_year,
        cast(residence_postcode as varchar) as postcode,
        cast(in_education as boolean) as in_education
    from residents
    where {{ in_delivery_period('school_year') }}

)

select * from final
