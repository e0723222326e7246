{#-
    One row per pupil ever enrolled in secondary education: the last secondary enrolment with its
    school (name, the address of the enrolment's branch and of the school's seat) and the date of
    the pupil's registered secondary-education diploma, if any. What the request answers of
    vtc_2015_29 and vtc_2015_35 give as a person's last known secondary education.
-#}
with

last_enrolments as (

    select * from {{ ref('int_pupil_last_secondary_enrolments') }}

),

certificates as (

    select * from {{ ref('int_pupil_certificates') }}

),

schools as (

    select * from {{ ref('school_year') }}

),

branch_addresses as (

    select * from {{ ref('int_school_branch_addresses') }}

),

-- the latest registered diploma of secondary education
diplomas as (

    select
        pupil_key,
        max(issue_date) as diploma_date
    from certificates
    where is_registered and certificate_type = 'Diploma' and category = 'Secundair onderwijs'
    group by pupil_key

),

final as (

    select
        enrolment.pupil_key,
        enrolment.enrolment_id,
        enrolment.school_year,
        enrolment.start_date,
        enrolment.end_date,
        case when enrolment.end_date is null then 'INGESCHREVEN' else 'UITGESCHREVEN' end
            as enrolment_status,
        enrolment.deregistration_reason_code,
        enrolment.school_number,
        schools.school_name,
        enrolment.branch_number,
        location.address as branch_address,
        -- the seat: the address of the school's main branch in the register
        seat.address as seat_address,
        enrolment.main_structure_code,
        enrolment.administrative_group,
        -- no code list of administratieve groepen: its programme as the description
        concat_ws(' - ', enrolment.study_direction, enrolment.main_structure_code)
            as administrative_group_name,
        enrolment.education_form,
        -- the onderwijsvorm of full-time regular secondary education (ASO, BSO, TSO, KSO)
        case
            when enrolment.education_form in ('ASO', 'BSO', 'TSO', 'KSO')
                then enrolment.education_form
        end as regular_education_form,
        enrolment.grade,
        enrolment.study_year,
        diplomas.diploma_date
    from last_enrolments as enrolment
    left join diplomas
        on enrolment.pupil_key = diplomas.pupil_key
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

)

select * from final
