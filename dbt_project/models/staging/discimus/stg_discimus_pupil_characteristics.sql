with

source as (

    select * from {{ source('raw', 'discimus_pupil_characteristics') }}

),

renamed as (

    select
        ----------  ids
        pupil_key,
        {{ short_school_year('schooljaar') }} as school_year,

        ----------  booleans: the four OKI characteristics
        {{ flag_to_boolean('thuistaal_niet_nederlands') }} as has_non_dutch_home_language,
        {{ flag_to_boolean('moeder_laag_opgeleid') }} as has_low_educated_mother,
        {{ flag_to_boolean('schooltoelage') }} as received_school_allowance,
        {{ flag_to_boolean('buurtindicator') }} as lives_in_high_delay_neighbourhood,

        ----------  provenance
        _school_year as file_school_year,
        _source_file as source_file,
        _source_file_sha256 as source_file_sha256,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
