{#-
    One row per pupil ever enrolled in secondary education: the pupil's last secondary enrolment
    in Discimus (latest school year, then latest start, then latest end with "open" last of all,
    then the highest enrolment id), with every Discimus field of that enrolment.
-#}
with

enrolments as (

    select * from {{ ref('stg_discimus_enrolments') }}

),

final as (

    select *
    from enrolments
    where education_level = 'secundair'
    qualify row_number() over (
        partition by pupil_key
        order by school_year desc, start_date desc, coalesce(end_date, date '9999-12-31') desc,
            enrolment_id desc
    ) = 1

)

select * from final
