{#-
    The control group of naft_evaluation, art. 6 step 2: "DOV bakent een controlegroep af binnen
    de lijst van NAFT-leerlingen". One row per pupil of the group with the school years 2020-21 to
    2024-25 in which the pupil is in the target population; the rule is naft_dov_pupil_year's
    is_control_group (docs block `naft_control_group`). DOV data and the key list only.
-#}
with

pupil_years as (

    select * from {{ ref('naft_dov_pupil_year') }}

),

final as (

    select
        pupil_key,
        min(school_year) filter (where school_year between '2020-21' and '2024-25')
            as first_school_year,
        max(school_year) filter (where school_year between '2020-21' and '2024-25')
            as last_school_year
    from pupil_years
    where is_control_group
    group by pupil_key

)

select * from final
