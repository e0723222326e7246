{#-
    One row per DUO registration (a compulsory-age pupil domiciled in Belgium at a Dutch school)
    per DUO reference date (a file sent again: the latest load wins), with the school year, the
    province and municipality of residence derived from the postcode (the municipality only when
    the postcode belongs to one municipality; the province from bpost's postcode ranges outside
    Flanders and Brussels), the birth year and the Dutch school (BRIN).
-#}
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
    qualify row_number() over (
        partition by registrations.record_key, registrations.reference_date
        order by registrations.loaded_at desc, registrations.source_row
    ) = 1

),

final as (

    select
        pupils.record_key,
        pupils.school_year,
        pupils.reference_date,
        coalesce(postcodes.province_name, {{ belgian_province_of_postcode(
            'pupils.residence_postcode') }}) as residence_province,
        postcodes.nis_code as residence_municipality_nis_code,
        pupils.birth_year,
        pupils.brin_code
    from pupils
    left join postcodes
        on pupils.residence_postcode = postcodes.postcode

)

select * from final
