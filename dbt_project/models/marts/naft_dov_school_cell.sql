{#-
    One row per cell of naft_evaluation's DOV target population (6th year of primary and all of
    secondary education) per school year: school, branch, onderwijsvorm, finaliteit, leerweg,
    study year and graad, with its enrolled pupils, available places and occupancy, and the
    profile and performance rates of its school.
-#}
with

capacity as (

    select * from {{ ref('school_year_capacity') }}

),

schools as (

    select * from {{ ref('school_year') }}

),

-- cells of the target population: 6th year of primary education and all of secondary
cells as (

    select
        school_number,
        school_year,
        branch_number,
        education_form,
        finality,
        learning_path,
        study_year,
        grade,
        sum(enrolled_pupils) as enrolled_pupils,
        sum(available_places) as available_places
    from capacity
    where
        (education_level = 'lager' and study_year = 6)
        or education_level = 'secundair'
    group by all

),

final as (

    select
        cells.school_year,
        cells.school_number,
        schools.network,
        schools.umbrella_organisation,
        schools.province_name,
        schools.municipality_nis_code,
        schools.postcode,
        schools.urbanisation,
        schools.school_oki,
        cells.branch_number,
        cells.education_form,
        cells.finality,
        cells.learning_path,
        cells.study_year,
        cells.grade,
        cells.enrolled_pupils,
        cells.available_places,
        schools.pass_rate,
        schools.absence_rate,
        schools.presence_rate,
        cells.enrolled_pupils / nullif(cells.available_places, 0) as occupancy_rate,
        schools.dropout_rate
    from cells
    left join schools
        on
            cells.school_number = schools.school_number
            and cells.school_year = schools.school_year

)

select * from final
