{#-
    How each pupil's school career in the data ends (docs: early_school_leaver): the pupil's last
    enrolment in any year present in the data, whether it was in a qualifying track of secondary
    education, whether a secondary qualification was obtained up to and including that school
    year, and whether the pupil was past compulsory-school age at the end of that school year.
    A pupil whose last enrolment is in OKAN is not an early school leaver (docs: okan_leaver).
-#}
with

-- not materialized: read several times below; materialising it would hold every row with all
-- its columns in memory (the table is simply scanned again instead)
enrolments as not materialized (

    select * from {{ ref('int_pupil_enrolments') }}

),

certificates as (

    select * from {{ ref('int_pupil_certificates') }}

),

most_recent_school_year as (

    select max(school_year) as school_year from enrolments

),

-- the last enrolment: latest school year, then latest (or open) end date, then latest start
last_enrolment_keys as (

    select
        pupil_key,
        arg_max(
            struct_pack(school_year, enrolment_id),
            struct_pack(school_year, open_end_date, start_date, enrolment_id)
        ) as last_key
    from enrolments
    group by pupil_key

),

last_enrolment_columns as (

    select
        last_enrolment_keys.pupil_key,
        enrolments.school_year as leaving_school_year,
        enrolments.school_year_start as leaving_school_year_start,
        enrolments.enrolment_id as last_enrolment_id,
        year(enrolments.birth_date) as birth_year,
        enrolments.school_number as last_school_number,
        enrolments.branch_number as last_branch_number,
        enrolments.main_structure_code as last_main_structure_code,
        enrolments.education_level as last_education_level,
        enrolments.administrative_group as last_administrative_group,
        enrolments.study_year as last_study_year,
        enrolments.education_form as last_education_form,
        enrolments.training_form as last_training_form,
        enrolments.end_date as last_end_date
    from last_enrolment_keys
    inner join enrolments
        on
            last_enrolment_keys.last_key.enrolment_id = enrolments.enrolment_id
            and last_enrolment_keys.last_key.school_year = enrolments.school_year

),

qualifications as (

    select
        pupil_key,
        min(issue_school_year) as first_qualification_school_year
    from certificates
    where is_secondary_qualification
    group by pupil_key

),

assessed as (

    select
        last_enrolment_columns.*,
        last_enrolment_columns.leaving_school_year = most_recent_school_year.school_year
            as is_in_most_recent_school_year,
        -- qualifying tracks: gewoon voltijds secundair (not OKAN), DBSO, BuSO OV3/OV4
        coalesce(
            (last_main_structure_code in ('311', '312')
                and last_education_form is distinct from 'OKAN')
            or (last_main_structure_code = '321' and last_training_form in ('OV3', 'OV4')),
            false
        ) as left_qualifying_track,
        coalesce(
            qualifications.first_qualification_school_year <= last_enrolment_columns.leaving_school_year,
            false
        ) as has_secondary_qualification,
        -- compulsory education ends on the 18th birthday when it falls before 1 July, else on
        -- 30 June of the year the pupil turns 18: at the end of the school year (30 June) it has
        -- ended for every pupil who turns 18 in that calendar year or earlier
        last_enrolment_columns.leaving_school_year_start + 1 - last_enrolment_columns.birth_year >= 18
            as past_compulsory_education_age
    from last_enrolment_columns
    cross join most_recent_school_year
    left join qualifications
        on last_enrolment_columns.pupil_key = qualifications.pupil_key

),

final as (

    select
        pupil_key,
        leaving_school_year,
        last_enrolment_id,
        last_school_number,
        last_branch_number,
        last_main_structure_code,
        last_education_level,
        last_administrative_group,
        last_study_year,
        last_education_form,
        last_training_form,
        last_end_date,
        birth_year,
        left_qualifying_track,
        has_secondary_qualification,
        past_compulsory_education_age,
        case
            when is_in_most_recent_school_year then 'not_yet_known'
            -- left from the reception year, never in a qualifying track after it: outside the
            -- indicator, but kept apart for the antwerpen_okan files (docs: okan_leaver)
            when last_education_form is not distinct from 'OKAN' then 'left_from_okan'
            when not left_qualifying_track then 'not_in_scope'
            when has_secondary_qualification then 'qualified_leaver'
            when past_compulsory_education_age is null then 'birth_date_unknown'
            when not past_compulsory_education_age then 'left_during_compulsory_education'
            else 'early_school_leaver'
        end as school_leaving_status
    from assessed

)

select * from final
