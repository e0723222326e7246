with

source as (

    select * from {{ source('raw', 'school_register_capacity') }}

),

renamed as (

    select
        ----------  ids
        {{ school_number('instellingsnummer') }} as school_number,
        cast(vestigingsplaats as bigint) as branch_number,
        {{ short_school_year('schooljaar') }} as school_year,

        ----------  structure and programme
        hoofdstructuur as main_structure_code,
        {{ main_structure_parts('hoofdstructuur') }},
        cast(leerjaar as bigint) as study_year,
        {{ clean_code('onderwijsvorm') }} as education_form,
        {{ clean_code('finaliteit') }} as finality,
        {{ clean_code('leerweg') }} as learning_path,

        ----------  numerics
        cast(beschikbare_plaatsen as bigint) as available_places,

        ----------  provenance
        _school_year as file_school_year,
        _source_file as source_file,
        _source_file_sha256 as source_file_sha256,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
