{#-
    Early school leaving in the Antwerp newcomer population (okan_newcomer): one row per pupil
    with the school year of the pupil's situation (the school year the pupil entered the
    early-school-leaving indicator, else of the qualification, else of the last secondary or last
    known enrolment), J/N early school leaver, the school year the pupil left secondary education
    (early or qualified; null while not left), and the last known enrolment with its branch only
    when it lies in Antwerp. first_okan_school_year is the population's period.
-#}
with

leaving as (

    select * from {{ ref('okan_early_school_leaving') }}

),

newcomers as (

    select * from {{ ref('okan_newcomer') }}

),

final as (

    select
        leaving.pupil_key,
        newcomers.school_year as first_okan_school_year,
        coalesce(
            leaving.school_year,
            leaving.qualification_school_year,
            leaving.last_secondary_school_year,
            leaving.last_enrolment_school_year
        ) as situation_school_year,
        leaving.is_early_school_leaver,
        case when leaving.is_early_school_leaver then 'J' else 'N' end as early_school_leaver,
        leaving.is_early_school_leaver or leaving.qualification_school_year is not null
            as has_left_secondary_education,
        case
            when leaving.is_early_school_leaver then leaving.school_year
            else leaving.qualification_school_year
        end as left_school_year,
        leaving.nationality,
        leaving.oki_score,
        leaving.has_low_educated_mother,
        leaving.last_school_number,
        leaving.last_branch_in_antwerp,
        case when leaving.last_branch_in_antwerp then 'J' else 'N' end
            as last_enrolment_in_antwerp,
        -- the branch of the last known enrolment only when it lies in the city of Antwerp
        case when leaving.last_branch_in_antwerp then leaving.last_school_number end
            as last_antwerp_school_number,
        case when leaving.last_branch_in_antwerp then leaving.last_branch_number end
            as last_antwerp_branch_number,
        leaving.last_main_structure_code,
        leaving.last_administrative_group
    from leaving
    inner join newcomers
        on leaving.pupil_key = newcomers.pupil_key

)

select * from final
