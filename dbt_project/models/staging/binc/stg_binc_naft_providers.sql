with

source as (

    select * from {{ source('raw', 'binc_naft_providers') }}

),

renamed as (

    select
        ----------  ids
        aanbieder_id as provider_id,
        {{ short_school_year('schooljaar') }} as school_year,

        ----------  organisation
        naam as provider_name,
        type_organisatie as organisation_type,
        regio as region,
        werkgebied as service_area,
        aanbod as services,

        ----------  provenance
        _school_year as file_school_year,
        _source_file as source_file,
        _source_file_sha256 as source_file_sha256,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
