-- The first (OK)AN enrolment of every pupil who ever had one (protocol antwerpen_okan, file 11a),
-- with the pupil's profile in that school year and whether the pupil belongs to the protocol's
-- population (an (OK)AN enrolment and an enrolment in a branch in the city of Antwerp).

with

enrolments as (

    select * from {{ ref('int_tracks__enrolments') }}

),

pupil_year as (

    select * from {{ ref('pupil_year') }}

),

-- the protocol's scope: primary (basis) or secondary education from school year 2015-16 on
in_scope_enrolments as (

    select *
    from enrolments
    where
        school_year_start >= 2015
        and education_level in ('kleuter', 'lager', 'secundair')

),

first_okan_enrolments as (

    select *
    from in_scope_enrolments
    where is_okan_enrolment
    qualify row_number() over (
        partition by pupil_key
        order by
            start_date,
            school_year_start,
            coalesce(end_date, date '9999-12-31') desc,
            enrolment_id
    ) = 1

),

antwerp_pupils as (

    select
        pupil_key,
        count(*) as antwerp_enrolment_count
    from in_scope_enrolments
    where branch_in_antwerp
    group by pupil_key

),

-- the OKI characteristics of the pupil in the school year of the first (OK)AN enrolment
characteristics as (

    select
        pupil_key,
        school_year,
        has_non_dutch_home_language,
        received_school_allowance,
        has_low_educated_mother,
        lives_in_high_delay_neighbourhood,
        oki_score
    from pupil_year
    where pupil_key in (select first_okan_enrolments.pupil_key from first_okan_enrolments)

),

final as (

    select
        first_okan_enrolments.pupil_key,
        first_okan_enrolments.school_year,
        first_okan_enrolments.enrolment_id,
        first_okan_enrolments.start_date,
        first_okan_enrolments.end_date,
        first_okan_enrolments.school_number,
        first_okan_enrolments.branch_number,
        first_okan_enrolments.branch_nis_code,
        coalesce(first_okan_enrolments.branch_in_antwerp, false) as branch_in_antwerp,
        first_okan_enrolments.main_structure_code,
        first_okan_enrolments.education_level,
        first_okan_enrolments.administrative_group,
        first_okan_enrolments.education_form,
        first_okan_enrolments.study_year,
        year(first_okan_enrolments.birth_date) as birth_year,
        -- everyone has had the birthday of the year by 31 December
        first_okan_enrolments.school_year_start - year(first_okan_enrolments.birth_date)
            as age_on_31_december,
        first_okan_enrolments.school_year_start - year(first_okan_enrolments.birth_date)
        between 12 and 17 as meets_okan_age_condition,
        first_okan_enrolments.gender,
        first_okan_enrolments.nationality,
        characteristics.has_non_dutch_home_language,
        characteristics.received_school_allowance,
        characteristics.has_low_educated_mother,
        characteristics.lives_in_high_delay_neighbourhood,
        characteristics.oki_score,
        coalesce(antwerp_pupils.antwerp_enrolment_count, 0) as antwerp_enrolment_count,
        antwerp_pupils.pupil_key is not null as in_antwerpen_okan_population
    from first_okan_enrolments
    left join characteristics
        on
            first_okan_enrolments.pupil_key = characteristics.pupil_key
            and first_okan_enrolments.school_year = characteristics.school_year
    left join antwerp_pupils
        on first_okan_enrolments.pupil_key = antwerp_pupils.pupil_key

)

select * from final
