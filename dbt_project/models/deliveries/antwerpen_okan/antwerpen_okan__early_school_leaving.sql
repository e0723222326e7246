-- antwerpen_okan, file 11c: for everyone in 11a, one row per unique person code at the moment
-- the pupil enters the early-school-leaving (VSV) indicator: J for early school leavers, with the
-- school year they entered it; N for the others, with the school year of their last known
-- situation (qualification, else the last secondary or last known enrolment). The branch of the
-- last known enrolment only when it lies in Antwerp.

with

leaving as (

    select * from {{ ref('okan_early_school_leaving') }}

),

first_enrolments as (

    select * from {{ ref('okan_first_enrolment') }}

),

population as (

    select pupil_key
    from first_enrolments
    where in_antwerpen_okan_population and {{ in_delivery_period('school_year') }}

),

final as (

    select
        cast(leaving.pupil_key as varchar) as pupil_key,
        cast({{ pseudonym('antwerpen_okan', 'leaving.pupil_key') }} as varchar) as person_code,
        cast(
            coalesce(
                leaving.school_year,
                leaving.qualification_school_year,
                leaving.last_secondary_school_year,
                leaving.last_enrolment_school_year
            ) as varchar
        ) as school_year,
        cast(case when leaving.is_early_school_leaver then 'J' else 'N' end as varchar)
            as early_school_leaver,
        cast(leaving.nationality as varchar) as nationality,
        cast(leaving.oki_score as integer) as oki,
        cast(leaving.has_low_educated_mother as integer) as mother_education_flag,
        -- the branch of the last known enrolment only when it lies in the city of Antwerp
        cast(case when leaving.last_branch_in_antwerp then leaving.last_school_number end
            as varchar) as institution_number,
        cast(case when leaving.last_branch_in_antwerp then leaving.last_branch_number end
            as integer) as branch_number,
        cast(leaving.last_main_structure_code as varchar) as main_structure,
        cast(leaving.last_administrative_group as integer) as administrative_group
    from leaving
    inner join population
        on leaving.pupil_key = population.pupil_key

)

select * from final
