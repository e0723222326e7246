with

source as (

    select * from {{ source('raw', 'school_register_branches') }}

),

renamed as (

    select
        ----------  ids
        {{ school_number('instellingsnummer') }} as school_number,
        cast(vestigingsplaats as bigint) as branch_number,
        {{ short_school_year('schooljaar') }} as school_year,

        ----------  branch
        naam as branch_name,

        ----------  location (of an institution, not a person)
        straat as street,
        huisnummer as house_number,
        postcode,
        nis_gemeente as municipality_nis_code,
        gemeente as municipality_name,
        provincie as province_name,
        {{ clean_code('verstedelijking') }} as urbanisation,

        ----------  provenance
        _school_year as file_school_year,
        _source_file as source_file,
        _source_file_sha256 as source_file_sha256,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
