{#-
    The Antwerp newcomer population of protocol antwerpen_okan (docs: okan_population): one row
    per pupil of okan_first_enrolment who belongs to it, with the first (OK)AN enrolment, its
    branch only when it lies in the city of Antwerp, and the dimensions of the public inflow
    monitor (education level as BASIS or SECUNDAIR, J/N first enrolment in Antwerp, school delay
    in that school year). Every antwerpen_okan file starts from this population.
-#}
with

first_enrolments as (

    select * from {{ ref('okan_first_enrolment') }}

),

pupil_years as (

    select * from {{ ref('pupil_year') }}

),

population as (

    select *
    from first_enrolments
    where in_antwerpen_okan_population

),

final as (

    select
        population.pupil_key,
        population.school_year,
        population.enrolment_id,
        population.start_date,
        population.end_date,
        population.school_number,
        population.branch_number,
        population.branch_in_antwerp,
        -- the branch only when it lies in the city of Antwerp
        case when population.branch_in_antwerp then population.school_number end
            as antwerp_school_number,
        case when population.branch_in_antwerp then population.branch_number end
            as antwerp_branch_number,
        case when population.branch_in_antwerp then 'J' else 'N' end
            as first_enrolment_in_antwerp,
        population.main_structure_code,
        population.education_level,
        case
            when population.education_level in ('kleuter', 'lager') then 'BASIS'
            when population.education_level = 'secundair' then 'SECUNDAIR'
        end as education_level_group,
        population.administrative_group,
        population.study_year,
        population.birth_year,
        population.gender,
        population.nationality,
        population.has_non_dutch_home_language,
        population.received_school_allowance,
        population.has_low_educated_mother,
        population.oki_score,
        coalesce(pupil_years.school_delay_years > 0, false) as has_school_delay
    from population
    left join pupil_years
        on
            population.pupil_key = pupil_years.pupil_key
            and population.school_year = pupil_years.school_year

)

select * from final
