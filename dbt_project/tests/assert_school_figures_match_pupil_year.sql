-- Fails when the school marts and pupil_year count different pupils: per school branch and
-- school year, the pupils enrolled on the first school day of February (school_branch_year) and
-- the pupils whose main enrolment on that date is there (pupil_year); per school year, the early
-- school leavers of school_year and of pupil_year. For the data steward: a school figure would
-- then not be the sum of the pupils it is about; look for an enrolment attributed to no or to
-- two branches, or a leaver attributed to no school.
with

pupils_per_branch as (

    select
        feb_first_school_day_school_number as school_number,
        feb_first_school_day_branch_number as branch_number,
        school_year,
        count(*) as enrolled_pupils
    from {{ ref('pupil_year') }}
    where feb_first_school_day_enrolled
    group by all

),

branches as (

    select school_number, branch_number, school_year, enrolled_pupils
    from {{ ref('school_branch_year') }}
    where enrolled_pupils > 0

),

headcount_mismatches as (

    select
        'enrolled_pupils' as figure,
        coalesce(branches.school_year, pupils_per_branch.school_year) as school_year,
        coalesce(branches.school_number, pupils_per_branch.school_number) as school_number
    from branches
    full outer join pupils_per_branch
        on
            branches.school_number = pupils_per_branch.school_number
            and branches.branch_number = pupils_per_branch.branch_number
            and branches.school_year = pupils_per_branch.school_year
    where branches.enrolled_pupils is distinct from pupils_per_branch.enrolled_pupils

),

leavers_per_year as (

    select school_year, count(*) filter (where is_early_school_leaver) as early_school_leavers
    from {{ ref('pupil_year') }}
    group by school_year

),

school_leavers_per_year as (

    select school_year, coalesce(sum(early_school_leavers), 0) as early_school_leavers
    from {{ ref('school_year') }}
    group by school_year

),

leaver_mismatches as (

    select
        'early_school_leavers' as figure,
        leavers_per_year.school_year,
        cast(null as varchar) as school_number
    from leavers_per_year
    inner join school_leavers_per_year
        on leavers_per_year.school_year = school_leavers_per_year.school_year
    where leavers_per_year.early_school_leavers <> school_leavers_per_year.early_school_leavers

)

select * from headcount_mismatches
union all
select * from leaver_mismatches
