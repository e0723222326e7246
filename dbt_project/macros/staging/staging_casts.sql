{#-
    Typing and code normalisation shared by the staging models. Ingestion guarantees that every
    non-null value parses as its declared type (dates, integers, J/N flags, school years), so those
    casts are strict: a failure means the ingestion contract was broken. Codes are not validated at
    ingestion, so code normalisation is lenient: an unexpected code is kept as delivered and left to
    the code-list tests and the quality layer.
-#}

{#- dd/mm/yyyy (or the file type's own date_format) text -> date -#}
{% macro to_date(column_name, date_format=none) -%}
    cast(strptime({{ column_name }}, '{{ date_format or var("belgian_date_format") }}') as date)
{%- endmacro %}

{#- J/N -> boolean -#}
{% macro flag_to_boolean(column_name) -%}
    case upper({{ column_name }}) when 'J' then true when 'N' then false end
{%- endmacro %}

{#- '2023-2024' -> '2023-24', the short form used as partition key across the warehouse -#}
{% macro short_school_year(column_name) -%}
    substr({{ column_name }}, 1, 5) || substr({{ column_name }}, 8, 2)
{%- endmacro %}

{#- instellingsnummer: up to 6 digits, left-padded to 6 ('39107' -> '039107'); anything else kept -#}
{% macro school_number(column_name) -%}
    case
        when regexp_full_match({{ column_name }}, '[0-9]{1,6}') then lpad({{ column_name }}, 6, '0')
        else {{ column_name }}
    end
{%- endmacro %}

{#- M/V/X (Dutch: man, vrouw, X) -> 'M', 'F', 'X'; anything else kept upper-cased -#}
{% macro gender_code(column_name) -%}
    case upper({{ column_name }}) when 'V' then 'F' else upper({{ column_name }}) end
{%- endmacro %}

{#- BRIN compact form, as python-stdnum nl.brin.compact: upper case, no spaces, '-' or '.' -#}
{% macro compact_brin(column_name) -%}
    nullif(upper(regexp_replace({{ column_name }}, '[ .-]', '', 'g')), '')
{%- endmacro %}

{#- upper-cased, trimmed code text (codes are compared upper-case against the code seeds) -#}
{% macro clean_code(column_name) -%}
    upper(trim({{ column_name }}))
{%- endmacro %}
