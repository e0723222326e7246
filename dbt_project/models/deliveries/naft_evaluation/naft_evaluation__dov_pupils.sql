-- naft_evaluation, DOV file 4: every pupil from the 6th year of primary to the 7th year of
-- secondary education in a Flemish school, one row per pupil (dom nummer) and school year
-- 2017-18 to 2024-25, with profile, OKI, school situation, progress and absenteeism. Discimus and
-- LED data only (never BINC). Birth year only. The dom nummer is stable over the school years
-- and the same as in the BINC files: the only link between DOV's and Opgroeien's files.

with

pupil_years as (

    select * from {{ ref('pupil_year') }}

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
        {{ in_delivery_period('school_year') }}
        and (
            (education_level = 'lager' and study_year = 6)
            or education_level = 'secundair'
        )

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast(school_year as varchar) as school_year,
        cast({{ pseudonym('naft_evaluation', 'pupil_key') }} as varchar) as dom_number,
        cast(school_number as varchar) as institution_number,
        cast({{ delivery_gender('gender') }} as varchar) as gender,
        -- the protocol allows the birth year, never the birth date
        cast(birth_year as integer) as birth_year,
        cast(nationality as varchar) as nationality,
        cast(residence_nis_code as varchar) as residence_municipality_nis_code,
        cast(oki_score as integer) as oki_indicator,
        cast(has_non_dutch_home_language as boolean) as home_language_not_dutch,
        cast(has_low_educated_mother as boolean) as mother_low_education,
        cast(lives_in_high_delay_neighbourhood as boolean) as neighbourhood_indicator,
        cast(received_school_allowance as boolean) as school_allowance,
        -- no source of the warehouse holds a migration status ("indien beschikbaar")
        cast(null as varchar) as migration_status,
        cast(education_form as varchar) as education_form,
        cast(finality as varchar) as finality,
        cast(learning_path as varchar) as learning_pathway,
        cast(study_direction as varchar) as study_direction,
        cast(case when education_level = 'secundair' then grade end as integer) as grade,
        -- passed: an A or B attest, or a secondary qualification obtained this year
        cast(
            case
                when attest_code is not null or obtained_secondary_qualification
                    then attest_code in ('A', 'B') or coalesce(obtained_secondary_qualification,
                        false)
            end as boolean
        ) as passed,
        cast(repeated_year as boolean) as repeated_year,
        cast(highest_certificate_name as varchar) as qualification_obtained,
        -- reoriented: another onderwijsvorm, finaliteit or study direction than last year, both
        -- years in secondary education
        cast(
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
            end as boolean
        ) as reoriented,
        cast(is_early_school_leaver as boolean) as early_school_leaver,
        -- changed school during the year, or is in another school the next year
        cast(
            coalesce(changed_school_during_year, false)
            or coalesce(
                next_school_year_start = school_year_start_year + 1
                and next_school_number is distinct from school_number,
                false
            ) as boolean
        ) as changed_school,
        cast(absent_half_days as integer) as absent_half_days,
        cast(unjustified_absent_half_days as integer) as unjustified_absent_half_days,
        cast(long_absence_count as integer) as long_absence_count,
        cast(long_absence_days as integer) as long_absence_days
    from target_population

)

select * from final
