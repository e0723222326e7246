{#-
    The Antwerp newcomers at the moment they enter the early-school-leaving (vsv) indicator
    (antwerpen_okan 11c: "op moment van opname in indicator vsv"): one row per pupil of
    okan_newcomer_leaving who left a qualifying track of secondary education, early (J) or with a
    qualification (N), in the school year of leaving, with the profile and the last known
    enrolment (its branch only when it lies in Antwerp). A pupil who has not left has no row.
    File 11c and the microdata of the public monitor table read it.
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
        is_early_school_leaver,
        early_school_leaver,
        nationality,
        oki_score,
        has_low_educated_mother,
        last_enrolment_in_antwerp,
        last_school_number,
        last_antwerp_school_number,
        last_antwerp_branch_number,
        last_main_structure_code,
        last_administrative_group
    from leaving
    where has_left_secondary_education

)

select * from final
