-- zorgthuis, funding counts: per school, branch (vestigingsplaats), counting date and list kind,
-- the number of listed pupils whose enrolment on that date is in that branch, once per purpose
-- of art. 2 (operating budgets, unweighted, with the decree article; teaching periods and the
-- integrated support offer, weighted with the coefficient the text gives, 1.5 instead of 1).
-- Purposes, articles and coefficients come from the registry (seed count_purposes). Exact
-- counts (internal funding input, never published); voluntary MFC care is never counted.

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
        cast(funding_purpose as varchar) as funding_purpose,
        cast(legal_reference as varchar) as legal_reference,
        cast(pupils_with_care_home as integer) as pupils_with_care_home,
        cast(coefficient as decimal) as coefficient,
        cast(pupils_with_care_home * coefficient as decimal) as weighted_pupils_with_care_home
    from counts
    where {{ in_delivery_period('school_year') }}

)

select * from final
