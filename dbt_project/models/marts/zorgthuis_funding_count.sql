{#-
    One row per school, branch (vestigingsplaats), zorgthuis counting date, list kind, funding
    purpose and legal reference: the number of listed pupils whose enrolment on that date is in
    that branch, once for every purpose art. 2 of the protocol names for the enrolment's
    education level (seed count_purposes, generated from the registry: the operating budgets,
    unweighted, with the decree article; the teaching periods in basisonderwijs and the
    integrated support offer in secondary education, with the coefficient 1.5). A listed pupil
    not enrolled anywhere on the date is not attributed to a school; a pupil in voluntary MFC
    care is never counted.
-#}
with

listed_pupils as (

    select * from {{ ref('zorgthuis_listed_pupil') }}

),

purposes as (

    select * from {{ ref('count_purposes') }}
    where protocol_id = 'zorgthuis' and file_id = 'funding_counts'

),

-- listed pupils with an enrolment (school and branch) on the counting date who count
attributed as (

    select *
    from listed_pupils
    where school_number is not null and branch_number is not null

),

final as (

    select
        attributed.school_year,
        attributed.counting_date_name,
        attributed.counting_date,
        attributed.list_kind,
        attributed.school_number,
        attributed.branch_number,
        purposes.funding_purpose,
        purposes.legal_reference,
        purposes.coefficient,
        count(distinct attributed.pupil_key) as pupils_with_care_home
    from attributed
    inner join purposes
        on attributed.education_level = purposes.education_level
    group by all

)

select * from final
