-- The control group of the NAFT evaluation (protocol naft_evaluation: "DOV defines a control
-- group of pupils of the target population without NAFT"): one row per pupil and school year
-- for every pupil of the target population (6th year of primary to 7th year of secondary,
-- school years 2020-21 to 2024-25) who never was a named NAFT beneficiary, with the same school
-- situation as naft_beneficiary_school_situation; see the docs block `naft_control_group`.

with

pupil_year as (

    select * from {{ ref('pupil_year') }}

),

beneficiaries as (

    select * from {{ ref('naft_track_beneficiary') }}

),

naft_pupils as (

    select distinct pupil_key from beneficiaries

),

target_population as (

    select *
    from pupil_year
    where
        school_year between '2020-21' and '2024-25'
        and programme is distinct from 'dko'
        and (
            (education_level = 'lager' and study_year = 6)
            or (education_level = 'secundair' and study_year between 1 and 7)
        )

),

-- per pupil: the school year of early school leaving and of the first secondary qualification
outcomes as (

    select
        pupil_key,
        min(school_year) filter (where is_early_school_leaver)
            as early_school_leaving_school_year,
        min(school_year) filter (where obtained_secondary_qualification)
            as qualification_school_year
    from pupil_year
    group by pupil_key

),

final as (

    select
        target_population.pupil_key,
        target_population.school_year,
        target_population.birth_year,
        target_population.gender,
        target_population.school_number,
        target_population.branch_number,
        target_population.main_structure_code,
        target_population.education_level,
        target_population.education_type,
        target_population.education_form,
        target_population.finality,
        target_population.learning_path,
        target_population.study_year,
        target_population.grade,
        target_population.attest_code,
        target_population.attest_restriction,
        target_population.repeated_year,
        target_population.school_delay_years,
        target_population.is_early_school_leaver,
        coalesce(
            outcomes.early_school_leaving_school_year <= target_population.school_year, false
        ) as has_left_school_early,
        target_population.obtained_secondary_qualification,
        coalesce(
            outcomes.qualification_school_year <= target_population.school_year, false
        ) as has_secondary_qualification
    from target_population
    left join outcomes
        on target_population.pupil_key = outcomes.pupil_key
    -- never a NAFT beneficiary (anti-join)
    left join naft_pupils
        on target_population.pupil_key = naft_pupils.pupil_key
    where naft_pupils.pupil_key is null

)

select * from final
