with

source as (

    select * from {{ source('raw', 'rijksregister_children') }}

),

renamed as (

    select
        ----------  ids
        pupil_key,
        {{ to_date('referentiedatum') }} as reference_date,
        _school_year as school_year,

        ----------  child (name and address stay in the vault)
        {{ to_date('geboortedatum') }} as birth_date,
        {{ gender_code('geslacht') }} as gender,
        postcode as residence_postcode,
        nis_gemeente as residence_nis_code,

        ----------  provenance
        _school_year as file_school_year,
        _source_file as source_file,
        _source_file_sha256 as source_file_sha256,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
