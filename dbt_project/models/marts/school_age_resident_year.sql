{#-
    One row per school-age young person living in Flanders per school year: the Rijksregister
    extract (compulsory-school-age children) on the first DUO reference date of the school year,
    15 October, with the postcode of residence and whether the young person follows education
    (a Flemish enrolment or a linked DUO record). School years without an extract have no row.
-#}
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
        status.pupil_key,
        status.school_year,
        status.residence_postcode,
        status.status in ('enrolled_flanders', 'schooled_netherlands') as in_education
    from status
    inner join flemish_municipalities
        on status.residence_nis_code = flemish_municipalities.nis_code
    where
        status.is_compulsory_school_age
        and status.duo_reference_date_name = 'duo_october_15'

)

select * from final
