-- naft_evaluation, DOV file 5: the schools of the target population (primary schools with a
-- 6th year and secondary schools) per school year 2017-18 to 2024-25: profile (net/koepel,
-- location, urbanisation, OKI figure), enrolled pupils and available places per branch,
-- onderwijsvorm/finaliteit, leerweg, study year and graad, and the school's performance rates.
-- Schools, not persons: counts go to the processor unsuppressed.

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
        {{ in_delivery_period('school_year') }}
        and (
            (education_level = 'lager' and study_year = 6)
            or education_level = 'secundair'
        )
    group by all

),

final as (

    select
        cast(cells.school_year as varchar) as school_year,
        cast(cells.school_number as varchar) as institution_number,
        cast(schools.network as varchar) as school_network,
        cast(schools.umbrella_organisation as varchar) as school_umbrella,
        cast(schools.province_name as varchar) as province,
        cast(schools.municipality_nis_code as varchar) as municipality_nis_code,
        cast(schools.postcode as varchar) as postcode,
        cast(schools.urbanisation as varchar) as urbanisation,
        cast(schools.school_oki as double) as school_oki,
        cast(cells.branch_number as integer) as branch_number,
        cast(cells.education_form as varchar) as education_form,
        cast(cells.finality as varchar) as finality,
        cast(cells.learning_path as varchar) as learning_pathway,
        cast(cells.study_year as integer) as study_year,
        cast(cells.grade as integer) as grade,
        cast(cells.enrolled_pupils as integer) as enrolled_pupils,
        cast(cells.available_places as integer) as available_places,
        cast(schools.pass_rate as double) as pass_rate,
        cast(schools.absence_rate as double) as absence_rate,
        cast(schools.presence_rate as double) as presence_rate,
        cast(
            cells.enrolled_pupils / nullif(cells.available_places, 0) as double
        ) as occupancy_rate,
        cast(schools.dropout_rate as double) as dropout_rate
    from cells
    left join schools
        on
            cells.school_number = schools.school_number
            and cells.school_year = schools.school_year

)

select * from final
