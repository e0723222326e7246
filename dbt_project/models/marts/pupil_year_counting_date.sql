{{ config(materialized='view') }}
{#-
    The long companion of pupil_year: where a pupil was enrolled on each pupil counting date
    (docs: counting_dates, main_enrolment). Only dates on which the pupil was enrolled have a row.
    A view, unlike the other marts: at full scale it has ~85 million rows that would be stored
    again on every build, while consumers (deliveries) read a filtered part of it.
-#}
with

counting_date_enrolments as (

    select * from {{ ref('int_pupil_counting_date_enrolments') }}

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
        enrolment_start_date,
        enrolment_end_date,
        n_enrolments_on_date
    from counting_date_enrolments

)

select * from final
