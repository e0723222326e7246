{#-
    One row per pupil per school year from the 6th year of primary to the 7th year of secondary
    education (naft_evaluation's DOV target population), with the pupil_year profile and three
    judgements over the pupil's timeline: passed the year, reoriented since last year and changed
    school during or after the year; and whether the pupil belongs to the control group DOV
    delimits (art. 6 step 2, docs block `naft_control_group`). DOV data and Opgroeien's key list
    only (naft_key_list: who is a NAFT pupil, no BINC variable).
-#}
with

pupil_years as (

    select * from {{ ref('pupil_year') }}

),

key_list as (

    select * from {{ ref('naft_key_list') }}

),

-- the year before and after, for reorientation and a change of school after the year
neighbours as (

    select
        *,
        lag(school_year) over pupil_timeline as previous_school_year,
        lag(education_level) over pupil_timeline as previous_education_level,
        lag(education_form) over pupil_timeline as previous_education_form,
        lag(finality) over pupil_timeline as previous_finality,
        lag(study_direction) over pupil_timeline as previous_study_direction,
        lead(school_year_start_year) over pupil_timeline as next_school_year_start,
        lead(school_number) over pupil_timeline as next_school_number
    from (
        select
            *,
            cast(substr(school_year, 1, 4) as integer) as school_year_start_year
        from pupil_years
    )
    window pupil_timeline as (partition by pupil_key order by school_year)

),

-- the target population: 6th year of primary education up to the 7th year of secondary
target_population as (

    select *
    from neighbours
    where
        (education_level = 'lager' and study_year = 6)
        or education_level = 'secundair'

),

-- control group: in the target population in a school year of the BINC files (2020-21 to
-- 2024-25) and not on Opgroeien's key list of NAFT pupils
control_group as (

    select target_population.pupil_key
    from target_population
    left join key_list
        on target_population.pupil_key = key_list.pupil_key
    where
        target_population.school_year between '2020-21' and '2024-25'
        and key_list.pupil_key is null
    group by target_population.pupil_key

),

final as (

    select
        target_population.pupil_key,
        school_year,
        school_number,
        gender,
        birth_year,
        nationality,
        residence_nis_code,
        oki_score,
        has_non_dutch_home_language,
        has_low_educated_mother,
        lives_in_high_delay_neighbourhood,
        received_school_allowance,
        education_level,
        study_year,
        education_form,
        finality,
        learning_path,
        study_direction,
        case when education_level = 'secundair' then grade end as secondary_grade,
        -- passed: an A or B attest, or a secondary qualification obtained this year
        case
            when attest_code is not null or obtained_secondary_qualification
                then attest_code in ('A', 'B') or coalesce(obtained_secondary_qualification,
                    false)
        end as passed,
        repeated_year,
        highest_certificate_name,
        -- reoriented: another onderwijsvorm, finaliteit or study direction than last year, both
        -- years in secondary education
        case
            when
                education_level = 'secundair'
                and previous_education_level = 'secundair'
                and cast(substr(previous_school_year, 1, 4) as integer)
                = school_year_start_year - 1
                then
                    education_form is distinct from previous_education_form
                    or finality is distinct from previous_finality
                    or study_direction is distinct from previous_study_direction
        end as reoriented,
        is_early_school_leaver,
        -- changed school during the year, or is in another school the next year
        coalesce(changed_school_during_year, false)
        or coalesce(
            next_school_year_start = school_year_start_year + 1
            and next_school_number is distinct from school_number,
            false
        ) as changed_school,
        absent_half_days,
        unjustified_absent_half_days,
        long_absence_count,
        long_absence_days,
        control_group.pupil_key is not null as is_control_group
    from target_population
    left join control_group
        on target_population.pupil_key = control_group.pupil_key

)

select * from final
