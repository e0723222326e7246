-- vtc_2015_35, admission check for higher-education institutions: the answer set the delivery
-- writer draws from when a request file of INSZ numbers arrives. Keyed by pupil_key (the INSZ
-- never enters dbt): for every person with a registered LED certificate, one LED row per
-- certificate; for a person LED knows nothing of, ONLY the last secondary enrolment in Discimus.
-- The writer keeps the rows of the requested persons, swaps pupil_key for the INSZ of the request
-- line and adds a NONE row for a requested person neither source knows.

with

answers as (

    select * from {{ ref('admission_check_answer') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast(answer_source as varchar) as answer_source,
        cast(supplier_name as varchar) as supplier_name,
        cast(supplier_certificate_reference as varchar) as supplier_certificate_reference,
        cast(certificate_reference as varchar) as certificate_reference,
        cast(authenticity as varchar) as authenticity,
        cast(category as varchar) as category,
        cast(grade as varchar) as grade,
        cast(education_form as varchar) as education_form,
        cast(education_type as varchar) as education_type,
        cast(certificate_state as varchar) as certificate_state,
        cast(issuing_body as varchar) as issuing_body,
        cast(subject_code as varchar) as subject_code,
        cast(subject_name as varchar) as subject_name,
        cast(issue_date as date) as issue_date,
        cast(certificate_full_name as varchar) as certificate_full_name,
        cast(country as varchar) as country,
        cast(language as varchar) as language,
        cast(institution_name as varchar) as institution_name,
        cast(institution_number as varchar) as institution_number,
        cast(school_type as varchar) as school_type,
        cast(study_direction_name as varchar) as study_direction_name,
        cast(study_direction_code as varchar) as study_direction_code,
        cast(specialisation_name as varchar) as specialisation_name,
        cast(specialisation_code as varchar) as specialisation_code,
        cast(detail_subject_name as varchar) as detail_subject_name,
        cast(detail_subject_code as varchar) as detail_subject_code,
        cast(alternative_body_role as varchar) as alternative_body_role,
        cast(alternative_body_name as varchar) as alternative_body_name,
        cast(adult_education_hours as integer) as adult_education_hours,
        cast(expiry_period as varchar) as expiry_period,
        cast(additional_information as varchar) as additional_information,
        cast(isced_field as varchar) as isced_field,
        cast(isced_level as varchar) as isced_level,
        cast(vks_level_name as varchar) as vks_level_name,
        cast(vks_level_code as varchar) as vks_level_code,
        cast(enrolment_origin as varchar) as enrolment_origin,
        cast(enrolment_institution_number as varchar) as enrolment_institution_number,
        cast(enrolment_institution_name as varchar) as enrolment_institution_name,
        cast(enrolment_institution_coordinates as varchar) as enrolment_institution_coordinates,
        cast(enrolment_location_number as integer) as enrolment_location_number,
        cast(enrolment_location_address as varchar) as enrolment_location_address,
        cast(enrolment_programme as varchar) as enrolment_programme,
        cast(enrolment_programme_reference as varchar) as enrolment_programme_reference,
        cast(enrolment_school_year as varchar) as enrolment_school_year,
        cast(administrative_group_enrolment_reference as varchar)
            as administrative_group_enrolment_reference,
        cast(administrative_group_start_date as date) as administrative_group_start_date,
        cast(administrative_group_end_date as date) as administrative_group_end_date,
        cast(administrative_group as integer) as administrative_group,
        cast(deregistration_reason as varchar) as deregistration_reason,
        cast(institution_seat_address as varchar) as institution_seat_address,
        cast(institution_seat_contact_details as varchar) as institution_seat_contact_details
    from answers

)

select * from final
