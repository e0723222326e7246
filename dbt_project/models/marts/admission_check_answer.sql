{#-
    The answer set of the admission check (vtc_2015_35), keyed by pupil_key (the INSZ never enters
    dbt): for every person with a registered LED certificate, one LED row per certificate; for a
    person LED knows nothing of, ONLY the last secondary enrolment in Discimus. The delivery
    writer keeps the rows of the requested persons, swaps pupil_key for the INSZ of the request
    line and adds a NONE row for a requested person neither source knows.
-#}
with

certificates as (

    select * from {{ ref('registered_led_certificate') }}

),

secondary_enrolments as (

    select * from {{ ref('last_secondary_enrolment') }}

),

-- the last secondary enrolment of people without any registered LED certificate
last_secondary_enrolments as (

    select *
    from secondary_enrolments
    where pupil_key not in (select certificates.pupil_key from certificates)

),

led_rows as (

    select
        pupil_key,
        'LED' as answer_source,
        supplier as supplier_name,
        cast(null as varchar) as supplier_certificate_reference,
        certificate_reference,
        authenticity,
        category,
        grade,
        education_form,
        certificate_type as education_type,
        certificate_state,
        issuing_body,
        subject_code,
        subject_name,
        issue_date,
        certificate_full_name,
        country,
        language,
        institution_name,
        institution_number,
        school_type,
        study_direction as study_direction_name,
        cast(null as varchar) as study_direction_code,
        specialisation as specialisation_name,
        cast(null as varchar) as specialisation_code,
        detail_subject as detail_subject_name,
        cast(null as varchar) as detail_subject_code,
        cast(null as varchar) as alternative_body_role,
        alternative_body as alternative_body_name,
        adult_education_hours,
        expiry_period,
        additional_information,
        isced_field,
        isced_level,
        cast(null as varchar) as vks_level_name,
        vks_level as vks_level_code,
        cast(null as varchar) as enrolment_origin,
        cast(null as varchar) as enrolment_institution_number,
        cast(null as varchar) as enrolment_institution_name,
        cast(null as varchar) as enrolment_institution_coordinates,
        cast(null as integer) as enrolment_location_number,
        cast(null as varchar) as enrolment_location_address,
        cast(null as varchar) as enrolment_programme,
        cast(null as varchar) as enrolment_programme_reference,
        cast(null as varchar) as enrolment_school_year,
        cast(null as varchar) as administrative_group_enrolment_reference,
        cast(null as date) as administrative_group_start_date,
        cast(null as date) as administrative_group_end_date,
        cast(null as integer) as administrative_group,
        cast(null as varchar) as deregistration_reason,
        cast(null as varchar) as institution_seat_address,
        cast(null as varchar) as institution_seat_contact_details
    from certificates

),

discimus_rows as (

    select
        enrolment.pupil_key,
        'DISCIMUS' as answer_source,
        cast(null as varchar) as supplier_name,
        cast(null as varchar) as supplier_certificate_reference,
        cast(null as varchar) as certificate_reference,
        cast(null as varchar) as authenticity,
        cast(null as varchar) as category,
        cast(null as varchar) as grade,
        cast(null as varchar) as education_form,
        cast(null as varchar) as education_type,
        cast(null as varchar) as certificate_state,
        cast(null as varchar) as issuing_body,
        cast(null as varchar) as subject_code,
        cast(null as varchar) as subject_name,
        cast(null as date) as issue_date,
        cast(null as varchar) as certificate_full_name,
        cast(null as varchar) as country,
        cast(null as varchar) as language,
        cast(null as varchar) as institution_name,
        cast(null as varchar) as institution_number,
        cast(null as varchar) as school_type,
        cast(null as varchar) as study_direction_name,
        cast(null as varchar) as study_direction_code,
        cast(null as varchar) as specialisation_name,
        cast(null as varchar) as specialisation_code,
        cast(null as varchar) as detail_subject_name,
        cast(null as varchar) as detail_subject_code,
        cast(null as varchar) as alternative_body_role,
        cast(null as varchar) as alternative_body_name,
        cast(null as integer) as adult_education_hours,
        cast(null as varchar) as expiry_period,
        cast(null as varchar) as additional_information,
        cast(null as varchar) as isced_field,
        cast(null as varchar) as isced_level,
        cast(null as varchar) as vks_level_name,
        cast(null as varchar) as vks_level_code,
        'DISCIMUS' as enrolment_origin,
        enrolment.school_number as enrolment_institution_number,
        enrolment.school_name as enrolment_institution_name,
        -- the register holds no telephone or e-mail of schools
        cast(null as varchar) as enrolment_institution_coordinates,
        enrolment.branch_number as enrolment_location_number,
        enrolment.branch_address as enrolment_location_address,
        enrolment.main_structure_code as enrolment_programme,
        cast(null as varchar) as enrolment_programme_reference,
        enrolment.school_year as enrolment_school_year,
        enrolment.enrolment_id as administrative_group_enrolment_reference,
        enrolment.start_date as administrative_group_start_date,
        enrolment.end_date as administrative_group_end_date,
        enrolment.administrative_group,
        enrolment.deregistration_reason_code as deregistration_reason,
        enrolment.seat_address as institution_seat_address,
        cast(null as varchar) as institution_seat_contact_details
    from last_secondary_enrolments as enrolment

),

final as (

    select * from led_rows
    union all by name
    select * from discimus_rows

)


select * from final
