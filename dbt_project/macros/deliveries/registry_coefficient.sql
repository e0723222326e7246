{#-
    The coefficient of a weighted count, as the protocol registry states it (a variable's
    `weighting`). The generated model YAML (python -m orchestration.deliveries.dbt_yaml) copies
    it into the model's meta.weighting_coefficients, so the coefficient is never typed in SQL:

        cast(count(*) * {{ registry_coefficient('weighted_pupils_with_care_home') }} as decimal)
-#}
{% macro registry_coefficient(column) -%}
    {#- at parse time the YAML config is not merged yet: render a placeholder -#}
    {%- if not execute -%}
        {{ return('1') }}
    {%- endif -%}
    {%- set coefficients = (config.get('meta') or {}).get('weighting_coefficients') or {} -%}
    {%- if column not in coefficients -%}
        {{ exceptions.raise_compiler_error(
            "registry_coefficient(): model " ~ model.name ~ " has no weighting coefficient for "
            ~ column ~ " in meta.weighting_coefficients; add a weighting to the variable in the "
            ~ "registry and regenerate the YAML with python -m orchestration.deliveries.dbt_yaml") }}
    {%- endif -%}
    cast('{{ coefficients[column] }}' as decimal(18, 3))
{%- endmacro %}
