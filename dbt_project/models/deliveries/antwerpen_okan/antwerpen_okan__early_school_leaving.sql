-- antwerpen_okan, file 11c: one row per unique person code of 11a at the moment the pupil enters
-- the early-school-leaving (VSV) indicator ("op moment van opname in indicator vsv"), in the
-- school year of leaving: J for early school leavers, N for qualified leavers. A pupil who has
-- not left has no row. The branch of the last known enrolment only when it lies in Antwerp.

with

leaving as (

    select * from {{ ref('okan_newcomer_leaver') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast({{ pseudonym('antwerpen_okan', 'pupil_key') }} as varchar) as person_code,
        cast(left_school_year as varchar) as school_year,
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
