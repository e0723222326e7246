{#-
    Pupils who left a qualifying track of secondary education, per school branch of their last
    enrolment and the school year they left (docs: dropout_rate): early school leavers and
    qualified leavers.
-#}
with

leaving as (

    select * from {{ ref('int_pupil_school_leaving') }}

),

final as (

    select
        last_school_number as school_number,
        last_branch_number as branch_number,
        leaving_school_year as school_year,
        count(*) filter (where school_leaving_status = 'early_school_leaver') as early_school_leavers,
        count(*) filter (where school_leaving_status = 'qualified_leaver') as qualified_leavers
    from leaving
    where school_leaving_status in ('early_school_leaver', 'qualified_leaver')
    group by last_school_number, last_branch_number, leaving_school_year

)

select * from final
where {{ in_school_year_window() }}
