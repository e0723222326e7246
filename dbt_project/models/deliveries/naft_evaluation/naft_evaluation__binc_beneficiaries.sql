-- naft_evaluation, BINC file 2: the young people with an individual NAFT trajectory, one row per
-- young person (dom nummer) and school-year file 2020-21 to 2024-25, with the profile BINC
-- registered at the start of their first individual trajectory of that year. Birth year only.
-- The school-situation columns stay empty: the BINC extract holds only the reference CLB, and
-- they must never be filled from Discimus (DOV and Opgroeien files stay separate).

with

first_trajectory_profiles as (

    select * from {{ ref('naft_binc_beneficiary_year') }}

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
    where {{ in_delivery_period('school_year') }}

)

select * from final
