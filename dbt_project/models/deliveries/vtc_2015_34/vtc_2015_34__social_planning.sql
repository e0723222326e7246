-- vtc_2015_34, provincial support centres for social planning: every pupil enrolled in nursery,
-- primary or secondary education, one row per pupil and school year, under a key (sleutel) that
-- is valid within that school year only: each school year has its own HMAC key, so records of
-- different years cannot be linked. The statistical sector of residence is CEVI's answer to the
-- writer's hand-off (an address file keyed only by the school-year key), filled at delivery
-- time: it is not a column of this model (orchestration/deliveries/hand_off.py).

with

pupil_years as (

    select * from {{ ref('school_pupil_year') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast({{ pseudonym('vtc_2015_34', 'pupil_key', school_year='school_year') }} as varchar)
            as school_year_key,
        cast(school_year as varchar) as school_year,
        cast(education_level_code as varchar) as education_level
    from pupil_years
    where {{ in_delivery_period('school_year') }}

)

select * from final
