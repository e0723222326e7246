-- naft_evaluation, BINC file 1: the NAFT trajectories (individual and collective) of each
-- school-year file 2020-21 to 2024-25, as Opgroeien registers them in BINC. Only an individual
-- trajectory carries a pupil: its dom nummer. BINC data only (never Discimus): the protocol keeps
-- the DOV and Opgroeien files separate, linkable only through the dom nummer.
-- Read from staging, not the naft_track mart: the protocol asks one row per trajectory per
-- school-year file, the mart keeps only the latest file's row of each trajectory.

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
    where {{ in_delivery_period('school_year') }}
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
        cast(individual_pupils.pupil_key as varchar) as pupil_key,
        cast(trajectory_years.school_year as varchar) as school_year,
        cast(trajectory_years.trajectory_id as varchar) as trajectory_id,
        cast({{ pseudonym('naft_evaluation', 'individual_pupils.pupil_key') }} as varchar)
            as dom_number,
        cast(trajectory_years.start_date as date) as start_date,
        cast(trajectory_years.end_date as date) as end_date,
        cast(trajectory_years.outcome as varchar) as result,
        cast(trajectory_years.trajectory_type as varchar) as trajectory_type,
        cast(trajectory_years.trajectory_form as varchar) as trajectory_form,
        cast(trajectory_years.target_group as varchar) as target_group,
        cast(trajectory_years.goals as varchar) as goals,
        cast(trajectory_years.reasons as varchar) as participation_reasons,
        cast(trajectory_years.session_count as integer) as session_count,
        cast(trajectory_years.total_duration_hours as integer) as total_duration_hours,
        cast(trajectory_years.frequency as varchar) as frequency,
        cast(trajectory_years.participation as varchar) as participation,
        cast(trajectory_years.provider_id as varchar) as provider_id
    from trajectory_years
    left join individual_pupils
        on
            trajectory_years.trajectory_id = individual_pupils.trajectory_id
            and trajectory_years.school_year = individual_pupils.school_year

)

select * from final
