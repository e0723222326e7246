-- zorgthuis, funding counts: per school, branch (vestigingsplaats), counting date and list kind,
-- the number of listed pupils whose enrolment on that date is in that branch, and that number
-- weighted with the funding coefficient (1.5 instead of 1, read from the registry): the input of
-- the staffing and operating-funds computation. Exact counts (internal funding input, never
-- published). The list holds only pupils meeting the indicator: voluntary MFC care is excluded
-- at the source; a listed pupil not enrolled anywhere on the date is not attributed to a school.

with

verification_list as (

    select * from {{ ref('zorgthuis__verification_list') }}

),

-- listed pupils with an enrolment (school and branch) on the counting date
attributed as (

    select *
    from verification_list
    where institution_number is not null and branch_number is not null

),

counted as (

    select
        school_year,
        counting_date_name,
        counting_date,
        list_kind,
        institution_number,
        branch_number,
        count(distinct pupil_key) as pupils_with_care_home
    from attributed
    group by all

),

final as (

    select
        cast(school_year as varchar) as school_year,
        cast(counting_date_name as varchar) as counting_date_name,
        cast(counting_date as date) as counting_date,
        cast(list_kind as varchar) as list_kind,
        cast(institution_number as varchar) as institution_number,
        cast(branch_number as integer) as branch_number,
        cast(pupils_with_care_home as integer) as pupils_with_care_home,
        cast(
            pupils_with_care_home * {{ registry_coefficient('weighted_pupils_with_care_home') }}
            as decimal
        ) as weighted_pupils_with_care_home
    from counted

)

select * from final
