{#-
    The Antwerp newcomers who left secondary education: one row per pupil of okan_newcomer_leaving
    who left it early (the school year they entered the indicator) or with a qualification (the
    school year of their first secondary qualification), with whether their last known enrolment
    was in Antwerp and the school of that enrolment: the microdata of the public monitor table.
-#}
with

leaving as (

    select * from {{ ref('okan_newcomer_leaving') }}

),

final as (

    select
        pupil_key,
        first_okan_school_year,
        left_school_year,
        last_enrolment_in_antwerp,
        is_early_school_leaver,
        last_school_number
    from leaving
    where has_left_secondary_education

)

select * from final
