with

source as (

    select * from {{ source('raw', 'binc_naft_trajectories') }}

),

renamed as (

    select
        ----------  ids
        traject_id as trajectory_id,
        {{ short_school_year('schooljaar') }} as school_year,
        aanbieder_id as provider_id,
        {{ school_number('instellingsnummer') }} as school_number,

        ----------  kind of trajectory
        {{ clean_code('type') }} as trajectory_type,
        {{ clean_code('vorm') }} as trajectory_form,
        {{ clean_code('doelgroep') }} as target_group,

        ----------  content (lists are |-separated text, as delivered)
        resultaat as outcome,
        doelen as goals,
        redenen as reasons,

        ----------  intensity
        cast(aantal_sessies as bigint) as session_count,
        cast(totale_duur_uren as bigint) as total_duration_hours,
        frequentie as frequency,
        {{ clean_code('deelname') }} as participation,

        ----------  dates
        {{ to_date('begindatum') }} as start_date,
        {{ to_date('einddatum') }} as end_date,

        ----------  provenance
        _school_year as file_school_year,
        _source_file as source_file,
        _source_file_sha256 as source_file_sha256,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
