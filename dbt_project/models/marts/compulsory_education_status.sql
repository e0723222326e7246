-- Compulsory-education control (protocol duo_leerplicht): for every child in the Rijksregister
-- extract on its reference date, whether the child is of compulsory school age and where it is
-- schooled: enrolled in a Flemish school, at a Dutch school (linked DUO registration), or found
-- nowhere; see the docs blocks `compulsory_school_age` and `compulsory_education_status`.

with

children as (

    select * from {{ ref('stg_rijksregister_children') }}

),

compulsory_education_periods as (

    select * from {{ ref('int_tracks__compulsory_education_periods') }}

),

enrolments as (

    select * from {{ ref('int_tracks__enrolments') }}

),

duo_links as (

    select * from {{ source('linkage', 'duo_links') }}

),

duo_registrations as (

    select * from {{ ref('stg_duo_registrations') }}

),

counting_dates as (

    select * from {{ ref('counting_dates') }}

),

duo_reference_dates as (

    select
        cast(counting_date as date) as reference_date,
        counting_date_name as duo_reference_date_name
    from counting_dates
    where counting_date_name in ('duo_october_15', 'duo_december_15', 'duo_february_15')

),

children_on_date as (

    select
        pupil_key,
        reference_date,
        case
            when month(reference_date) >= 9 then year(reference_date)
            else year(reference_date) - 1
        end as school_year_start,
        birth_date,
        gender,
        residence_postcode,
        residence_nis_code
    from children

),

-- the Flemish enrolment on the reference date; when several overlap, the main one as in the
-- pupil marts (latest start, then longest running, then highest enrolment id)
enrolled as (

    select
        children_on_date.pupil_key,
        children_on_date.reference_date,
        enrolments.enrolment_id,
        enrolments.school_number,
        enrolments.branch_number,
        enrolments.main_structure_code
    from children_on_date
    inner join enrolments
        on
            children_on_date.pupil_key = enrolments.pupil_key
            and children_on_date.school_year_start = enrolments.school_year_start
            and children_on_date.reference_date
            between enrolments.start_date and enrolments.covered_until
    qualify row_number() over (
        partition by children_on_date.pupil_key, children_on_date.reference_date
        order by
            enrolments.start_date desc,
            coalesce(enrolments.end_date, date '9999-12-31') desc,
            enrolments.enrolment_id desc
    ) = 1

),

-- the DUO registration linked to the child for the same reference date (the linkage allows
-- one per child and date; the best score wins should that ever break)
linked as (

    select
        duo_links.pupil_key,
        duo_links.peildatum as reference_date,
        duo_links.record_key,
        duo_links.match_method,
        duo_links.match_score,
        duo_registrations.brin_code
    from duo_links
    left join duo_registrations
        on
            duo_links.record_key = duo_registrations.record_key
            and duo_links.peildatum = duo_registrations.reference_date
    qualify row_number() over (
        partition by duo_links.pupil_key, duo_links.peildatum
        order by duo_links.match_score desc, duo_links.record_key
    ) = 1

),

final as (

    select
        children_on_date.pupil_key,
        children_on_date.reference_date,
        duo_reference_dates.duo_reference_date_name,
        children_on_date.school_year_start || '-'
        || lpad(cast((children_on_date.school_year_start + 1) % 100 as varchar), 2, '0')
            as school_year,
        year(children_on_date.birth_date) as birth_year,
        children_on_date.gender,
        children_on_date.residence_postcode,
        children_on_date.residence_nis_code,
        compulsory_education_periods.compulsory_education_start_date,
        compulsory_education_periods.compulsory_education_end_date,
        coalesce(
            children_on_date.reference_date between
            compulsory_education_periods.compulsory_education_start_date
            and compulsory_education_periods.compulsory_education_end_date,
            false
        ) as is_compulsory_school_age,
        -- a Flemish enrolment beats a DUO registration; the rest is found nowhere
        case
            when enrolled.enrolment_id is not null then 'enrolled_flanders'
            when linked.record_key is not null then 'schooled_netherlands'
            else 'found_nowhere'
        end as status,
        enrolled.enrolment_id,
        enrolled.school_number,
        enrolled.branch_number,
        enrolled.main_structure_code,
        linked.record_key is not null as has_duo_registration,
        linked.record_key as duo_record_key,
        linked.brin_code,
        linked.match_method as duo_match_method
    from children_on_date
    left join compulsory_education_periods
        on children_on_date.birth_date = compulsory_education_periods.birth_date
    left join duo_reference_dates
        on children_on_date.reference_date = duo_reference_dates.reference_date
    left join enrolled
        on
            children_on_date.pupil_key = enrolled.pupil_key
            and children_on_date.reference_date = enrolled.reference_date
    left join linked
        on
            children_on_date.pupil_key = linked.pupil_key
            and children_on_date.reference_date = linked.reference_date

)

select * from final
where {{ in_school_year_window() }}
