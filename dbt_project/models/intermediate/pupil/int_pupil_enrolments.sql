{#-
    The Discimus enrolments, typed once and stored: every pupil model reads enrolments several
    times, and the staging view re-parses the raw text (dates, codes) on every read. Adds the
    integer start year of the school year and the end date with "open" as 9999-12-31, the key
    parts used to rank enrolments (docs: main_enrolment).
-#}
with

enrolments as (

    select * from {{ ref('stg_discimus_enrolments') }}

),

final as (

    select
        pupil_key,
        enrolment_id,
        school_year,
        cast(substr(school_year, 1, 4) as integer) as school_year_start,
        birth_date,
        gender,
        nationality,
        residence_nis_code,
        residence_postcode,
        school_number,
        branch_number,
        {{ pupil_enrolment_placement_columns() }},
        start_date,
        end_date,
        coalesce(end_date, date '9999-12-31') as open_end_date,
        count(*) over (partition by pupil_key, school_year) as n_enrolments_in_year
    from enrolments

)

select * from final
where {{ in_school_year_window() }}
