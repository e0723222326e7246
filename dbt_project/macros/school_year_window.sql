{#-
    School-year partitions (orchestration/transform/assets.py, selector `school_year_partitioned`).

    A model partitioned by school year is `incremental` with the strategy `school_year_window`
    (set in dbt_project.yml). Dagster passes the run's partitions as
    `--vars '{"school_year_from": "2019-20", "school_year_to": "2019-20"}'`; a run over every
    school year passes no window and `--full-refresh` instead, so it is an ordinary full build.

    Two parts, so correctness does not depend on the model's SQL:
    - the strategy deletes the window's rows from the table and inserts the window's rows of the
      model's result, in one transaction: rows of other school years are never touched, and a
      school year that lost all its rows is emptied;
    - `where {{ in_school_year_window() }}` after a model's `select * from final` lets DuckDB
      push the window down to the scans. It filters the model's result, never an import CTE, so
      every row is computed from all upstream rows it reads (the previous school year for
      repeated years, the pupil's later years for early school leaving, the most recent school
      year): a window's rows are the rows a full build gives.
    Without a window (dbt run by hand on an existing table) the strategy replaces every row.
-#}

{% macro school_year_window() -%}
    {#- The run's window as [from, to] (partition keys such as '2019-20'), or none. -#}
    {%- set first = var('school_year_from', none) -%}
    {%- set last = var('school_year_to', first) -%}
    {%- if first is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- for key in [first, last] -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}', key | string) -%}
            {{ exceptions.raise_compiler_error(
                "school_year_from/school_year_to must be school years like 2019-20, got " ~ key) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if last < first -%}
        {{ exceptions.raise_compiler_error(
            "school-year window ends (" ~ last ~ ") before it starts (" ~ first ~ ")") }}
    {%- endif -%}
    {{ return([first | string, last | string]) }}
{%- endmacro %}


{% macro school_year_window_condition(column='school_year') -%}
    {%- set window = school_year_window() -%}
    {%- if window is none -%}
        true
    {%- else -%}
        {{ column }} between '{{ window[0] }}' and '{{ window[1] }}'
    {%- endif -%}
{%- endmacro %}


{% macro in_school_year_window(column='school_year') -%}
    {#- The model-side filter: only in an incremental run with a window, else `true` (also in a
        dbt unit test, which has no relation of its own: `this` is none there). -#}
    {%- if this is not none and is_incremental() -%}
        {{ school_year_window_condition(column) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{% macro get_incremental_school_year_window_sql(arg_dict) -%}
    {#- Custom incremental strategy: replace the window's rows, leave every other row as is. -#}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set column = config.get('school_year_column', 'school_year') -%}
    delete from {{ target }}
    where {{ school_year_window_condition(column) }};

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
    where {{ school_year_window_condition(column) }}
{%- endmacro %}
