-- naft_evaluation, BINC file 3: the NAFT providers of each school-year file 2020-21 to 2024-25
-- with the services they offer. The provider id is stable and the same as in the trajectory
-- file; the provider's name is not among the listed variables and is not delivered.

with

provider_years as (

    select * from {{ ref('naft_binc_provider_year') }}

),

final as (

    select
        cast(school_year as varchar) as school_year,
        cast(provider_id as varchar) as provider_id,
        cast(organisation_type as varchar) as organisation_type,
        cast(region as varchar) as region,
        cast(service_area as varchar) as service_area,
        cast(services as varchar) as services_offered
    from provider_years
    where {{ in_delivery_period('school_year') }}

)

select * from final
