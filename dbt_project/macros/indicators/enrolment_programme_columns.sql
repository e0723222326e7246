{#-
    The programme columns of a Discimus enrolment (docs: main_enrolment), in the order every
    enrolment model lists them: the one list behind int_pupil_enrolments, the tracks enrolments,
    the counting-date enrolments and the pupil_year_counting_date mart, so a column added to the
    enrolment reaches them all. `prefix` qualifies each column (e.g. 'enrolments.').

        select pupil_key, {{ enrolment_programme_columns() }}, start_date from enrolments
-#}
{% macro enrolment_programme_columns(prefix='') -%}
    {%- for column in [
        'main_structure_code', 'education_level', 'education_type', 'programme',
        'administrative_group', 'study_year', 'grade', 'education_form', 'finality',
        'learning_path',
    ] -%}
        {{ prefix }}{{ column }}{{ ",\n        " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#-
    The placement columns of a pupil's enrolment: the programme columns above plus the study
    direction, special-education type, training form and newcomer flags, as the pupil enrolment
    models (int_pupil_enrolments, int_pupil_counting_date_enrolments, pupil_year_counting_date)
    carry them.
-#}
{% macro pupil_enrolment_placement_columns(prefix='') -%}
    {{ enrolment_programme_columns(prefix) }},
        {% for column in [
        'study_direction', 'special_education_type', 'training_form', 'is_newcomer',
        'was_newcomer',
    ] -%}
        {{ prefix }}{{ column }}{{ ",\n        " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
