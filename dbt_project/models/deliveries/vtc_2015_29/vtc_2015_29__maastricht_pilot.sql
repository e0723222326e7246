-- vtc_2015_29, Maastricht University pilot: the answer set the delivery writer draws from when a
-- request file arrives. Keyed by pupil_key (the INSZ never enters dbt): per person, the last
-- known secondary enrolment (school year, administratieve groep, onderwijsvorm, graad, leerjaar,
-- school with its address, status) and the date of the secondary-education diploma, if any. The
-- writer keeps the requested persons and swaps pupil_key for the request line's own reference:
-- the answer never carries the INSZ.

with

enrolments as (

    select * from {{ ref('stg_discimus_enrolments') }}

),

certificates as (

    select * from {{ ref('int_pupil_certificates') }}

),

schools as (

    select * from {{ ref('school_year') }}

),

branches as (

    select * from {{ ref('stg_school_register_branches') }}

),

last_secondary_enrolments as (

    select *
    from enrolments
    where education_level = 'secundair'
    qualify row_number() over (
        partition by pupil_key
        order by school_year desc, start_date desc, coalesce(end_date, date '9999-12-31') desc,
            enrolment_id desc
    ) = 1

),

diplomas as (

    select
        pupil_key,
        max(issue_date) as diploma_date
    from certificates
    where is_registered and certificate_type = 'Diploma' and category = 'Secundair onderwijs'
    group by pupil_key

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

final as (

    select
        cast(enrolment.pupil_key as varchar) as pupil_key,
        cast(enrolment.school_year as varchar) as school_year,
        cast(diplomas.diploma_date as date) as diploma_date,
        cast(enrolment.administrative_group as integer) as administrative_group,
        -- no code list of administratieve groepen: its programme as the description
        cast(concat_ws(' - ', enrolment.study_direction, enrolment.main_structure_code)
            as varchar) as administrative_group_name,
        cast(
            case when enrolment.education_form in ('ASO', 'BSO', 'TSO', 'KSO')
                then enrolment.education_form end as varchar
        ) as education_form,
        cast(enrolment.grade as integer) as grade,
        cast(enrolment.study_year as integer) as study_year,
        cast(enrolment.school_number as varchar) as school_number,
        cast(schools.school_name as varchar) as school_name,
        cast(seat.address as varchar) as school_address,
        -- the school register holds no telephone numbers
        cast(null as varchar) as school_phone,
        cast(
            case
                when enrolment.end_date is null then 'INGESCHREVEN'
                else 'UITGESCHREVEN'
            end as varchar
        ) as enrolment_status
    from last_secondary_enrolments as enrolment
    left join diplomas
        on enrolment.pupil_key = diplomas.pupil_key
    left join schools
        on
            enrolment.school_number = schools.school_number
            and enrolment.school_year = schools.school_year
    left join branch_addresses as seat
        on
            enrolment.school_number = seat.school_number
            and schools.main_branch_number = seat.branch_number
            and enrolment.school_year = seat.school_year

)

select * from final
