with

source as (

    select * from {{ source('raw', 'duo_registrations') }}

),

renamed as (

    select
        ----------  ids
        record_key,
        {{ to_date('peildatum', var('dutch_date_format')) }} as reference_date,
        _school_year as school_year,

        ----------  pupil (name, address and DUO's number stay in the vault)
        {{ to_date('geboortedatum', var('dutch_date_format')) }} as birth_date,
        postcode as residence_postcode,
        woonplaats as residence_municipality,

        ----------  Dutch school
        {{ compact_brin('brin') }} as brin_code,
        instellingsnaam as institution_name,

        ----------  provenance
        _school_year as file_school_year,
        _source_file as source_file,
        _source_file_sha256 as source_file_sha256,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
