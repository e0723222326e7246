-- zorgthuis, funding counts: per school, branch (vestigingsplaats), counting date and list kind,
-- the number of listed pupils whose enrolment on that date is in that branch, and that number
-- weighted with the funding coefficient (1.5 instead of 1, read from the registry): the input of
-- the staffing and operating-funds computation. Exact counts (internal funding input, never
-- published). The list holds only pupils meeting the indicator: voluntary MFC care is excluded
-- at the source; a listed pupil not enrolled anywhere on the date is not attributed to a school.

with

counts as (

    select * from {{ ref('zorgthuis_funding_count') }}

),

final as (

    select
        cast(school_year as varchar) as school_year,
        cast(counting_date_name as varchar) as counting_date_name,
        cast(counting_date as date) as counting_date,
        cast(list_kind as varchar) as list_kind,
        cast(school_number as varchar) as institution_number,
        cast(branch_number as integer) as branch_number,
        cast(pupils_with_care_home as integer) as pupils_with_care_home,
        cast(
            pupils_with_care_home * {{ registry_coefficient('weighted_pupils_with_care_home') }}
            as decimal
        ) as weighted_pupils_with_care_home
    from counts
    where {{ in_delivery_period('school_year') }}

)

select * from final
