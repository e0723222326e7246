{#-
    Pupils with a zorgthuis on each zorgthuis counting date (docs: zorgthuis): the definitive
    list when one exists for that counting date, else the provisional one; with the school and
    branch of the pupil's main enrolment on that date, to attribute the pupil to a school.
    The zorgthuis dates are pupil counting dates too (first school day of October, 15 January,
    first school day of February, 15 May): the school on that date is read from the matching
    per-date columns of int_pupil_years, matched by date, not by name.
-#}
{%- set counting_dates = pupil_counting_dates() -%}
with

lists as (

    select * from {{ ref('stg_zorgthuis_lists') }}

),

seed_dates as (

    select
        school_year,
        counting_date_name,
        cast(counting_date as date) as counting_date
    from {{ ref('counting_dates') }}

),

pupil_years as (

    select * from {{ ref('int_pupil_years') }}

),

zorgthuis_dates as (

    select * from seed_dates where counting_date_name like 'zorgthuis_%'

),

-- the seven pupil counting dates of each school year side by side
school_year_dates as (

    select
        school_year,
        {%- for prefix, name in counting_dates %}
        max(counting_date) filter (where counting_date_name = '{{ name }}') as {{ prefix }}_date
        {{- "," if not loop.last }}
        {%- endfor %}
    from seed_dates
    group by school_year

),

-- per counting date: the definitive list wins over the provisional one as a whole (a pupil only
-- on the provisional list was taken off by the definitive one)
list_used as (

    select
        counting_date,
        case
            when bool_or(list_kind = 'DEFINITIEF') then 'DEFINITIEF'
            else 'VOORLOPIG'
        end as list_kind
    from lists
    group by counting_date

),

pupils_on_list_used as (

    select
        lists.pupil_key,
        lists.counting_date,
        lists.list_kind,
        lists.school_year as file_school_year,
        lists.has_non_voluntary_mfc_care
    from lists
    inner join list_used
        on
            lists.counting_date = list_used.counting_date
            and lists.list_kind = list_used.list_kind
    -- voluntary care in an MFC is no care home: "moeten uitgesloten worden van de berekeningen"
    where not coalesce(lists.is_voluntary_mfc_care, false)

),

with_school_year as (

    select
        pupils_on_list_used.*,
        zorgthuis_dates.counting_date_name,
        coalesce(zorgthuis_dates.school_year, pupils_on_list_used.file_school_year) as school_year
    from pupils_on_list_used
    left join zorgthuis_dates
        on pupils_on_list_used.counting_date = zorgthuis_dates.counting_date

),

final as (

    select
        with_school_year.pupil_key,
        with_school_year.school_year,
        with_school_year.counting_date_name,
        with_school_year.counting_date,
        with_school_year.list_kind,
        with_school_year.has_non_voluntary_mfc_care,
        case
            {%- for prefix, name in counting_dates %}
            when with_school_year.counting_date = school_year_dates.{{ prefix }}_date
                then pupil_years.{{ prefix }}_school_number
            {%- endfor %}
        end as school_number,
        case
            {%- for prefix, name in counting_dates %}
            when with_school_year.counting_date = school_year_dates.{{ prefix }}_date
                then pupil_years.{{ prefix }}_branch_number
            {%- endfor %}
        end as branch_number,
        -- false when the list's date is none of the pupil counting dates: then no school
        coalesce(
            with_school_year.counting_date in (
                {%- for prefix, name in counting_dates %}
                school_year_dates.{{ prefix }}_date{{ "," if not loop.last }}
                {%- endfor %}
            ),
            false
        ) as is_pupil_counting_date
    from with_school_year
    left join school_year_dates
        on with_school_year.school_year = school_year_dates.school_year
    left join pupil_years
        on
            with_school_year.pupil_key = pupil_years.pupil_key
            and with_school_year.school_year = pupil_years.school_year

)

select * from final
where {{ in_school_year_window() }}
