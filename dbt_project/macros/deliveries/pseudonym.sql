{#-
    The recipient pseudonym of a pupil key under a protocol's own key (see
    orchestration/deliveries/pseudonyms.py). The SQL macro it calls is created in every dbt
    connection by the dbt-duckdb plugin orchestration.deliveries.dbt_plugin: the key lives in
    session variables and never appears here or in compiled SQL.

        {{ pseudonym('naft_evaluation', 'pupil_key') }}
        {{ pseudonym('vtc_2015_34', 'pupil_key', school_year='school_year') }}  -- key per year
-#}
{% macro pseudonym(protocol_id, column, school_year=none) -%}
    {%- if not modules.re.fullmatch('[a-z][a-z0-9_]*', protocol_id) -%}
        {{ exceptions.raise_compiler_error("pseudonym(): bad protocol id " ~ protocol_id) }}
    {%- endif -%}
    {%- if school_year is none -%}
        pseudonym_{{ protocol_id }}({{ column }})
    {%- else -%}
        pseudonym_{{ protocol_id }}({{ school_year }}, {{ column }})
    {%- endif -%}
{%- endmacro %}
