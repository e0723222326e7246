-- naft_evaluation, BINC file 2: the young people with an individual NAFT trajectory, one row per
-- young person (dom nummer) and school-year file 2020-21 to 2024-25, with the profile BINC
-- registered at the start of their first individual trajectory of that year. Birth year only.
-- The school-situation columns stay empty: the BINC extract holds only the reference CLB, and
-- they must never be filled from Discimus (DOV and Opgroeien files stay separate).

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
first_trajectory_profiles as (

    select
        beneficiaries.*,
        individual_trajectories.start_date as trajectory_start_date
    from beneficiaries
    inner join individual_trajectories
        on
            beneficiaries.trajectory_id = individual_trajectories.trajectory_id
            and beneficiaries.school_year = individual_trajectories.school_year
    where {{ in_delivery_period('beneficiaries.school_year') }}
    qualify row_number() over (
        partition by beneficiaries.pupil_key, beneficiaries.school_year
        order by individual_trajectories.start_date, beneficiaries.trajectory_id,
            beneficiaries.loaded_at desc
    ) = 1

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast(school_year as varchar) as school_year,
        cast({{ pseudonym('naft_evaluation', 'pupil_key') }} as varchar) as dom_number,
        cast({{ delivery_gender('gender') }} as varchar) as gender,
        -- the protocol allows the birth year, never the birth date
        cast(year(birth_date) as integer) as birth_year,
        cast(home_language as varchar) as home_language,
        cast(nationality as varchar) as nationality,
        cast(residence_nis_code as varchar) as residence_municipality_nis_code,
        cast(family_situation as varchar) as family_situation,
        cast(null as varchar) as education_form,
        cast(null as varchar) as finality,
        cast(null as varchar) as learning_pathway,
        cast(null as varchar) as school_network,
        cast(null as varchar) as school_umbrella,
        cast(null as varchar) as institution_number,
        cast(clb_reference as varchar) as reference_clb
    from first_trajectory_profiles

)

select * from final
