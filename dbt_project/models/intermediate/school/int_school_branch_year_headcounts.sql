{#-
    Pupils enrolled in each school branch on the first school day of February (main enrolment,
    docs: counting_dates) and the numerator and denominator of the school OKI figure
    (docs: school_oki). For a pupil enrolled that day, the year's main enrolment in
    int_pupil_years is the main enrolment on that day (docs: main_enrolment).
-#}
with

february_enrolments as (

    select
        pupil_key,
        school_year,
        feb_first_school_day_school_number as school_number,
        feb_first_school_day_branch_number as branch_number
    from {{ ref('int_pupil_years') }}
    where feb_first_school_day_enrolled

),

oki as (

    select * from {{ ref('int_pupil_year_oki') }}

),

final as (

    select
        february_enrolments.school_number,
        february_enrolments.branch_number,
        february_enrolments.school_year,
        count(*) as enrolled_pupils,
        count(oki.oki_score) as oki_known_pupils,
        cast(coalesce(sum(oki.oki_score), 0) as bigint) as oki_score_sum
    from february_enrolments
    left join oki
        on
            february_enrolments.pupil_key = oki.pupil_key
            and february_enrolments.school_year = oki.school_year
    group by
        february_enrolments.school_number,
        february_enrolments.branch_number,
        february_enrolments.school_year

)

select * from final
where {{ in_school_year_window() }}
