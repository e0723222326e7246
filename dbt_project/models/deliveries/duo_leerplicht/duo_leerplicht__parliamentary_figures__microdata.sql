-- duo_leerplicht, microdata of the parliamentary figures: one row per DUO registration (a
-- compulsory-age pupil domiciled in Belgium at a Dutch school) per reference date from school
-- year 2023-24, with province and municipality of residence (from the postcode), birth year and
-- the Dutch school (BRIN). Never delivered: orchestration.disclosure publishes the counts from it;
-- the school column only lets it count the schools behind every figure.

with

registrations as (

    select * from {{ ref('stg_duo_registrations') }}

),

counting_dates as (

    select * from {{ ref('counting_dates') }}

),

municipalities as (

    select * from {{ ref('municipalities') }}

),

duo_dates as (

    select
        school_year,
        cast(counting_date as date) as reference_date
    from counting_dates
    where counting_date_name in ('duo_october_15', 'duo_december_15', 'duo_february_15')

),

postcodes as (

    select
        lpad(cast(postcode as varchar), 4, '0') as postcode,
        case
            when count(distinct nis_code) = 1 then cast(any_value(nis_code) as varchar)
        end as nis_code,
        case
            when count(distinct province_name) = 1 then any_value(province_name)
        end as province_name
    from municipalities
    group by 1

),

-- one row per DUO record and reference date (a file sent again: the latest load wins)
pupils as (

    select
        duo_dates.school_year,
        registrations.reference_date,
        registrations.record_key,
        registrations.residence_postcode,
        registrations.brin_code,
        year(registrations.birth_date) as birth_year
    from registrations
    inner join duo_dates
        on registrations.reference_date = duo_dates.reference_date
    where {{ in_delivery_period('duo_dates.school_year') }}
    qualify row_number() over (
        partition by registrations.record_key, registrations.reference_date
        order by registrations.loaded_at desc, registrations.source_row
    ) = 1

),

final as (

    select
        cast(pupils.record_key as varchar) as record_key,
        cast(pupils.school_year as varchar) as school_year,
        cast(pupils.reference_date as date) as reference_date,
        cast(
            coalesce(postcodes.province_name, {{ belgian_province_of_postcode(
                'pupils.residence_postcode') }}) as varchar
        ) as residence_province,
        cast(postcodes.nis_code as varchar) as residence_municipality_nis_code,
        cast(pupils.birth_year as integer) as birth_year,
        cast(pupils.brin_code as varchar) as brin_code
    from pupils
    left join postcodes
        on pupils.residence_postcode = postcodes.postcode

)

select * from final
