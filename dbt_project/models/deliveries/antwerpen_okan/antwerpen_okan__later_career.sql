-- antwerpen_okan, file 11b: the later school career of everyone in 11a, up to the current school
-- year: one row per unique person code, school year, branch and administratieve groep of an
-- enrolment in place on 1 October, 1 February or 30 June, with a J/N flag per date. The branch
-- only when it lies in Antwerp; certificate and cluster of orientation attests (A/B/C) of the
-- school year. Birth year, gender, home language and study year are not listed for 11b.

with

career as (

    select * from {{ ref('okan_career') }}

),

first_enrolments as (

    select * from {{ ref('okan_first_enrolment') }}

),

population as (

    select pupil_key
    from first_enrolments
    where in_antwerpen_okan_population and {{ in_delivery_period('school_year') }}

),

states as (

    select career.*
    from career
    inner join population
        on career.pupil_key = population.pupil_key
    where career.is_enrolled and {{ in_delivery_period('career.school_year') }}

),

-- one row per enrolment (school, branch, hoofdstructuur, administratieve groep) and school year
enrolments as (

    select
        pupil_key,
        school_year,
        school_number,
        branch_number,
        bool_or(branch_in_antwerp) as branch_in_antwerp,
        main_structure_code,
        administrative_group,
        -- the profile of the latest date in the year the enrolment was in place
        arg_max(nationality, counting_date) as nationality,
        arg_max(has_low_educated_mother, counting_date) as has_low_educated_mother,
        arg_max(received_school_allowance, counting_date) as received_school_allowance,
        arg_max(oki_score, counting_date) as oki_score,
        arg_max(certificate_type, counting_date) as certificate_type,
        arg_max(attest_code, counting_date) as attest_code,
        bool_or(counting_date_name = 'february_1') as on_february_1,
        bool_or(counting_date_name = 'october_1') as on_october_1,
        bool_or(counting_date_name = 'june_30') as on_june_30
    from states
    group by pupil_key, school_year, school_number, branch_number, main_structure_code,
        administrative_group

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
        -- the branch only when it lies in the city of Antwerp
        cast(case when branch_in_antwerp then school_number end as varchar)
            as institution_number,
        cast(case when branch_in_antwerp then branch_number end as integer) as branch_number,
        cast(main_structure_code as varchar) as main_structure,
        cast(administrative_group as integer) as administrative_group,
        cast(case when on_february_1 then 'J' else 'N' end as varchar) as enrolled_on_february_1,
        cast(case when on_october_1 then 'J' else 'N' end as varchar) as enrolled_on_october_1,
        cast(case when on_june_30 then 'J' else 'N' end as varchar) as enrolled_on_june_30,
        cast(certificate_type as varchar) as certificate,
        cast(case when attest_code in ('A', 'B', 'C') then attest_code end as varchar)
            as orientation_attest_cluster
    from enrolments

)

select * from final
