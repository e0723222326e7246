{#-
    One row per branch (vestigingsplaats) per school year: its postal address as one line,
    "street number, postcode municipality", from the school register (the latest load wins).
    The addresses the request answers give for a school and its seat.
-#}
with

branches as (

    select * from {{ ref('stg_school_register_branches') }}

),

final as (

    select
        school_number,
        branch_number,
        school_year,
        concat_ws(', ', concat_ws(' ', street, house_number),
            concat_ws(' ', postcode, municipality_name)) as address
    from branches
    qualify row_number() over (
        partition by school_number, branch_number, school_year order by loaded_at desc
    ) = 1

)

select * from final
