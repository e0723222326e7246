-- vtc_2015_34, provincial support centres for social planning: every pupil enrolled in nursery,
-- primary or secondary education, one row per pupil and school year, under a key (sleutel) that
-- is valid within that school year only: each school year has its own HMAC key, so records of
-- different years cannot be linked. The statistical sector of residence is the result of CEVI's
-- geo-referencing of the address, outside the warehouse: it stays empty here until that
-- processor's result is loaded (the warehouse never sends addresses in this file).

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
        cast(education_level_code as varchar) as education_level,
        cast(null as varchar) as residence_statistical_sector
    from pupil_years
    where {{ in_delivery_period('school_year') }}

)

select * from final
