{#-
    Pupils linked to a DUO record (schooling in the Netherlands) per school year
    (docs: schooled_in_netherlands). The DUO reference date (peildatum) gives the school year
    (1 September - 31 August).

    linkage.duo_links is written by the Python record linkage, not by ingestion. When that step
    has not run yet in a warehouse (the table does not exist), the model is empty with the same
    columns instead of failing, and pupil_year leaves the flag unknown for want of DUO data.
-#}
{%- set duo_links = source('linkage', 'duo_links') -%}
{%- set duo_links_exists = true -%}
{#- a unit test mocks the source as a CTE without a database: then there is nothing to look up -#}
{%- if execute and duo_links.identifier is defined and duo_links.database is not none -%}
    {%- set found = adapter.get_relation(database=duo_links.database, schema=duo_links.schema,
                                         identifier=duo_links.identifier) -%}
    {%- set duo_links_exists = found is not none -%}
{%- endif %}
with

{% if duo_links_exists -%}
links as (

    select
        pupil_key,
        cast(peildatum as date) as reference_date,
        match_method,
        cast(match_score as double) as match_score
    from {{ duo_links }}

),
{%- else -%}
links as (

    select
        cast(null as varchar) as pupil_key,
        cast(null as date) as reference_date,
        cast(null as varchar) as match_method,
        cast(null as double) as match_score
    where false

),
{%- endif %}

links_with_school_year as (

    select
        *,
        case
            when month(reference_date) >= 9 then year(reference_date)
            else year(reference_date) - 1
        end as school_year_start
    from links

),

final as (

    select
        pupil_key,
        cast(school_year_start as varchar) || '-'
        || lpad(cast((school_year_start + 1) % 100 as varchar), 2, '0') as school_year,
        count(distinct reference_date) as duo_reference_date_count,
        bool_or(match_method = 'exact') as has_exact_duo_link,
        max(match_score) as best_duo_match_score
    from links_with_school_year
    group by pupil_key, school_year_start

)

select * from final
where {{ in_school_year_window() }}
