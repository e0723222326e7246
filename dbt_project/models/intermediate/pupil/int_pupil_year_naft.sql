{#-
    Pupils who are the individual beneficiary of a NAFT trajectory active in a school year
    (docs: naft_participation). A trajectory is active in every school year its
    [start_date, end_date] period overlaps; an open trajectory runs on.
-#}
with

beneficiaries as (

    select * from {{ ref('stg_binc_naft_beneficiaries') }}

),

trajectories as (

    select * from {{ ref('stg_binc_naft_trajectories') }}

),

school_years as (

    select distinct school_year
    from {{ ref('counting_dates') }}

),

-- a trajectory can be delivered in several school-year files: keep its latest version
latest_trajectories as (

    select
        trajectory_id,
        trajectory_type,
        trajectory_form,
        start_date,
        end_date
    from trajectories
    qualify row_number() over (
        partition by trajectory_id order by file_school_year desc, loaded_at desc, source_row desc
    ) = 1

),

beneficiary_trajectories as (

    select distinct
        beneficiaries.pupil_key,
        latest_trajectories.trajectory_id,
        latest_trajectories.trajectory_type,
        latest_trajectories.start_date,
        latest_trajectories.end_date
    from beneficiaries
    inner join latest_trajectories
        on beneficiaries.trajectory_id = latest_trajectories.trajectory_id

),

school_year_bounds as (

    select
        school_year,
        make_date(cast(substr(school_year, 1, 4) as integer), 9, 1) as first_day,
        make_date(cast(substr(school_year, 1, 4) as integer) + 1, 8, 31) as last_day
    from school_years

),

active_in_year as (

    select
        beneficiary_trajectories.pupil_key,
        school_year_bounds.school_year,
        beneficiary_trajectories.trajectory_id,
        beneficiary_trajectories.trajectory_type
    from beneficiary_trajectories
    inner join school_year_bounds
        on
            beneficiary_trajectories.start_date <= school_year_bounds.last_day
            and coalesce(beneficiary_trajectories.end_date, date '9999-12-31')
            >= school_year_bounds.first_day

),

final as (

    select
        pupil_key,
        school_year,
        count(distinct trajectory_id) as naft_trajectory_count,
        bool_or(trajectory_type = 'PREVENTIEF') as has_preventive_naft_trajectory,
        bool_or(trajectory_type = 'HERINTREDING') as has_reentry_naft_trajectory
    from active_in_year
    group by pupil_key, school_year

)

select * from final
where {{ in_school_year_window() }}
