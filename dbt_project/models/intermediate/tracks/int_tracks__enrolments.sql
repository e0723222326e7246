-- Discimus enrolments with what the track marts ask of every enrolment: the period it covers,
-- where its branch lies (NIS code, in the city of Antwerp?), whether it is an (OK)AN enrolment,
-- and the last day it covers. Reads the enrolments typed once in int_pupil_enrolments (a table
-- of every school year, also after a window run), not the staging view, which would re-parse the
-- raw text of every enrolment again.

with

enrolments as (

    select * from {{ ref('int_pupil_enrolments') }}

),

branches as (

    select * from {{ ref('stg_school_register_branches') }}

),

-- The branch's municipality in the enrolment's school year; when the register of that year
-- lacks the branch, its most recent known location (branches rarely move).
branch_latest_location as (

    select
        school_number,
        branch_number,
        municipality_nis_code
    from branches
    qualify row_number() over (
        partition by school_number, branch_number order by school_year desc
    ) = 1

),

located as (

    select
        enrolments.pupil_key,
        enrolments.enrolment_id,
        enrolments.school_year,
        enrolments.school_year_start,
        enrolments.birth_date,
        enrolments.gender,
        enrolments.nationality,
        enrolments.school_number,
        enrolments.branch_number,
        coalesce(
            branches.municipality_nis_code, branch_latest_location.municipality_nis_code
        ) as branch_nis_code,
        enrolments.main_structure_code,
        enrolments.education_level,
        enrolments.education_type,
        enrolments.programme,
        enrolments.administrative_group,
        enrolments.study_year,
        enrolments.grade,
        enrolments.education_form,
        enrolments.finality,
        enrolments.learning_path,
        enrolments.training_form,
        enrolments.is_newcomer,
        enrolments.start_date,
        enrolments.end_date
    from enrolments
    left join branches
        on
            enrolments.school_number = branches.school_number
            and enrolments.branch_number = branches.branch_number
            and enrolments.school_year = branches.school_year
    left join branch_latest_location
        on
            enrolments.school_number = branch_latest_location.school_number
            and enrolments.branch_number = branch_latest_location.branch_number

),

final as (

    select
        pupil_key,
        enrolment_id,
        school_year,
        school_year_start,
        birth_date,
        gender,
        nationality,
        school_number,
        branch_number,
        branch_nis_code,
        branch_nis_code = '11002' as branch_in_antwerp,
        {{ enrolment_programme_columns() }},
        training_form,
        coalesce(is_newcomer, false) or coalesce(education_form = 'OKAN', false)
            as is_okan_enrolment,
        start_date,
        end_date,
        -- an open enrolment runs to the end of its school year (31 August)
        coalesce(end_date, make_date(school_year_start + 1, 8, 31)) as covered_until
    from located

)

select * from final
