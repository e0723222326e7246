with

source as (

    select * from {{ source('raw', 'binc_naft_beneficiaries') }}

),

renamed as (

    select
        ----------  ids
        pupil_key,
        traject_id as trajectory_id,
        _school_year as school_year,

        ----------  young person
        {{ gender_code('geslacht') }} as gender,
        {{ to_date('geboortedatum') }} as birth_date,
        lower(thuistaal) as home_language,
        upper(nationaliteit) as nationality,
        woonplaats_nis as residence_nis_code,
        gezinssituatie as family_situation,

        ----------  school situation when the young person enrols in the trajectory (BINC's own)
        upper(onderwijsvorm) as education_form,
        upper(finaliteit) as finality,
        upper(leerweg) as learning_path,
        onderwijsnet as network,
        koepel as umbrella_organisation,
        {{ school_number('instellingsnummer') }} as school_number,
        referentie_clb as clb_reference,

        ----------  provenance
        _school_year as file_school_year,
        _source_file as source_file,
        _source_file_sha256 as source_file_sha256,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
