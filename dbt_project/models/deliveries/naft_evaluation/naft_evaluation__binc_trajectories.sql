-- naft_evaluation, BINC file 1: the NAFT trajectories (individual and collective) of each
-- school-year file 2020-21 to 2024-25, as Opgroeien registers them in BINC. Only an individual
-- trajectory carries a pupil: its dom nummer. BINC data only (never Discimus): the protocol keeps
-- the DOV and Opgroeien files separate, linkable only through the dom nummer.
-- From naft_binc_trajectory_year, not naft_track: the protocol asks one row per trajectory per
-- school-year file, naft_track keeps only the latest file's row of each trajectory.

with

trajectory_years as (

    select * from {{ ref('naft_binc_trajectory_year') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast(school_year as varchar) as school_year,
        cast(trajectory_id as varchar) as trajectory_id,
        cast({{ pseudonym('naft_evaluation', 'pupil_key') }} as varchar) as dom_number,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        cast(outcome as varchar) as result,
        cast(trajectory_type as varchar) as trajectory_type,
        cast(trajectory_form as varchar) as trajectory_form,
        cast(target_group as varchar) as target_group,
        cast(goals as varchar) as goals,
        cast(reasons as varchar) as participation_reasons,
        cast(session_count as integer) as session_count,
        cast(total_duration_hours as integer) as total_duration_hours,
        cast(frequency as varchar) as frequency,
        cast(participation as varchar) as participation,
        cast(provider_id as varchar) as provider_id
    from trajectory_years
    where {{ in_delivery_period('school_year') }}

)

select * from final
