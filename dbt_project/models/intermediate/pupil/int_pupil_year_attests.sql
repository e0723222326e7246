{#-
    The final attest of each pupil and school year (docs: final_attest): the one with the latest
    attest date (then the highest school number), and how many attests the pupil had.
-#}
with

attests as (

    select * from {{ ref('stg_discimus_attests') }}

),

per_year as (

    select
        pupil_key,
        school_year,
        count(*) as attest_count,
        arg_max(
            struct_pack(attest_code, attest_restriction, attest_date, school_number),
            struct_pack(attest_date, school_number)
        ) as final_attest
    from attests
    group by pupil_key, school_year

),

final as (

    select
        pupil_key,
        school_year,
        final_attest.attest_code as attest_code,
        final_attest.attest_restriction as attest_restriction,
        final_attest.attest_date as attest_date,
        final_attest.school_number as attest_school_number,
        attest_count
    from per_year

)

select * from final
where {{ in_school_year_window() }}
