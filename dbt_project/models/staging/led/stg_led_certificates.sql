with

source as (

    select * from {{ source('raw', 'led_certificates') }}

),

renamed as (

    select
        ----------  ids
        pupil_key,
        bewijsreferte as certificate_reference,
        _school_year as school_year,

        ----------  registration
        leverancier as supplier,
        cast(status as bigint) as status_code,
        authenticiteit as authenticity,

        ----------  certificate
        categorie as category,
        graad as grade,
        {{ clean_code('onderwijsvorm') }} as education_form,
        bewijstype as certificate_type,
        bewijsstaat as certificate_state,
        instantie as issuing_body,
        onderwerp_code as subject_code,
        onderwerp_naam as subject_name,
        volledige_naam as certificate_full_name,
        upper(land) as country,
        lower(taal) as language,

        ----------  institution
        instelling_naam as institution_name,
        {{ school_number('instelling_nummer') }} as institution_number,
        schooltype as school_type,

        ----------  details
        studierichting as study_direction,
        specialisatie as specialisation,
        detail_onderwerp as detail_subject,
        vervalperiode as expiry_period,
        cast(uren_volwassenenonderwijs as bigint) as adult_education_hours,
        alternatieve_instantie as alternative_body,
        bijkomende_informatie as additional_information,

        ----------  derived classifications (ISCED, VKS)
        isced_studiegebied as isced_field,
        upper(isced_niveau) as isced_level,
        upper(vks_niveau) as vks_level,

        ----------  dates
        {{ to_date('uitreikingsdatum') }} as issue_date,

        ----------  provenance
        _school_year as file_school_year,
        _source_file as source_file,
        _source_file_sha256 as source_file_sha256,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
