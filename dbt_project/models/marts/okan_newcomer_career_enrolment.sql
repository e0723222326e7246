{#-
    The later school career of the Antwerp newcomer population (okan_newcomer): one row per
    pupil, school year, branch, hoofdstructuur and administratieve groep of an enrolment in place
    on 1 October, 1 February or 30 June, with a flag per date, the branch only when it lies in
    Antwerp, the profile of the latest date in the year the enrolment was in place, and the
    orientation attest cluster (A/B/C) of the school year. first_okan_school_year is the school
    year of the pupil's first (OK)AN enrolment (the population's period).
-#}
with

career as (

    select * from {{ ref('okan_career') }}

),

newcomers as (

    select * from {{ ref('okan_newcomer') }}

),

states as (

    select
        career.*,
        newcomers.school_year as first_okan_school_year
    from career
    inner join newcomers
        on career.pupil_key = newcomers.pupil_key
    where career.is_enrolled

),

-- one row per enrolment (school, branch, hoofdstructuur, administratieve groep) and school year
enrolments as (

    select
        pupil_key,
        first_okan_school_year,
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
    group by pupil_key, first_okan_school_year, school_year, school_number, branch_number,
        main_structure_code, administrative_group

),

final as (

    select
        pupil_key,
        first_okan_school_year,
        school_year,
        nationality,
        has_low_educated_mother,
        received_school_allowance,
        oki_score,
        school_number,
        branch_number,
        branch_in_antwerp,
        -- the branch only when it lies in the city of Antwerp
        case when branch_in_antwerp then school_number end as antwerp_school_number,
        case when branch_in_antwerp then branch_number end as antwerp_branch_number,
        main_structure_code,
        administrative_group,
        case when on_february_1 then 'J' else 'N' end as enrolled_on_february_1,
        case when on_october_1 then 'J' else 'N' end as enrolled_on_october_1,
        case when on_june_30 then 'J' else 'N' end as enrolled_on_june_30,
        certificate_type,
        case when attest_code in ('A', 'B', 'C') then attest_code end
            as orientation_attest_cluster
    from enrolments

)

select * from final
