-- naft_evaluation, BINC file 2: the young people with an individual NAFT trajectory, one row per
-- young person (dom nummer) and school-year file 2020-21 to 2024-25, with the profile BINC
-- registered at the start of their first individual trajectory of that year. Birth year only.
-- The school situation is BINC's own record, taken "op het moment dat de leerlingen zich
-- inschrijven voor een NAFT-traject" (art. 3); never Discimus ("DOV en Opgroeien krijgen
-- elkaars variabelen niet te zien", art. 6).

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
        cast(education_form as varchar) as education_form,
        cast(finality as varchar) as finality,
        cast(learning_path as varchar) as learning_pathway,
        cast(network as varchar) as school_network,
        cast(umbrella_organisation as varchar) as school_umbrella,
        cast(school_number as varchar) as institution_number,
        cast(clb_reference as varchar) as reference_clb
    from first_trajectory_profiles
    where {{ in_delivery_period('school_year') }}

)

select * from final
