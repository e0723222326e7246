{#-
    Every school branch per school year that the school register lists or that pupils are
    enrolled in, with the register's description of the school and the branch. A branch or school
    missing from the register keeps its row (with empty attributes and is_*_in_register false), so
    every enrolment can be attributed. The main branch of a school is its lowest branch number in
    the register that year, or among the branches pupils are enrolled in when the school is not in
    the register (docs: school_attributes).
-#}
with

register_schools as (

    select * from {{ ref('stg_school_register_schools') }}

),

register_branches as (

    select * from {{ ref('stg_school_register_branches') }}

),

enrolments as (

    select * from {{ ref('int_pupil_enrolments') }}

),

capacity as (

    select * from {{ ref('stg_school_register_capacity') }}

),

school_networks as (

    select * from {{ ref('school_network') }}

),

urbanisation_codes as (

    select * from {{ ref('urbanisation') }}

),

branch_keys as (

    select school_number, branch_number, school_year from register_branches
    union
    select school_number, branch_number, school_year from enrolments
    union
    select school_number, branch_number, school_year from capacity

),

described as (

    select
        branch_keys.school_number,
        branch_keys.branch_number,
        branch_keys.school_year,
        register_schools.school_number is not null as is_school_in_register,
        register_branches.branch_number is not null as is_branch_in_register,
        register_schools.school_name,
        register_schools.school_level_code,
        register_schools.school_network_code,
        school_networks.label_nl as school_network_label,
        school_networks.network,
        register_schools.umbrella_organisation,
        register_branches.branch_name,
        register_branches.postcode,
        register_branches.municipality_nis_code,
        register_branches.municipality_name,
        register_branches.province_name,
        register_branches.urbanisation,
        urbanisation_codes.label_nl as urbanisation_label
    from branch_keys
    left join register_schools
        on
            branch_keys.school_number = register_schools.school_number
            and branch_keys.school_year = register_schools.school_year
    left join register_branches
        on
            branch_keys.school_number = register_branches.school_number
            and branch_keys.branch_number = register_branches.branch_number
            and branch_keys.school_year = register_branches.school_year
    left join school_networks
        on register_schools.school_network_code = school_networks.code
    left join urbanisation_codes
        on register_branches.urbanisation = urbanisation_codes.code

),

main_branches as (

    select
        school_number,
        school_year,
        coalesce(
            min(branch_number) filter (where is_branch_in_register),
            min(branch_number)
        ) as main_branch_number
    from described
    group by school_number, school_year

),

final as (

    select
        described.*,
        described.branch_number = main_branches.main_branch_number as is_main_branch
    from described
    inner join main_branches
        on
            described.school_number = main_branches.school_number
            and described.school_year = main_branches.school_year

)

select * from final
where {{ in_school_year_window() }}
