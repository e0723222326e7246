-- zorgthuis, funding counts: per school, counting date and list kind, the number of listed pupils
-- whose enrolment on that date is in the school: the input of the staffing and operating-funds
-- computation. Exact counts (internal funding input, never published). The list holds only
-- pupils meeting the indicator: voluntary MFC care is excluded at the source; a listed pupil not
-- enrolled anywhere on the date is not attributed to a school.

with

verification_list as (

    select * from {{ ref('zorgthuis__verification_list') }}

),

final as (

    select
        cast(school_year as varchar) as school_year,
        cast(counting_date_name as varchar) as counting_date_name,
        cast(counting_date as date) as counting_date,
        cast(list_kind as varchar) as list_kind,
        cast(institution_number as varchar) as institution_number,
        cast(count(distinct pupil_key) as integer) as pupils_with_care_home
    from verification_list
    where institution_number is not null
    group by all

)

select * from final
