{#-
    One row per pupil ever enrolled in secondary education: the pupil's last secondary enrolment
    in Discimus (latest school year, then latest start, then latest end with "open" last of all,
    then the highest enrolment id), with every Discimus field of that enrolment.

    The ranking reads the enrolments typed once (int_pupil_enrolments); only the fields the
    ranked enrolments lack there (deregistration, provenance) come from the staging view.
-#}
with

enrolments as (

    select * from {{ ref('stg_discimus_enrolments') }}

),

typed_enrolments as (

    select * from {{ ref('int_pupil_enrolments') }}

),

last_secondary_enrolments as (

    select
        enrolment_id,
        school_year
    from typed_enrolments
    where education_level = 'secundair'
    qualify row_number() over (
        partition by pupil_key
        order by school_year desc, start_date desc, open_end_date desc, enrolment_id desc
    ) = 1

),

final as (

    select enrolments.*
    from enrolments
    semi join last_secondary_enrolments
        on
            enrolments.enrolment_id = last_secondary_enrolments.enrolment_id
            and enrolments.school_year = last_secondary_enrolments.school_year

)

select * from final
