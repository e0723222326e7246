-- vtc_2015_31, LED certificates for the Flemish government's HR system: the answer set the
-- delivery writer draws from when a request file of INSZ numbers arrives. Keyed by pupil_key (the
-- INSZ never enters dbt): one row per registered LED certificate of every person, with only the
-- fields the authorisation lists (names, not codes). The writer keeps the requested persons and
-- swaps pupil_key for the INSZ of the request line; a person without certificates gets no row.

with

certificates as (

    select * from {{ ref('registered_led_certificate') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast(authenticity as varchar) as authenticity,
        cast(category as varchar) as category,
        cast(grade as varchar) as grade,
        cast(education_form as varchar) as education_form,
        cast(certificate_type as varchar) as certificate_type,
        cast(certificate_state as varchar) as certificate_state,
        cast(issuing_body as varchar) as issuing_body,
        cast(subject_name as varchar) as subject,
        cast(issue_date as date) as issue_date,
        cast(country as varchar) as country,
        cast(language as varchar) as language,
        cast(institution_name as varchar) as institution_name,
        cast(school_type as varchar) as school_type,
        cast(study_direction as varchar) as study_direction,
        cast(specialisation as varchar) as specialisation,
        cast(detail_subject as varchar) as detail_subject,
        cast(expiry_period as varchar) as expiry_period,
        cast(adult_education_hours as integer) as adult_education_hours
    from certificates

)

select * from final
