-- Fails when a school's figures in school_year are not the sums of its branches in
-- school_branch_year. For the data steward: a school-level count (pupils, places, attests,
-- leavers, zorgthuis pupils) then disagrees with the branch counts it is published next to;
-- look for a branch lost or counted twice when the school totals were built.
with

branch_sums as (

    select
        school_number,
        school_year,
        count(*) as branch_count,
        sum(enrolled_pupils) as enrolled_pupils,
        sum(available_places) as available_places,
        sum(oki_score_sum) as oki_score_sum,
        sum(a_attests) as a_attests,
        sum(abc_attests) as abc_attests,
        sum(early_school_leavers) as early_school_leavers,
        sum(qualified_leavers) as qualified_leavers,
        sum(zorgthuis_february_pupils) as zorgthuis_february_pupils
    from {{ ref('school_branch_year') }}
    group by school_number, school_year

),

schools as (

    select * from {{ ref('school_year') }}

)

select
    coalesce(schools.school_number, branch_sums.school_number) as school_number,
    coalesce(schools.school_year, branch_sums.school_year) as school_year
from schools
full outer join branch_sums
    on
        schools.school_number = branch_sums.school_number
        and schools.school_year = branch_sums.school_year
where
    schools.school_number is null
    or branch_sums.school_number is null
    or schools.branch_count <> branch_sums.branch_count
    or schools.enrolled_pupils <> branch_sums.enrolled_pupils
    or schools.available_places is distinct from branch_sums.available_places
    or schools.oki_score_sum <> branch_sums.oki_score_sum
    or schools.a_attests <> branch_sums.a_attests
    or schools.abc_attests <> branch_sums.abc_attests
    or schools.early_school_leavers is distinct from branch_sums.early_school_leavers
    or schools.qualified_leavers is distinct from branch_sums.qualified_leavers
    or schools.zorgthuis_february_pupils is distinct from branch_sums.zorgthuis_february_pupils
