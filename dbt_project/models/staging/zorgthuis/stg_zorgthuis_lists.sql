with

source as (

    select * from {{ source('raw', 'zorgthuis_lists') }}

),

renamed as (

    select
        ----------  ids
        pupil_key,
        {{ to_date('teldatum') }} as counting_date,
        {{ clean_code('soort_lijst') }} as list_kind,
        _school_year as school_year,

        ----------  codes
        {{ clean_code('verblijf_mfc') }} as mfc_residence,

        ----------  booleans
        {{ clean_code('verblijf_mfc') }} = 'MFC_NIET_VRIJWILLIG' as has_non_voluntary_mfc_care,
        {{ clean_code('verblijf_mfc') }} = 'MFC_VRIJWILLIG' as is_voluntary_mfc_care,

        ----------  provenance
        _school_year as file_school_year,
        _source_file as source_file,
        _source_file_sha256 as source_file_sha256,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
