{{ config(materialized='view') }}
{#-
    The main enrolment of every pupil on each pupil counting date on which the pupil is enrolled
    (docs: counting_dates, main_enrolment): a pupil's only enrolment of the school year wherever
    it runs, or the ranked choice of int_pupil_counting_date_ranked_enrolments for pupils with
    several.

    A view, on purpose: at full scale this is ~85 million rows (1.2 million pupils x 11 years x 7
    dates), each carrying a 64-character pupil key; stored, it would cost minutes and gigabytes
    on every build while no model of the warehouse needs all of it (the per-date columns of
    pupil_year come from int_pupil_years). Queries that filter it by pupil or school year read
    only what they need.
-#}
with

-- not materialized: read several times below; materialising it would hold every row with all
-- its columns in memory (the table is simply scanned again instead)
enrolments as not materialized (

    select * from {{ ref('int_pupil_enrolments') }}

),

ranked as (

    select * from {{ ref('int_pupil_counting_date_ranked_enrolments') }}

),

counting_dates as (

    select
        school_year,
        counting_date_name,
        cast(counting_date as date) as counting_date
    from {{ ref('counting_dates') }}
    where counting_date_name in ({{ pupil_counting_date_names() }})

),

-- the only enrolment of the school year: main wherever it runs (both ends inclusive)
single_enrolments_on_date as (

    select
        counting_dates.counting_date_name,
        counting_dates.counting_date,
        enrolments.*,
        cast(1 as bigint) as n_enrolments_on_date
    from enrolments
    inner join counting_dates
        on enrolments.school_year = counting_dates.school_year
    where
        enrolments.n_enrolments_in_year = 1
        and enrolments.start_date <= counting_dates.counting_date
        and enrolments.open_end_date >= counting_dates.counting_date

),

ranked_enrolments_on_date as (

    select
        ranked.counting_date_name,
        ranked.counting_date,
        enrolments.*,
        ranked.n_enrolments_on_date
    from ranked
    inner join enrolments
        on
            ranked.enrolment_id = enrolments.enrolment_id
            and ranked.school_year = enrolments.school_year

),

main_on_date as (

    select * from single_enrolments_on_date
    union all by name
    select * from ranked_enrolments_on_date

),

final as (

    select
        pupil_key,
        school_year,
        counting_date_name,
        counting_date,
        enrolment_id,
        school_number,
        branch_number,
        {{ pupil_enrolment_placement_columns() }},
        start_date as enrolment_start_date,
        end_date as enrolment_end_date,
        n_enrolments_on_date
    from main_on_date

)

select * from final
