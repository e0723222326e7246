{#-
    One row per young person (pupil_key) with an individual NAFT trajectory per BINC school-year
    file: the profile BINC registered at the start of the person's first individual trajectory of
    that year (earliest start, then lowest trajectory id, then the latest load), with the school
    situation BINC registered "op het moment dat de leerlingen zich inschrijven voor een
    NAFT-traject" (naft_evaluation art. 3). BINC data only: naft_evaluation keeps the DOV and
    Opgroeien files separate ("DOV en Opgroeien krijgen elkaars variabelen niet te zien", art. 6).
-#}
with

beneficiaries as (

    select * from {{ ref('stg_binc_naft_beneficiaries') }}

),

trajectories as (

    select * from {{ ref('stg_binc_naft_trajectories') }}

),

individual_trajectories as (

    select
        trajectory_id,
        school_year,
        start_date
    from trajectories
    where trajectory_form = 'INDIVIDUEEL'
    qualify row_number() over (
        partition by trajectory_id, school_year order by loaded_at desc, source_row
    ) = 1

),

-- the profile at the start of the first individual trajectory of the school year
final as (

    select
        beneficiaries.pupil_key,
        beneficiaries.school_year,
        beneficiaries.trajectory_id,
        individual_trajectories.start_date as trajectory_start_date,
        beneficiaries.gender,
        beneficiaries.birth_date,
        beneficiaries.home_language,
        beneficiaries.nationality,
        beneficiaries.residence_nis_code,
        beneficiaries.family_situation,
        beneficiaries.education_form,
        beneficiaries.finality,
        beneficiaries.learning_path,
        beneficiaries.network,
        beneficiaries.umbrella_organisation,
        beneficiaries.school_number,
        beneficiaries.clb_reference
    from beneficiaries
    inner join individual_trajectories
        on
            beneficiaries.trajectory_id = individual_trajectories.trajectory_id
            and beneficiaries.school_year = individual_trajectories.school_year
    qualify row_number() over (
        partition by beneficiaries.pupil_key, beneficiaries.school_year
        order by individual_trajectories.start_date, beneficiaries.trajectory_id,
            beneficiaries.loaded_at desc
    ) = 1

)

select * from final
