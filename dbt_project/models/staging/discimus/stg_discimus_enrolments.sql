with

source as (

    select * from {{ source('raw', 'discimus_enrolments') }}

),

renamed as (

    select
        ----------  ids
        pupil_key,
        inschrijving_id as enrolment_id,

        ----------  pupil at enrolment
        {{ to_date('geboortedatum') }} as birth_date,
        {{ gender_code('geslacht') }} as gender,
        upper(nationaliteit) as nationality,
        woonplaats_nis as residence_nis_code,
        postcode as residence_postcode,

        ----------  school and structure
        {{ short_school_year('schooljaar') }} as school_year,
        {{ school_number('instellingsnummer') }} as school_number,
        cast(vestigingsplaats as bigint) as branch_number,
        hoofdstructuur as main_structure_code,
        {{ main_structure_parts('hoofdstructuur') }},
        cast(administratieve_groep as bigint) as administrative_group,
        cast(leerjaar as bigint) as study_year,
        cast(graad as bigint) as grade,

        ----------  programme
        {{ clean_code('onderwijsvorm') }} as education_form,
        {{ clean_code('finaliteit') }} as finality,
        {{ clean_code('leerweg') }} as learning_path,
        studierichting as study_direction,
        type_buitengewoon as special_education_type,
        {{ clean_code('opleidingsvorm') }} as training_form,

        ----------  booleans
        {{ flag_to_boolean('an') }} as is_newcomer,
        {{ flag_to_boolean('gan') }} as was_newcomer,

        ----------  dates
        {{ to_date('begindatum') }} as start_date,
        {{ to_date('einddatum') }} as end_date,

        ----------  end of enrolment
        {{ clean_code('reden_uitschrijving') }} as deregistration_reason_code,
        {{ clean_code('situatie_na') }} as situation_after_code,

        ----------  provenance
        _school_year as file_school_year,
        _source_file as source_file,
        _source_file_sha256 as source_file_sha256,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
