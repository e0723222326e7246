{#-
    One row per NAFT trajectory (individual and collective) per BINC school-year file, as
    Opgroeien registers it (a file delivered again: the latest load wins), with the young person
    of an individual trajectory. Per file, unlike naft_track (which keeps each trajectory's latest
    file only): naft_evaluation's BINC file 1 asks one row per trajectory per school-year file.
-#}
with

trajectories as (

    select * from {{ ref('stg_binc_naft_trajectories') }}

),

beneficiaries as (

    select * from {{ ref('stg_binc_naft_beneficiaries') }}

),

-- one row per trajectory and school-year file (a file delivered again: the latest load wins)
trajectory_years as (

    select *
    from trajectories
    qualify row_number() over (
        partition by trajectory_id, school_year order by loaded_at desc, source_row
    ) = 1

),

-- the pupil of an individual trajectory (one per trajectory; the lowest key should BINC ever
-- register two, so the choice is deterministic)
individual_pupils as (

    select
        beneficiaries.trajectory_id,
        beneficiaries.school_year,
        min(beneficiaries.pupil_key) as pupil_key
    from beneficiaries
    inner join trajectory_years
        on
            beneficiaries.trajectory_id = trajectory_years.trajectory_id
            and beneficiaries.school_year = trajectory_years.school_year
    where trajectory_years.trajectory_form = 'INDIVIDUEEL'
    group by beneficiaries.trajectory_id, beneficiaries.school_year

),

final as (

    select
        trajectory_years.school_year,
        trajectory_years.trajectory_id,
        individual_pupils.pupil_key,
        trajectory_years.start_date,
        trajectory_years.end_date,
        trajectory_years.outcome,
        trajectory_years.trajectory_type,
        trajectory_years.trajectory_form,
        trajectory_years.target_group,
        trajectory_years.goals,
        trajectory_years.reasons,
        trajectory_years.session_count,
        trajectory_years.total_duration_hours,
        trajectory_years.frequency,
        trajectory_years.participation,
        trajectory_years.provider_id
    from trajectory_years
    left join individual_pupils
        on
            trajectory_years.trajectory_id = individual_pupils.trajectory_id
            and trajectory_years.school_year = individual_pupils.school_year

)

select * from final
