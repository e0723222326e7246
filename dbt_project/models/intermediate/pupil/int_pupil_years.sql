{#-
    One row per pupil per school year with at least one enrolment: the year's main enrolment
    (docs: main_enrolment), the pupil's characteristics from it, whether and where the pupil was
    enrolled on each counting date, and year-wide aggregates.

    Two paths with the same rules: a pupil with a single enrolment in the year (most pupils) is
    read straight from that enrolment, compared with the year's counting dates side by side; a
    pupil with several enrolments is grouped and ranked, and takes the per-date columns from
    int_pupil_counting_date_ranked_enrolments. The grouping is the expensive part, so only the
    few pupils who need it pay for it.
-#}
{%- set counting_dates = pupil_counting_dates() -%}
{%- set main_enrolment_columns = [
    'school_year_start', 'birth_date', 'gender', 'nationality', 'residence_nis_code',
    'residence_postcode', 'school_number', 'branch_number', 'main_structure_code',
    'education_level', 'education_type', 'programme', 'administrative_group', 'study_year',
    'grade', 'education_form', 'finality', 'learning_path', 'study_direction',
    'special_education_type', 'training_form',
] -%}
with

-- not materialized: read several times below; materialising it would hold every row with all
-- its columns in memory (the table is simply scanned again instead)
enrolments as not materialized (

    select * from {{ ref('int_pupil_enrolments') }}

),

ranked_counting_date_enrolments as (

    select * from {{ ref('int_pupil_counting_date_ranked_enrolments') }}

),

-- the seven counting dates of each school year side by side
school_year_dates as (

    select
        school_year,
        {%- for prefix, name in counting_dates %}
        max(cast(counting_date as date)) filter (where counting_date_name = '{{ name }}')
            as {{ prefix }}_date
        {{- "," if not loop.last }}
        {%- endfor %}
    from {{ ref('counting_dates') }}
    group by school_year

),

-- ---------------------------------------------------------------- one enrolment in the year
single_enrolment_years as (

    select
        enrolments.*,
        {%- for prefix, name in counting_dates %}
        coalesce(
            enrolments.start_date <= school_year_dates.{{ prefix }}_date
            and enrolments.open_end_date >= school_year_dates.{{ prefix }}_date,
            false
        ) as {{ prefix }}_enrolled
        {{- "," if not loop.last }}
        {%- endfor %}
    from enrolments
    left join school_year_dates
        on enrolments.school_year = school_year_dates.school_year
    where enrolments.n_enrolments_in_year = 1

),

single_enrolment_pupil_years as (

    select
        pupil_key,
        school_year,
        enrolment_id as main_enrolment_id,
        {%- for column in main_enrolment_columns %}
        {{ column }},
        {%- endfor %}
        {%- for prefix, name in counting_dates %}
        {{ prefix }}_enrolled,
        case when {{ prefix }}_enrolled then school_number end as {{ prefix }}_school_number,
        case when {{ prefix }}_enrolled then branch_number end as {{ prefix }}_branch_number,
        {%- endfor %}
        cast(1 as bigint) as n_enrolments,
        cast(1 as bigint) as n_schools,
        start_date as first_start_date,
        open_end_date as last_open_end_date,
        coalesce(is_newcomer, false) as is_newcomer,
        coalesce(was_newcomer, false) as was_newcomer,
        coalesce(education_form = 'OKAN', false) as has_okan_enrolment
    from single_enrolment_years

),

-- ---------------------------------------------------------------- several enrolments in the year
multiple_enrolments as (

    select
        enrolments.pupil_key,
        enrolments.school_year,
        enrolments.enrolment_id,
        enrolments.school_number,
        enrolments.education_form,
        enrolments.is_newcomer,
        enrolments.was_newcomer,
        enrolments.start_date,
        enrolments.open_end_date,
        coalesce(
            enrolments.start_date <= school_year_dates.feb_first_school_day_date
            and enrolments.open_end_date >= school_year_dates.feb_first_school_day_date,
            false
        ) as covers_february_date
    from enrolments
    left join school_year_dates
        on enrolments.school_year = school_year_dates.school_year
    where enrolments.n_enrolments_in_year > 1

),

-- the same ordering as on a counting date, with "runs on the first school day of February"
-- in front: when the pupil is enrolled on that date, the year's main enrolment is the main
-- enrolment on that date; otherwise it is the latest-starting enrolment of the year
multiple_enrolment_years as (

    select
        pupil_key,
        school_year,
        arg_max(
            enrolment_id,
            struct_pack(covers_february_date, start_date, open_end_date, enrolment_id)
        ) as main_enrolment_id,
        count(*) as n_enrolments,
        count(distinct school_number) as n_schools,
        min(start_date) as first_start_date,
        max(open_end_date) as last_open_end_date,
        bool_or(coalesce(is_newcomer, false)) as is_newcomer,
        bool_or(coalesce(was_newcomer, false)) as was_newcomer,
        bool_or(coalesce(education_form = 'OKAN', false)) as has_okan_enrolment
    from multiple_enrolments
    group by pupil_key, school_year

),

ranked_enrolments_on_date as (

    select
        ranked_counting_date_enrolments.pupil_key,
        ranked_counting_date_enrolments.school_year,
        ranked_counting_date_enrolments.counting_date_name,
        enrolments.school_number,
        enrolments.branch_number
    from ranked_counting_date_enrolments
    inner join enrolments
        on
            ranked_counting_date_enrolments.enrolment_id = enrolments.enrolment_id
            and ranked_counting_date_enrolments.school_year = enrolments.school_year

),

multiple_enrolment_dates as (

    select
        pupil_key,
        school_year,
        {%- for prefix, name in counting_dates %}
        bool_or(counting_date_name = '{{ name }}') as {{ prefix }}_enrolled,
        max(school_number) filter (where counting_date_name = '{{ name }}') as {{ prefix }}_school_number,
        max(branch_number) filter (where counting_date_name = '{{ name }}') as {{ prefix }}_branch_number
        {{- "," if not loop.last }}
        {%- endfor %}
    from ranked_enrolments_on_date
    group by pupil_key, school_year

),

multiple_enrolment_pupil_years as (

    select
        multiple_enrolment_years.pupil_key,
        multiple_enrolment_years.school_year,
        multiple_enrolment_years.main_enrolment_id,
        {%- for column in main_enrolment_columns %}
        main_enrolment.{{ column }},
        {%- endfor %}
        {%- for prefix, name in counting_dates %}
        coalesce(multiple_enrolment_dates.{{ prefix }}_enrolled, false) as {{ prefix }}_enrolled,
        multiple_enrolment_dates.{{ prefix }}_school_number,
        multiple_enrolment_dates.{{ prefix }}_branch_number,
        {%- endfor %}
        multiple_enrolment_years.n_enrolments,
        multiple_enrolment_years.n_schools,
        multiple_enrolment_years.first_start_date,
        multiple_enrolment_years.last_open_end_date,
        multiple_enrolment_years.is_newcomer,
        multiple_enrolment_years.was_newcomer,
        multiple_enrolment_years.has_okan_enrolment
    from multiple_enrolment_years
    inner join enrolments as main_enrolment
        on
            multiple_enrolment_years.main_enrolment_id = main_enrolment.enrolment_id
            and multiple_enrolment_years.school_year = main_enrolment.school_year
    left join multiple_enrolment_dates
        on
            multiple_enrolment_years.pupil_key = multiple_enrolment_dates.pupil_key
            and multiple_enrolment_years.school_year = multiple_enrolment_dates.school_year

),

-- ---------------------------------------------------------------- both together
pupil_years as (

    select * from single_enrolment_pupil_years
    union all by name
    select * from multiple_enrolment_pupil_years

),

final as (

    select
        pupil_years.pupil_key,
        pupil_years.school_year,
        pupil_years.school_year_start,

        -- pupil, as on the main enrolment
        pupil_years.birth_date,
        year(pupil_years.birth_date) as birth_year,
        pupil_years.gender,
        pupil_years.nationality,
        pupil_years.residence_nis_code,
        pupil_years.residence_postcode,

        -- main enrolment of the year
        case
            when pupil_years.feb_first_school_day_enrolled then 'first_school_day_of_february'
            else 'latest_start_in_year'
        end as main_enrolment_basis,
        pupil_years.main_enrolment_id,
        pupil_years.school_number,
        pupil_years.branch_number,
        pupil_years.main_structure_code,
        pupil_years.education_level,
        pupil_years.education_type,
        pupil_years.programme,
        pupil_years.administrative_group,
        pupil_years.study_year,
        pupil_years.grade,
        pupil_years.education_form,
        pupil_years.finality,
        pupil_years.learning_path,
        pupil_years.study_direction,
        pupil_years.special_education_type,
        pupil_years.training_form,

        -- whether and where on each counting date
        {%- for prefix, name in counting_dates %}
        pupil_years.{{ prefix }}_enrolled,
        pupil_years.{{ prefix }}_school_number,
        pupil_years.{{ prefix }}_branch_number,
        {%- endfor %}
        -- the school on the official counting date, under a short name (null when not enrolled)
        pupil_years.feb_first_school_day_school_number as february_school_number,
        pupil_years.feb_first_school_day_branch_number as february_branch_number,

        -- the year as a whole
        pupil_years.n_enrolments,
        pupil_years.n_schools,
        pupil_years.first_start_date,
        nullif(pupil_years.last_open_end_date, date '9999-12-31') as last_end_date,
        pupil_years.last_open_end_date = date '9999-12-31' as has_open_enrolment,
        pupil_years.is_newcomer,
        pupil_years.was_newcomer,
        pupil_years.has_okan_enrolment
    from pupil_years

)

select * from final
where {{ in_school_year_window() }}
