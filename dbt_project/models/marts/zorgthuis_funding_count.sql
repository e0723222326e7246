{#-
    One row per school, branch (vestigingsplaats), zorgthuis counting date and list kind: the
    number of listed pupils whose enrolment on that date is in that branch. A listed pupil not
    enrolled anywhere on the date is not attributed to a school. The input of the staffing and
    operating-funds computation (zorgthuis__funding_counts weights it with the registry's
    coefficient).
-#}
with

listed_pupils as (

    select * from {{ ref('zorgthuis_listed_pupil') }}

),

-- listed pupils with an enrolment (school and branch) on the counting date
attributed as (

    select *
    from listed_pupils
    where school_number is not null and branch_number is not null

),

final as (

    select
        school_year,
        counting_date_name,
        counting_date,
        list_kind,
        school_number,
        branch_number,
        count(distinct pupil_key) as pupils_with_care_home
    from attributed
    group by all

)

select * from final
