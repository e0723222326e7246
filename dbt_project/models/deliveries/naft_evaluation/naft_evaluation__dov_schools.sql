-- naft_evaluation, DOV file 5: the schools of the target population (primary schools with a
-- 6th year and secondary schools) per school year 2017-18 to 2024-25: profile (net/koepel,
-- location, urbanisation, OKI figure), enrolled pupils and available places per branch,
-- onderwijsvorm/finaliteit, leerweg, study year and graad, and the school's performance rates.
-- Schools, not persons: counts go to the processor unsuppressed.

with

cells as (

    select * from {{ ref('naft_dov_school_cell') }}

),

final as (

    select
        cast(school_year as varchar) as school_year,
        cast(school_number as varchar) as institution_number,
        cast(network as varchar) as school_network,
        cast(umbrella_organisation as varchar) as school_umbrella,
        cast(province_name as varchar) as province,
        cast(municipality_nis_code as varchar) as municipality_nis_code,
        cast(postcode as varchar) as postcode,
        cast(urbanisation as varchar) as urbanisation,
        cast(school_oki as double) as school_oki,
        cast(branch_number as integer) as branch_number,
        cast(education_form as varchar) as education_form,
        cast(finality as varchar) as finality,
        cast(learning_path as varchar) as learning_pathway,
        cast(study_year as integer) as study_year,
        cast(grade as integer) as grade,
        cast(enrolled_pupils as integer) as enrolled_pupils,
        cast(available_places as integer) as available_places,
        cast(pass_rate as double) as pass_rate,
        cast(absence_rate as double) as absence_rate,
        cast(presence_rate as double) as presence_rate,
        cast(occupancy_rate as double) as occupancy_rate,
        cast(dropout_rate as double) as dropout_rate
    from cells
    where {{ in_delivery_period('school_year') }}

)

select * from final
