{#-
    An invariant that must hold on every row (like dbt_utils.expression_is_true, without the
    package). Rows where the expression is null are not counted: optional columns do not fail it.
    Fails with the number of rows that break it, never their values.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select count(*) as n_rows_breaking_invariant
from {{ model }}
where not ({{ expression }})
having count(*) > 0

{% endtest %}
