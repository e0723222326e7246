-- naft_evaluation, DOV file 4: every pupil from the 6th year of primary to the 7th year of
-- secondary education in a Flemish school, one row per pupil (dom nummer) and school year
-- 2017-18 to 2024-25, with profile, OKI, school situation, progress and absenteeism. Discimus and
-- LED data only (never BINC). Birth year only. The dom nummer is stable over the school years
-- and the same as in the BINC files: the only link between DOV's and Opgroeien's files.
-- control_group marks the control group DOV delimits (art. 6 step 2: "DOV bakent een
-- controlegroep af binnen de lijst van NAFT-leerlingen"), from Opgroeien's key list only
-- (naft_dov_pupil_year.is_control_group; docs block `naft_control_group`).

with

pupil_years as (

    select * from {{ ref('naft_dov_pupil_year') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast(school_year as varchar) as school_year,
        cast({{ pseudonym('naft_evaluation', 'pupil_key') }} as varchar) as dom_number,
        cast(is_control_group as boolean) as control_group,
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
        cast(secondary_grade as integer) as grade,
        cast(passed as boolean) as passed,
        cast(repeated_year as boolean) as repeated_year,
        cast(highest_certificate_name as varchar) as qualification_obtained,
        cast(reoriented as boolean) as reoriented,
        cast(is_early_school_leaver as boolean) as early_school_leaver,
        cast(changed_school as boolean) as changed_school,
        cast(absent_half_days as integer) as absent_half_days,
        cast(unjustified_absent_half_days as integer) as unjustified_absent_half_days,
        cast(long_absence_count as integer) as long_absence_count,
        cast(long_absence_days as integer) as long_absence_days
    from pupil_years
    where {{ in_delivery_period('school_year') }}

)

select * from final
