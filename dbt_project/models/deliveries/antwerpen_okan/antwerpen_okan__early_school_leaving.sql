-- antwerpen_okan, file 11c: for everyone in 11a, one row per unique person code at the moment
-- the pupil enters the early-school-leaving (VSV) indicator: J for early school leavers, with the
-- school year they entered it; N for the others, with the school year of their last known
-- situation (qualification, else the last secondary or last known enrolment). The branch of the
-- last known enrolment only when it lies in Antwerp.

with

leaving as (

    select * from {{ ref('okan_newcomer_leaving') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast({{ pseudonym('antwerpen_okan', 'pupil_key') }} as varchar) as person_code,
        cast(situation_school_year as varchar) as school_year,
        cast(early_school_leaver as varchar) as early_school_leaver,
        cast(nationality as varchar) as nationality,
        cast(oki_score as integer) as oki,
        cast(has_low_educated_mother as integer) as mother_education_flag,
        cast(last_antwerp_school_number as varchar) as institution_number,
        cast(last_antwerp_branch_number as integer) as branch_number,
        cast(last_main_structure_code as varchar) as main_structure,
        cast(last_administrative_group as integer) as administrative_group
    from leaving
    where {{ in_delivery_period('first_okan_school_year') }}

)

select * from final
