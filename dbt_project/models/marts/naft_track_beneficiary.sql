-- The young people of NAFT trajectories (protocol naft_evaluation, file 2): one row per
-- trajectory and pupil, with the pupil's characteristics as BINC registered them.

with

beneficiaries as (

    select * from {{ ref('stg_binc_naft_beneficiaries') }}

),

trajectories as (

    select * from {{ ref('naft_track') }}

),

-- a pair delivered in more than one school-year file: the latest file describes it
latest_beneficiaries as (

    select *
    from beneficiaries
    qualify row_number() over (
        partition by trajectory_id, pupil_key order by school_year desc, loaded_at desc
    ) = 1

),

final as (

    select
        latest_beneficiaries.trajectory_id,
        latest_beneficiaries.pupil_key,
        latest_beneficiaries.school_year,
        trajectories.trajectory_form,
        trajectories.start_date as trajectory_start_date,
        latest_beneficiaries.gender,
        -- the protocol allows the birth year, not the birth date
        year(latest_beneficiaries.birth_date) as birth_year,
        latest_beneficiaries.home_language,
        latest_beneficiaries.nationality,
        latest_beneficiaries.residence_nis_code,
        latest_beneficiaries.family_situation,
        latest_beneficiaries.clb_reference
    from latest_beneficiaries
    left join trajectories
        on latest_beneficiaries.trajectory_id = trajectories.trajectory_id

)

select * from final
