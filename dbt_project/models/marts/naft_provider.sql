-- NAFT providers (protocol naft_evaluation, file 3): one row per provider id, which BINC keeps
-- stable over time, with its latest attributes and the school years it was delivered in.

with

providers as (

    select * from {{ ref('stg_binc_naft_providers') }}

),

latest_providers as (

    select
        *,
        min(school_year) over (partition by provider_id) as first_school_year,
        max(school_year) over (partition by provider_id) as last_school_year,
        count(*) over (partition by provider_id) as school_year_count
    from providers
    qualify row_number() over (
        partition by provider_id order by school_year desc, loaded_at desc
    ) = 1

),

final as (

    select
        provider_id,
        provider_name,
        organisation_type,
        region,
        case
            when nullif(trim(service_area), '') is not null
                then list_transform(string_split(service_area, '|'), lambda area: trim(area))
        end as service_area,
        case
            when nullif(trim(services), '') is not null
                then list_transform(string_split(services, '|'), lambda service: trim(service))
        end as services,
        first_school_year,
        last_school_year,
        school_year_count
    from latest_providers

)

select * from final
