{#-
    Absence half days per school and school year, summed over pupils (docs: absence_rate). The
    measures are the macro absence_totals, shared with int_pupil_year_absences.
-#}
with

absences as (

    select * from {{ ref('stg_discimus_absences') }}

),

final as (

    select
        school_number,
        school_year,
        count(distinct pupil_key) as pupils_with_absence_record,
        {{ absence_totals() }}
    from absences
    group by school_number, school_year

)

select * from final
where {{ in_school_year_window() }}
