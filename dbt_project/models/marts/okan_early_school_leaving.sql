-- Early school leaving of every pupil with an (OK)AN enrolment (protocol antwerpen_okan, file
-- 11c): the school year in which the pupil enters the early-school-leaving indicator, if ever
-- (the pupil_year definition), with the profile of that year and the pupil's last known
-- enrolment.

with

okan_pupils as (

    select * from {{ ref('okan_first_enrolment') }}

),

enrolments as (

    select * from {{ ref('int_tracks__enrolments') }}

),

pupil_year as (

    select * from {{ ref('pupil_year') }}

),

okan_pupil_years as (

    select *
    from pupil_year
    where pupil_key in (select okan_pupils.pupil_key from okan_pupils)

),

-- the school year of early school leaving, and the pupil's school-leaving status (the same on
-- every row of a pupil in pupil_year)
leaving as (

    select
        pupil_key,
        min(school_year) filter (where is_early_school_leaver) as early_school_leaving_school_year,
        min(school_year) filter (where obtained_secondary_qualification)
            as qualification_school_year,
        max(school_year) filter (where education_level = 'secundair')
            as last_secondary_school_year,
        any_value(school_leaving_status) as school_leaving_status
    from okan_pupil_years
    group by pupil_key

),

-- the OKI profile in the school year of early school leaving, else in the last school year
-- with OKI characteristics
profile as (

    select
        okan_pupil_years.pupil_key,
        okan_pupil_years.has_low_educated_mother,
        okan_pupil_years.oki_score
    from okan_pupil_years
    left join leaving
        on okan_pupil_years.pupil_key = leaving.pupil_key
    where
        okan_pupil_years.oki_score is not null
        and okan_pupil_years.school_year
        <= coalesce(leaving.early_school_leaving_school_year, '9999')
    qualify row_number() over (
        partition by okan_pupil_years.pupil_key order by okan_pupil_years.school_year desc
    ) = 1

),

-- the last known enrolment: latest school year, then the latest (or open) end, then the
-- latest start (the pupil marts' order)
last_enrolments as (

    select *
    from enrolments
    where pupil_key in (select okan_pupils.pupil_key from okan_pupils)
    qualify row_number() over (
        partition by pupil_key
        order by
            school_year_start desc,
            coalesce(end_date, date '9999-12-31') desc,
            start_date desc,
            enrolment_id desc
    ) = 1

),

final as (

    select
        okan_pupils.pupil_key,
        leaving.early_school_leaving_school_year as school_year,
        leaving.early_school_leaving_school_year is not null as is_early_school_leaver,
        leaving.school_leaving_status,
        leaving.last_secondary_school_year,
        leaving.qualification_school_year,
        coalesce(last_enrolments.nationality, okan_pupils.nationality) as nationality,
        profile.has_low_educated_mother,
        profile.oki_score,
        last_enrolments.school_year as last_enrolment_school_year,
        last_enrolments.school_number as last_school_number,
        last_enrolments.branch_number as last_branch_number,
        last_enrolments.branch_nis_code as last_branch_nis_code,
        coalesce(last_enrolments.branch_in_antwerp, false) as last_branch_in_antwerp,
        last_enrolments.main_structure_code as last_main_structure_code,
        last_enrolments.administrative_group as last_administrative_group
    from okan_pupils
    left join leaving
        on okan_pupils.pupil_key = leaving.pupil_key
    left join profile
        on okan_pupils.pupil_key = profile.pupil_key
    left join last_enrolments
        on okan_pupils.pupil_key = last_enrolments.pupil_key

)

select * from final
