{#-
    Early school leaving in the Antwerp newcomer population (okan_newcomer): one row per pupil
    with J/N early school leaver, whether the pupil entered the early-school-leaving (vsv)
    indicator and in which school year, and the last known enrolment with its branch only when it
    lies in Antwerp. A pupil enters the indicator when leaving a qualifying track of secondary
    education, early (school_leaving_status early_school_leaver: J) or with a qualification
    (qualified_leaver: N); a pupil still at school, or who left from OKAN or outside the
    indicator's scope, has not entered it. first_okan_school_year is the population's period.
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
        leaving.school_leaving_status,
        leaving.school_leaving_status = 'early_school_leaver' as is_early_school_leaver,
        case when leaving.school_leaving_status = 'early_school_leaver' then 'J' else 'N' end
            as early_school_leaver,
        coalesce(leaving.school_leaving_status in ('early_school_leaver', 'qualified_leaver'), false)
            as has_left_secondary_education,
        -- the moment the pupil enters the indicator: the school year of leaving (the last known
        -- enrolment's; for an early school leaver the year pupil_year marks)
        case
            when leaving.school_leaving_status = 'early_school_leaver'
                then coalesce(leaving.school_year, leaving.last_enrolment_school_year)
            when leaving.school_leaving_status = 'qualified_leaver'
                then leaving.last_enrolment_school_year
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
