{#-
    School years whose DUO registrations have been through the record linkage: a DUO reference
    date counts once the linkage wrote its outcome (a link in linkage.duo_links or a review item
    in linkage.duo_review). Outside these years "schooled in the Netherlands" is unknown, not
    false. While the linkage tables do not exist in a warehouse, the model is empty.
-#}
{%- set duo_links = source('linkage', 'duo_links') -%}
{%- set duo_review = source('linkage', 'duo_review') -%}
{%- set tables_exist = namespace(value=true) -%}
{%- if execute and duo_links.identifier is defined -%}
    {%- for relation in [duo_links, duo_review] -%}
        {%- if adapter.get_relation(database=relation.database, schema=relation.schema,
                                    identifier=relation.identifier) is none -%}
            {%- set tables_exist.value = false -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}
with

{% if tables_exist.value -%}
reference_dates as (

    select cast(peildatum as date) as reference_date from {{ duo_links }}
    union
    select cast(peildatum as date) as reference_date from {{ duo_review }}

),
{%- else -%}
reference_dates as (

    select cast(null as date) as reference_date
    where false

),
{%- endif %}

school_year_starts as (

    select distinct
        case
            when month(reference_date) >= 9 then year(reference_date)
            else year(reference_date) - 1
        end as school_year_start
    from reference_dates

),

final as (

    select
        cast(school_year_start as varchar) || '-'
        || lpad(cast((school_year_start + 1) % 100 as varchar), 2, '0') as school_year
    from school_year_starts

)

select * from final
where {{ in_school_year_window() }}
