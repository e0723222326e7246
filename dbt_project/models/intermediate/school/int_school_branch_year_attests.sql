{#- End-of-year attests per school branch and school year, by code (docs: pass_rate). -#}
with

attests as (

    select * from {{ ref('stg_discimus_attests') }}

),

final as (

    select
        school_number,
        branch_number,
        school_year,
        count(*) filter (where attest_code = 'A') as a_attests,
        count(*) filter (where attest_code = 'B') as b_attests,
        count(*) filter (where attest_code = 'C') as c_attests,
        count(*) filter (where attest_code in ('A', 'B', 'C')) as abc_attests
    from attests
    group by school_number, branch_number, school_year

)

select * from final
where {{ in_school_year_window() }}
