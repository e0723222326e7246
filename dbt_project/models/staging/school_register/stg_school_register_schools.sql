with

source as (

    select * from {{ source('raw', 'school_register_schools') }}

),

renamed as (

    select
        ----------  ids
        {{ school_number('instellingsnummer') }} as school_number,
        {{ short_school_year('schooljaar') }} as school_year,

        ----------  school
        naam as school_name,
        {{ clean_code('niveau') }} as school_level_code,

        ----------  network
        soort_bestuur as school_network_code,
        koepel as umbrella_organisation,

        ----------  provenance
        _school_year as file_school_year,
        _source_file as source_file,
        _source_file_sha256 as source_file_sha256,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
