{#-
    The school years a delivery file covers, as the protocol registry states them. The generated
    model YAML (python -m orchestration.deliveries.dbt_yaml) copies the registry's period into
    the model's meta, so the period is never typed by hand in SQL:

        where {{ in_delivery_period('school_year') }}

    `school_year` must be in the short form 2023-24 (the form sorts as text). A missing bound
    means "no bound" (e.g. antwerpen_okan runs up to the most recent school year).
-#}
{% macro in_delivery_period(column) -%}
    {#- at parse time the YAML config is not merged yet: render a placeholder -#}
    {%- if not execute -%}
        {{ return('(true)') }}
    {%- endif -%}
    {%- set period = (config.get('meta') or {}).get('period') -%}
    {%- if period is none -%}
        {{ exceptions.raise_compiler_error(
            "in_delivery_period(): model " ~ model.name ~ " has no meta.period; regenerate its "
            ~ "YAML with python -m orchestration.deliveries.dbt_yaml") }}
    {%- endif -%}
    {%- set conditions = [] -%}
    {%- if period.get('school_year_from') -%}
        {%- do conditions.append(column ~ " >= '" ~ period['school_year_from'] ~ "'") -%}
    {%- endif -%}
    {%- if period.get('school_year_to') -%}
        {%- do conditions.append(column ~ " <= '" ~ period['school_year_to'] ~ "'") -%}
    {%- endif -%}
    ({{ conditions | join(' and ') if conditions else 'true' }})
{%- endmacro %}
