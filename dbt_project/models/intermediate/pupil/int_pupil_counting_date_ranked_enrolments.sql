{#-
    The main enrolment on each pupil counting date, for the pupils who need a choice: those with
    more than one enrolment in the school year (docs: main_enrolment). Enrolments meet only the
    counting dates of their own school year (equi-join on school_year), then the date range is
    filtered (both ends inclusive); the main one is picked with arg_max on a narrow row, not a
    window. Pupils with a single enrolment (most of them) need no ranking and are not here: see
    int_pupil_counting_date_enrolments for everyone.
-#}
with

enrolments as (

    select * from {{ ref('int_pupil_enrolments') }}
    where n_enrolments_in_year > 1

),

counting_dates as (

    select
        school_year,
        counting_date_name,
        cast(counting_date as date) as counting_date
    from {{ ref('counting_dates') }}
    where counting_date_name in ({{ pupil_counting_date_names() }})

),

-- several names can share a date (october_1 and the first school day of October often do):
-- rank each distinct date once
distinct_dates as (

    select distinct school_year, counting_date from counting_dates

),

-- main enrolment: latest start date; then the one running longest (open-ended first); then
-- the highest enrolment_id, so the choice is deterministic
ranked_on_date as (

    select
        enrolments.pupil_key,
        enrolments.school_year,
        distinct_dates.counting_date,
        count(*) as n_enrolments_on_date,
        arg_max(
            enrolments.enrolment_id,
            struct_pack(enrolments.start_date, enrolments.open_end_date, enrolments.enrolment_id)
        ) as enrolment_id
    from enrolments
    inner join distinct_dates
        on enrolments.school_year = distinct_dates.school_year
    where
        enrolments.start_date <= distinct_dates.counting_date
        and enrolments.open_end_date >= distinct_dates.counting_date
    group by enrolments.pupil_key, enrolments.school_year, distinct_dates.counting_date

),

final as (

    select
        ranked_on_date.pupil_key,
        ranked_on_date.school_year,
        counting_dates.counting_date_name,
        ranked_on_date.counting_date,
        ranked_on_date.enrolment_id,
        ranked_on_date.n_enrolments_on_date
    from ranked_on_date
    inner join counting_dates
        on
            ranked_on_date.school_year = counting_dates.school_year
            and ranked_on_date.counting_date = counting_dates.counting_date

)

select * from final
where {{ in_school_year_window() }}
