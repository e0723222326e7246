-- antwerpen_okan, microdata of the school portraits: one row per pupil of the population enrolled
-- on 1 February in a branch in the city of Antwerp, per school year, with the school and the
-- pupil's attest (A, B, C, or NONE). Never delivered: orchestration.disclosure publishes each
-- school's own figures from it (small counts suppressed).

with

february_enrolments as (

    select * from {{ ref('okan_newcomer_february_enrolment') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast(school_year as varchar) as school_year,
        cast(school_number as varchar) as institution_number,
        cast(attest as varchar) as attest
    from february_enrolments
    where
        {{ in_delivery_period('first_okan_school_year') }}
        and {{ in_delivery_period('school_year') }}

)

select * from final
