{#-
    The absence measures of Discimus absence records (one per pupil, school and school year),
    summed: the one definition behind the pupil totals (int_pupil_year_absences, over the year's
    schools) and the school totals (int_school_year_absences, over the school's pupils), so both
    levels add up the same columns the same way (docs: absence_rate). Use inside a group by.
-#}
{% macro absence_totals() -%}
    cast(sum(expected_half_days) as bigint) as expected_half_days,
    cast(sum(absent_half_days) as bigint) as absent_half_days,
    cast(sum(problematic_absent_half_days) as bigint) as unjustified_absent_half_days,
    cast(sum(long_absence_count) as bigint) as long_absence_count,
    cast(sum(long_absence_days) as bigint) as long_absence_days
{%- endmacro %}
