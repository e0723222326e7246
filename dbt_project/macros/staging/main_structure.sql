{#-
    Hoofdstructuur is a 3-digit code niveau + soort + programma (DOMAIN.md section 3):
    niveau 1 kleuter, 2 lager, 3 secundair, 4 hoger; soort 1 gewoon, 2 buitengewoon;
    programma 1 voltijds, 2 deeltijds beroepssecundair (dbso), 3 deeltijds secundair zeevisserij,
    6 deeltijds kunstonderwijs (dko), 7 sociale promotie.
    Emits three columns, null unless the code is 3 digits; a digit outside these lists gives null
    (e.g. programma 4 of code 314, meaning unknown) while the code itself is kept. The seed `main_structure` lists the known codes;
    the singular test assert_main_structure_split_matches_seed keeps both in step.
-#}
{% macro main_structure_parts(column_name) -%}
    {%- set code = "case when regexp_full_match(" ~ column_name ~ ", '[0-9]{3}') then " ~ column_name ~ " end" -%}
    case substr({{ code }}, 1, 1)
        when '1' then 'kleuter'
        when '2' then 'lager'
        when '3' then 'secundair'
        when '4' then 'hoger'
    end as education_level,
    case substr({{ code }}, 2, 1)
        when '1' then 'gewoon'
        when '2' then 'buitengewoon'
    end as education_type,
    case substr({{ code }}, 3, 1)
        when '1' then 'voltijds'
        when '2' then 'dbso'
        when '3' then 'zeevisserij'
        when '6' then 'dko'
        when '7' then 'sociale_promotie'
    end as programme
{%- endmacro %}
