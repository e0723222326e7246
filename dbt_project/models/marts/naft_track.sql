-- NAFT trajectories (individual, collective and mixed) as BINC registers them (protocol
-- naft_evaluation, file 1), one row per trajectory with its kind, content, intensity and
-- duration.

with

trajectories as (

    select * from {{ ref('stg_binc_naft_trajectories') }}

),

-- a trajectory delivered in more than one school-year file: the latest file describes it
latest_trajectories as (

    select
        *,
        min(school_year) over (partition by trajectory_id) as first_file_school_year,
        count(*) over (partition by trajectory_id) as file_count
    from trajectories
    qualify row_number() over (
        partition by trajectory_id order by school_year desc, loaded_at desc
    ) = 1

),

final as (

    select
        trajectory_id,
        school_year,
        first_file_school_year,
        provider_id,

        -- kind of trajectory
        trajectory_type as trajectory_type_code,
        case trajectory_type
            when 'PREVENTIEF' then 'preventive'
            when 'HERINTREDING' then 're_entry'
        end as trajectory_type,
        trajectory_form as trajectory_form_code,
        case trajectory_form
            when 'INDIVIDUEEL' then 'individual'
            when 'COLLECTIEF' then 'collective'
            when 'GEMENGD' then 'mixed'
        end as trajectory_form,
        target_group,
        school_number,

        -- dates
        start_date,
        end_date,
        end_date is null as is_running,
        date_diff('day', start_date, end_date) as duration_days,

        -- result and content (lists split from BINC's |-separated text)
        outcome,
        case
            when nullif(trim(goals), '') is not null
                then list_transform(string_split(goals, '|'), lambda goal: trim(goal))
        end as goals,
        case
            when nullif(trim(reasons), '') is not null
                then list_transform(string_split(reasons, '|'), lambda reason: trim(reason))
        end as reasons,

        -- intensity
        session_count,
        total_duration_hours,
        frequency,
        participation,

        -- provenance of the row kept
        file_count,
        source_file,
        source_row
    from latest_trajectories

)

select * from final
