-- Fails when, for a school year and counting date, the long table pupil_year_counting_date has a
-- different number of rows than pupil_year has pupils enrolled on that date. For the data
-- steward: a pupil then has more than one main enrolment on a counting date (a row too many) or
-- the wide and long forms of the counting dates disagree; pupil counts per date would be wrong.
-- Counting per date (not a distinct count over pupil keys) keeps this cheap on the ~85 million
-- rows of the view; with the unique key of int_pupil_counting_date_ranked_enrolments (the only
-- source of pupils with several enrolments) it proves one main enrolment per pupil and date.
{%- set counting_dates = pupil_counting_dates() %}
with

long_rows as (

    select school_year, counting_date_name, count(*) as n_rows
    from {{ ref('pupil_year_counting_date') }}
    group by school_year, counting_date_name

),

wide_flags as (

    select
        school_year,
        {%- for prefix, name in counting_dates %}
        count(*) filter (where {{ prefix }}_enrolled) as {{ prefix }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from {{ ref('pupil_year') }}
    group by school_year

),

wide_rows as (

    {%- for prefix, name in counting_dates %}
    select school_year, '{{ name }}' as counting_date_name, {{ prefix }} as n_enrolled
    from wide_flags
    {{ "union all" if not loop.last }}
    {%- endfor %}

)

select
    coalesce(wide_rows.school_year, long_rows.school_year) as school_year,
    coalesce(wide_rows.counting_date_name, long_rows.counting_date_name) as counting_date_name,
    wide_rows.n_enrolled,
    long_rows.n_rows
from wide_rows
full outer join long_rows
    on
        wide_rows.school_year = long_rows.school_year
        and wide_rows.counting_date_name = long_rows.counting_date_name
where coalesce(wide_rows.n_enrolled, 0) <> coalesce(long_rows.n_rows, 0)
