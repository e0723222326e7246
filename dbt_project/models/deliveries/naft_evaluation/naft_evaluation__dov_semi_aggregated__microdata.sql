-- naft_evaluation, microdata of dov_semi_aggregated: one row per school-age young person living
-- in Flanders per school year 2017-18 to 2024-25 (Rijksregister extract on the first DUO
-- reference date, 15 October, of the school year), with the postcode of residence and whether
-- the young person follows education (a Flemish enrolment or a linked DUO record). Never
-- delivered: orchestration.disclosure publishes the shares (total and per postcode) from it.

with

status as (

    select * from {{ ref('compulsory_education_status') }}

),

municipalities as (

    select * from {{ ref('municipalities') }}

),

flemish_municipalities as (

    select distinct cast(nis_code as varchar) as nis_code
    from municipalities
    where lpad(cast(region_code as varchar), 5, '0') = '02000'

),

final as (

    select
        cast(status.pupil_key as varchar) as pupil_key,
        cast(status.school_year as varchar) as school_year,
        cast(status.residence_postcode as varchar) as postcode,
        cast(status.status in ('enrolled_flanders', 'schooled_netherlands') as boolean)
            as in_education
    from status
    inner join flemish_municipalities
        on status.residence_nis_code = flemish_municipalities.nis_code
    where
        status.is_compulsory_school_age
        and status.duo_reference_date_name = 'duo_october_15'
        and {{ in_delivery_period('status.school_year') }}

)

select * from final
