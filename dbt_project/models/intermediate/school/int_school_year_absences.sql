{#- Absence half days per school and school year, summed over pupils (docs: absence_rate). -#}
with

absences as (

    select * from {{ ref('stg_discimus_absences') }}

),

final as (

    select
        school_number,
        school_year,
        count(distinct pupil_key) as pupils_with_absence_record,
        cast(sum(expected_half_days) as bigint) as expected_half_days,
        cast(sum(absent_half_days) as bigint) as absent_half_days,
        cast(sum(problematic_absent_half_days) as bigint) as problematic_absent_half_days
    from absences
    group by school_number, school_year

)

select * from final
