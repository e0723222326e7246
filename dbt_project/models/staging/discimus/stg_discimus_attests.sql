with

source as (

    select * from {{ source('raw', 'discimus_attests') }}

),

renamed as (

    select
        ----------  ids
        pupil_key,
        {{ short_school_year('schooljaar') }} as school_year,
        {{ school_number('instellingsnummer') }} as school_number,
        cast(vestigingsplaats as bigint) as branch_number,

        ----------  attest
        cast(leerjaar as bigint) as study_year,
        {{ clean_code('attest') }} as attest_code,
        clausulering as attest_restriction,

        ----------  dates
        {{ to_date('datum_attest') }} as attest_date,

        ----------  provenance
        _school_year as file_school_year,
        _source_file as source_file,
        _source_file_sha256 as source_file_sha256,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
