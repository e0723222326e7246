{#-
    One row per NAFT provider per BINC school-year file with the services it offers (a file
    delivered again: the latest load wins). Per file, unlike naft_provider.
-#}
with

providers as (

    select * from {{ ref('stg_binc_naft_providers') }}

),

final as (

    select
        school_year,
        provider_id,
        organisation_type,
        region,
        service_area,
        services
    from providers
    qualify row_number() over (
        partition by provider_id, school_year order by loaded_at desc, source_row
    ) = 1

)

select * from final
