{#-
    One row per LED certificate (certificate_reference) in its latest delivered version, with
    every LED field: the one "latest delivered certificate" lookup. A certificate can be delivered
    again in a later file (e.g. annulled): the latest school-year file, then the latest load, then
    the last row wins.
-#}
with

led_certificates as (

    select * from {{ ref('stg_led_certificates') }}

),

final as (

    select *
    from led_certificates
    qualify row_number() over (
        partition by certificate_reference
        order by file_school_year desc, loaded_at desc, source_row desc
    ) = 1

)

select * from final
