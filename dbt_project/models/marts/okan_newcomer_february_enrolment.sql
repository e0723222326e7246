{#-
    The Antwerp newcomers (okan_newcomer) enrolled on 1 February in a branch in the city of
    Antwerp: one row per pupil, school year and school, with the pupil's attest of the year (A, B,
    C, or NONE). The microdata of the school portraits. first_okan_school_year is the
    population's period.
-#}
with

career as (

    select * from {{ ref('okan_career') }}

),

newcomers as (

    select * from {{ ref('okan_newcomer') }}

),

final as (

    select distinct
        career.pupil_key,
        newcomers.school_year as first_okan_school_year,
        career.school_year,
        career.school_number,
        case when career.attest_code in ('A', 'B', 'C') then career.attest_code else 'NONE' end
            as attest
    from career
    inner join newcomers
        on career.pupil_key = newcomers.pupil_key
    where
        career.counting_date_name = 'february_1'
        and career.is_enrolled
        and career.branch_in_antwerp

)

select * from final
