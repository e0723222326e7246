{#-
    The combination of `columns` is unique: the model's grain holds. Nulls count as equal values
    (group by), so optional key parts such as finality cannot hide a duplicate.
    Fails with one row per duplicated combination and how often it occurs.
-#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(',\n    ') }},
    count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
