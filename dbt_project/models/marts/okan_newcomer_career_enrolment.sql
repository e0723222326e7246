{#-
    The later school career of the Antwerp newcomer population (okan_newcomer; antwerpen_okan
    file 11b, "alle inschrijvingen in de vervolgloopbaan t.e.m. het huidige schooljaar"): one row
    per enrolment from the school year of the pupil's first (OK)AN enrolment through the current
    school year (the latest one Discimus delivered), every enrolment: also those running side by
    side on one date and those after a qualification or early school leaving (the career does not
    stop at an outcome). A J/N flag per state date (1 October, 1 February, 30 June), the branch
    only when it lies in Antwerp, the profile of the school year (pupil_year) and the
    orientation attest cluster (A/B/C). first_okan_school_year is the population's period.
-#}
with

enrolments as (

    select * from {{ ref('int_tracks__enrolments') }}

),

newcomers as (

    select * from {{ ref('okan_newcomer') }}

),

pupil_year as (

    select * from {{ ref('pupil_year') }}

),

counting_dates as (

    select * from {{ ref('counting_dates') }}

),

-- the current school year: the latest one Discimus has delivered
observed as (

    select max(school_year_start) as current_school_year_start
    from enrolments

),

-- every enrolment of the later career
career as (

    select
        enrolments.*,
        newcomers.school_year as first_okan_school_year
    from enrolments
    inner join newcomers
        on enrolments.pupil_key = newcomers.pupil_key
    cross join observed
    where
        enrolments.school_year_start >= cast(substr(newcomers.school_year, 1, 4) as integer)
        and enrolments.school_year_start <= observed.current_school_year_start

),

-- the three state dates of each school year (calendar dates)
state_dates as (

    select
        school_year,
        max(cast(counting_date as date)) filter (where counting_date_name = 'october_1')
            as october_1,
        max(cast(counting_date as date)) filter (where counting_date_name = 'february_1')
            as february_1,
        max(cast(counting_date as date)) filter (where counting_date_name = 'june_30')
            as june_30
    from counting_dates
    group by school_year

),

final as (

    select
        career.pupil_key,
        career.enrolment_id,
        career.first_okan_school_year,
        career.school_year,
        pupil_year.nationality,
        pupil_year.has_low_educated_mother,
        pupil_year.received_school_allowance,
        pupil_year.oki_score,
        career.school_number,
        career.branch_number,
        career.branch_in_antwerp,
        -- the branch only when it lies in the city of Antwerp
        case when career.branch_in_antwerp then career.school_number end as antwerp_school_number,
        case when career.branch_in_antwerp then career.branch_number end as antwerp_branch_number,
        career.main_structure_code,
        career.administrative_group,
        case
            when state_dates.february_1 between career.start_date and career.covered_until
                then 'J'
            else 'N'
        end as enrolled_on_february_1,
        case
            when state_dates.october_1 between career.start_date and career.covered_until
                then 'J'
            else 'N'
        end as enrolled_on_october_1,
        case
            when state_dates.june_30 between career.start_date and career.covered_until
                then 'J'
            else 'N'
        end as enrolled_on_june_30,
        pupil_year.highest_certificate_type as certificate_type,
        case when pupil_year.attest_code in ('A', 'B', 'C') then pupil_year.attest_code end
            as orientation_attest_cluster
    from career
    left join state_dates
        on career.school_year = state_dates.school_year
    left join pupil_year
        on
            career.pupil_key = pupil_year.pupil_key
            and career.school_year = pupil_year.school_year

)

select * from final
