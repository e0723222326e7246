-- vtc_2015_29, Maastricht University pilot: the answer set the delivery writer draws from when a
-- request file arrives. Keyed by pupil_key (the INSZ never enters dbt): per person, the last
-- known secondary enrolment (school year, administratieve groep, onderwijsvorm, graad, leerjaar,
-- school with its address, status) and the date of the secondary-education diploma, if any. The
-- writer keeps the requested persons and swaps pupil_key for the request line's own reference:
-- the answer never carries the INSZ.

with

secondary_enrolments as (

    select * from {{ ref('last_secondary_enrolment') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast(school_year as varchar) as school_year,
        cast(diploma_date as date) as diploma_date,
        cast(administrative_group as integer) as administrative_group,
        cast(administrative_group_name as varchar) as administrative_group_name,
        cast(regular_education_form as varchar) as education_form,
        cast(grade as integer) as grade,
        cast(study_year as integer) as study_year,
        cast(school_number as varchar) as school_number,
        cast(school_name as varchar) as school_name,
        cast(seat_address as varchar) as school_address,
        -- the school register holds no telephone numbers
        cast(null as varchar) as school_phone,
        cast(enrolment_status as varchar) as enrolment_status
    from secondary_enrolments

)

select * from final
