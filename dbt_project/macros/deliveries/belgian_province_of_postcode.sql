{#-
    The Belgian province (or the Brussels-Capital Region) of a 4-digit postcode, from bpost's
    postcode ranges; null for anything else. Used where the municipalities seed (Flanders and
    Brussels only) does not know a postcode, e.g. DUO pupils living in Wallonia.
-#}
{% macro belgian_province_of_postcode(column) -%}
    case
        when not regexp_full_match(coalesce({{ column }}, ''), '[0-9]{4}') then null
        when cast({{ column }} as integer) between 1000 and 1299 then 'Brussels Hoofdstedelijk Gewest'
        when cast({{ column }} as integer) between 1300 and 1499 then 'Waals-Brabant'
        when cast({{ column }} as integer) between 1500 and 1999 then 'Vlaams-Brabant'
        when cast({{ column }} as integer) between 2000 and 2999 then 'Antwerpen'
        when cast({{ column }} as integer) between 3000 and 3499 then 'Vlaams-Brabant'
        when cast({{ column }} as integer) between 3500 and 3999 then 'Limburg'
        when cast({{ column }} as integer) between 4000 and 4999 then 'Luik'
        when cast({{ column }} as integer) between 5000 and 5999 then 'Namen'
        when cast({{ column }} as integer) between 6000 and 6599 then 'Henegouwen'
        when cast({{ column }} as integer) between 6600 and 6999 then 'Luxemburg'
        when cast({{ column }} as integer) between 7000 and 7999 then 'Henegouwen'
        when cast({{ column }} as integer) between 8000 and 8999 then 'West-Vlaanderen'
        when cast({{ column }} as integer) between 9000 and 9999 then 'Oost-Vlaanderen'
    end
{%- endmacro %}
