-- duo_leerplicht, microdata of the parliamentary figures: one row per DUO registration (a
-- compulsory-age pupil domiciled in Belgium at a Dutch school) per reference date from school
-- year 2023-24, with province and municipality of residence (from the postcode), birth year and
-- the Dutch school (BRIN). Never delivered: orchestration.disclosure publishes the counts from it;
-- the school column only lets it count the schools behind every figure.

with

registrations as (

    select * from {{ ref('duo_registration_residence') }}

),

final as (

    select
        cast(record_key as varchar) as record_key,
        cast(school_year as varchar) as school_year,
        cast(reference_date as date) as reference_date,
        cast(residence_province as varchar) as residence_province,
        cast(residence_municipality_nis_code as varchar) as residence_municipality_nis_code,
        cast(birth_year as integer) as birth_year,
        cast(brin_code as varchar) as brin_code
    from registrations
    where {{ in_delivery_period('school_year') }}

)

select * from final
