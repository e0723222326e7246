{#-
    Gender as the protocols word it (M, V, X): the warehouse stores F for a girl (staging maps
    Discimus' V to F), the delivery files speak Dutch again.
-#}
{% macro delivery_gender(column) -%}
    case {{ column }} when 'F' then 'V' when 'M' then 'M' when 'X' then 'X' end
{%- endmacro %}
