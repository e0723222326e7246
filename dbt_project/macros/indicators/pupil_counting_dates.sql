{#-
    The seven pupil counting dates (docs: counting_dates), as (column prefix, seed name) pairs in
    calendar order: the one list behind the wide per-date columns of int_pupil_years and
    pupil_year, the long form (int_pupil_counting_date_enrolments) and the tests that compare
    them. The dates themselves come from the seed counting_dates (orchestration/foundations/calendar.py).
-#}
{% macro pupil_counting_dates() -%}
    {{ return([
        ('oct_first_school_day', 'first_school_day_of_october'),
        ('oct1', 'october_1'),
        ('jan15', 'january_15'),
        ('feb1', 'february_1'),
        ('feb_first_school_day', 'first_school_day_of_february'),
        ('may15', 'may_15'),
        ('jun30', 'june_30'),
    ]) }}
{%- endmacro %}


{% macro pupil_counting_date_names() -%}
    {#- The seed names of the pupil counting dates, quoted and comma-separated for an `in` list. -#}
    {%- for prefix, name in pupil_counting_dates() -%}
        '{{ name }}'{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
