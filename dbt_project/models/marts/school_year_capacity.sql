{#-
    Enrolled pupils (main enrolment on the first school day of February) and available places
    (school register) per school branch, school year and programme (docs: occupancy_rate).
    A programme with places but no pupils, or pupils but no registered places, keeps its row.
-#}
with

capacity as (

    select * from {{ ref('stg_school_register_capacity') }}

),

-- for a pupil enrolled on the first school day of February, the year's main enrolment is the
-- main enrolment on that day (docs: main_enrolment)
february_enrolments as (

    select * from {{ ref('int_pupil_years') }}
    where main_enrolment_basis = 'first_school_day_of_february'

),

places as (

    select
        school_number,
        branch_number,
        school_year,
        main_structure_code,
        study_year,
        education_form,
        finality,
        learning_path,
        cast(null as bigint) as enrolled_pupils,
        available_places
    from capacity

),

enrolled as (

    select
        school_number,
        branch_number,
        school_year,
        main_structure_code,
        study_year,
        education_form,
        finality,
        learning_path,
        count(*) as enrolled_pupils,
        cast(null as bigint) as available_places
    from february_enrolments
    group by all

),

-- union then group: the key parts are often null (no finality in primary education), and group
-- by treats nulls as equal where a join would not
combined as (

    select
        school_number,
        branch_number,
        school_year,
        main_structure_code,
        study_year,
        education_form,
        finality,
        learning_path,
        cast(coalesce(sum(enrolled_pupils), 0) as bigint) as enrolled_pupils,
        cast(sum(available_places) as bigint) as available_places
    from (
        select * from places
        union all
        select * from enrolled
    ) as places_and_pupils
    group by all

),

final as (

    select
        school_number,
        branch_number,
        school_year,
        main_structure_code,
        {{ main_structure_parts('main_structure_code') }},
        study_year,
        -- graad from the study year in secondary education (1-2, 3-4, 5-7); not for OKAN
        case
            when main_structure_code like '3%' and education_form is distinct from 'OKAN'
                then least((study_year + 1) // 2, 3)
        end as grade,
        education_form,
        finality,
        learning_path,
        enrolled_pupils,
        available_places,
        case
            when available_places > 0 then enrolled_pupils / available_places
        end as occupancy_rate
    from combined

)

select * from final
where {{ in_school_year_window() }}
