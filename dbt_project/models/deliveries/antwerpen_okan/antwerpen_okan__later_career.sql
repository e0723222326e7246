-- antwerpen_okan, file 11b: the later school career of everyone in 11a, up to the current school
-- year: one row per unique person code, school year, branch and administratieve groep of an
-- enrolment in place on 1 October, 1 February or 30 June, with a J/N flag per date. The branch
-- only when it lies in Antwerp; certificate and cluster of orientation attests (A/B/C) of the
-- school year. Birth year, gender, home language and study year are not listed for 11b.

with

career as (

    select * from {{ ref('okan_newcomer_career_enrolment') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast({{ pseudonym('antwerpen_okan', 'pupil_key') }} as varchar) as person_code,
        cast(school_year as varchar) as school_year,
        cast(nationality as varchar) as nationality,
        cast(has_low_educated_mother as integer) as mother_education_flag,
        cast(received_school_allowance as integer) as school_allowance_flag,
        cast(oki_score as integer) as oki,
        cast(antwerp_school_number as varchar) as institution_number,
        cast(antwerp_branch_number as integer) as branch_number,
        cast(main_structure_code as varchar) as main_structure,
        cast(administrative_group as integer) as administrative_group,
        cast(enrolled_on_february_1 as varchar) as enrolled_on_february_1,
        cast(enrolled_on_october_1 as varchar) as enrolled_on_october_1,
        cast(enrolled_on_june_30 as varchar) as enrolled_on_june_30,
        cast(certificate_type as varchar) as certificate,
        cast(orientation_attest_cluster as varchar) as orientation_attest_cluster
    from career
    where
        {{ in_delivery_period('first_okan_school_year') }}
        and {{ in_delivery_period('school_year') }}

)

select * from final
