{#-
    Absences per pupil and school year (docs: absence_rate), summed over the schools the pupil
    attended that year (Discimus delivers them per school). The measures are the macro
    absence_totals, shared with int_school_year_absences.
-#}
with

absences as (

    select * from {{ ref('stg_discimus_absences') }}

),

final as (

    select
        pupil_key,
        school_year,
        {{ absence_totals() }}
    from absences
    group by pupil_key, school_year

)

select * from final
where {{ in_school_year_window() }}
