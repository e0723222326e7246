-- duo_leerplicht, follow-up list: the work list of the compulsory-education cell. Per DUO
-- reference date (15 October, 15 December, 15 February) from school year 2023-24, every child of
-- compulsory school age in the Rijksregister extract who is found in no Flemish enrolment and in
-- no linked DUO record. A DUO record of the same date that the linkage could not attach and that
-- shares the child's birth date is shown as a CANDIDATE for manual checking (its Dutch school,
-- and at delivery time its fictitious number).
-- Keyed by pupil_key and the Rijksregister record: the INSZ, names and street address are taken
-- from the vault by the delivery writer at delivery time and never enter dbt.

with

follow_up as (

    select * from {{ ref('compulsory_education_follow_up') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast(rijksregister_file_sha256 as varchar) as rijksregister_file_sha256,
        cast(rijksregister_source_row as bigint) as rijksregister_source_row,
        cast(duo_record_key as varchar) as duo_record_key,
        cast(birth_date as date) as birth_date,
        cast(residence_postcode as varchar) as postcode,
        cast(residence_nis_code as varchar) as municipality_nis_code,
        cast(school_year as varchar) as school_year,
        cast(duo_reference_date_name as varchar) as reference_date_name,
        cast(reference_date as date) as reference_date,
        cast(duo_match_status as varchar) as duo_match_status,
        cast(duo_institution_number as varchar) as duo_institution_number,
        cast(duo_institution_name as varchar) as duo_institution_name
    from follow_up
    where {{ in_delivery_period('school_year') }}

)

select * from final
