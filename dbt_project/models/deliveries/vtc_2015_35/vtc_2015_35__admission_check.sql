-- vtc_2015_35, admission check for higher-education institutions: the answer set the delivery
-- writer draws from when a request file of INSZ numbers arrives. Keyed by pupil_key (the INSZ
-- never enters dbt): for every person with a registered LED certificate, one LED row per
-- certificate; for a person LED knows nothing of, ONLY the last secondary enrolment in Discimus.
-- The writer keeps the rows of the requested persons, swaps pupil_key for the INSZ of the request
-- line and adds a NONE row for a requested person neither source knows.

with

led_certificates as (

    select * from {{ ref('stg_led_certificates') }}

),

certificate_status as (

    select * from {{ ref('int_pupil_certificates') }}

),

enrolments as (

    select * from {{ ref('stg_discimus_enrolments') }}

),

schools as (

    select * from {{ ref('school_year') }}

),

branches as (

    select * from {{ ref('stg_school_register_branches') }}

),

-- the latest delivered version of each certificate, only while it is registered (not annulled)
certificates as (

    select led_certificates.*
    from led_certificates
    inner join certificate_status
        on led_certificates.certificate_reference = certificate_status.certificate_reference
    where certificate_status.is_registered
    qualify row_number() over (
        partition by led_certificates.certificate_reference
        order by led_certificates.file_school_year desc, led_certificates.loaded_at desc,
            led_certificates.source_row desc
    ) = 1

),

-- the last secondary enrolment of people without any registered LED certificate
last_secondary_enrolments as (

    select *
    from enrolments
    where
        education_level = 'secundair'
        and pupil_key not in (select certificates.pupil_key from certificates)
    qualify row_number() over (
        partition by pupil_key
        order by school_year desc, start_date desc, coalesce(end_date, date '9999-12-31') desc,
            enrolment_id desc
    ) = 1

),

branch_addresses as (

    select
        school_number,
        branch_number,
        school_year,
        concat_ws(', ', concat_ws(' ', street, house_number),
            concat_ws(' ', postcode, municipality_name)) as address
    from branches
    qualify row_number() over (
        partition by school_number, branch_number, school_year order by loaded_at desc
    ) = 1

),

led_rows as (

    select
        pupil_key,
        'LED' as answer_source,
        supplier as supplier_name,
        null as supplier_certificate_reference,
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
        null as study_direction_code,
        specialisation as specialisation_name,
        null as specialisation_code,
        detail_subject as detail_subject_name,
        null as detail_subject_code,
        null as alternative_body_role,
        alternative_body as alternative_body_name,
        adult_education_hours,
        expiry_period,
        additional_information,
        isced_field,
        isced_level,
        null as vks_level_name,
        vks_level as vks_level_code,
        null as enrolment_origin,
        null as enrolment_institution_number,
        null as enrolment_institution_name,
        null as enrolment_institution_coordinates,
        null as enrolment_location_number,
        null as enrolment_location_address,
        null as enrolment_programme,
        null as enrolment_programme_reference,
        null as enrolment_school_year,
        null as administrative_group_enrolment_reference,
        null as administrative_group_start_date,
        null as administrative_group_end_date,
        null as administrative_group,
        null as deregistration_reason,
        null as institution_seat_address,
        null as institution_seat_contact_details
    from certificates

),

discimus_rows as (

    select
        enrolment.pupil_key,
        'DISCIMUS' as answer_source,
        null as supplier_name,
        null as supplier_certificate_reference,
        null as certificate_reference,
        null as authenticity,
        null as category,
        null as grade,
        null as education_form,
        null as education_type,
        null as certificate_state,
        null as issuing_body,
        null as subject_code,
        null as subject_name,
        null as issue_date,
        null as certificate_full_name,
        null as country,
        null as language,
        null as institution_name,
        null as institution_number,
        null as school_type,
        null as study_direction_name,
        null as study_direction_code,
        null as specialisation_name,
        null as specialisation_code,
        null as detail_subject_name,
        null as detail_subject_code,
        null as alternative_body_role,
        null as alternative_body_name,
        null as adult_education_hours,
        null as expiry_period,
        null as additional_information,
        null as isced_field,
        null as isced_level,
        null as vks_level_name,
        null as vks_level_code,
        'DISCIMUS' as enrolment_origin,
        enrolment.school_number as enrolment_institution_number,
        schools.school_name as enrolment_institution_name,
        -- the register holds no telephone or e-mail of schools
        null as enrolment_institution_coordinates,
        enrolment.branch_number as enrolment_location_number,
        location.address as enrolment_location_address,
        enrolment.main_structure_code as enrolment_programme,
        null as enrolment_programme_reference,
        enrolment.school_year as enrolment_school_year,
        enrolment.enrolment_id as administrative_group_enrolment_reference,
        enrolment.start_date as administrative_group_start_date,
        enrolment.end_date as administrative_group_end_date,
        enrolment.administrative_group,
        enrolment.deregistration_reason_code as deregistration_reason,
        -- the seat: the address of the school's main branch in the register
        seat.address as institution_seat_address,
        null as institution_seat_contact_details
    from last_secondary_enrolments as enrolment
    left join schools
        on
            enrolment.school_number = schools.school_number
            and enrolment.school_year = schools.school_year
    left join branch_addresses as location
        on
            enrolment.school_number = location.school_number
            and enrolment.branch_number = location.branch_number
            and enrolment.school_year = location.school_year
    left join branch_addresses as seat
        on
            enrolment.school_number = seat.school_number
            and schools.main_branch_number = seat.branch_number
            and enrolment.school_year = seat.school_year

),

answers as (

    select * from led_rows
    union all by name
    select * from discimus_rows

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
