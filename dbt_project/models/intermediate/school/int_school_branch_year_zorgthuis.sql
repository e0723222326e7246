{#-
    Pupils with a zorgthuis per school branch and zorgthuis counting date, and their weighted
    count for funding: coefficient 1.5 instead of 1 (docs: zorgthuis_weighted_count). A pupil
    counts for the branch of the main enrolment on that counting date; a listed pupil not enrolled
    that day is not attributed to any school.
-#}
with

zorgthuis as (

    select * from {{ ref('int_pupil_zorgthuis') }}

),

final as (

    select
        school_number,
        branch_number,
        school_year,
        counting_date_name,
        counting_date,
        count(*) as zorgthuis_pupils,
        count(*) filter (where has_non_voluntary_mfc_care) as zorgthuis_non_voluntary_mfc_pupils,
        cast(1.5 * count(*) as decimal(18, 1)) as zorgthuis_weighted_count
    from zorgthuis
    where school_number is not null
    group by school_number, branch_number, school_year, counting_date_name, counting_date

)

select * from final
where {{ in_school_year_window() }}
