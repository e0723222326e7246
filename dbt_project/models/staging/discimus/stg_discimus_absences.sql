with

source as (

    select * from {{ source('raw', 'discimus_absences') }}

),

renamed as (

    select
        ----------  ids
        pupil_key,
        {{ short_school_year('schooljaar') }} as school_year,
        {{ school_number('instellingsnummer') }} as school_number,

        ----------  numerics: half days
        cast(halve_dagen_aanwezig_verwacht as bigint) as expected_half_days,
        cast(halve_dagen_afwezig as bigint) as absent_half_days,
        cast(halve_dagen_problematisch as bigint) as problematic_absent_half_days,

        ----------  numerics: long absences (10 or more consecutive days)
        cast(aantal_lange_afwezigheden as bigint) as long_absence_count,
        cast(dagen_lange_afwezigheid as bigint) as long_absence_days,

        ----------  provenance
        _school_year as file_school_year,
        _source_file as source_file,
        _source_file_sha256 as source_file_sha256,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
