{#-
    One row per school per school year: the school's description (location of its main branch)
    and its pupil figures, added up over its branches, with the school-level rates.
-#}
{%- set zorgthuis_dates = ['october', 'january', 'february', 'may'] -%}
{%- set summed = ['enrolled_pupils', 'available_places', 'oki_known_pupils', 'oki_score_sum',
                  'a_attests', 'b_attests', 'c_attests', 'abc_attests',
                  'early_school_leavers', 'qualified_leavers'] -%}
with

branch_years as (

    select * from {{ ref('school_branch_year') }}

),

absences as (

    select * from {{ ref('int_school_year_absences') }}

),

main_branches as (

    select * from branch_years where is_main_branch

),

-- sum() over the branches keeps null when every branch is null (unknown stays unknown)
school_totals as (

    select
        school_number,
        school_year,
        count(*) as branch_count,
        {%- for column in summed %}
        cast(sum({{ column }}) as bigint) as {{ column }},
        {%- endfor %}
        {%- for month_name in zorgthuis_dates %}
        cast(sum(zorgthuis_{{ month_name }}_pupils) as bigint) as zorgthuis_{{ month_name }}_pupils,
        cast(sum(zorgthuis_{{ month_name }}_non_voluntary_mfc_pupils) as bigint) as zorgthuis_{{ month_name }}_non_voluntary_mfc_pupils,
        cast(sum(zorgthuis_{{ month_name }}_weighted_count) as decimal(18, 1)) as zorgthuis_{{ month_name }}_weighted_count
        {{- "," if not loop.last }}
        {%- endfor %}
    from branch_years
    group by school_number, school_year

),

final as (

    select
        ----------  keys
        school_totals.school_number,
        school_totals.school_year,

        ----------  school, and the location of its main branch
        main_branches.school_name,
        main_branches.school_level_code,
        main_branches.school_network_code,
        main_branches.school_network_label,
        main_branches.network,
        main_branches.umbrella_organisation,
        main_branches.is_school_in_register,
        main_branches.branch_number as main_branch_number,
        main_branches.postcode,
        main_branches.municipality_nis_code,
        main_branches.municipality_name,
        main_branches.province_name,
        main_branches.urbanisation,
        main_branches.urbanisation_label,
        school_totals.branch_count,

        ----------  pupils on the first school day of February and places
        school_totals.enrolled_pupils,
        school_totals.available_places,
        case
            when school_totals.available_places > 0
                then school_totals.enrolled_pupils / school_totals.available_places
        end as occupancy_rate,

        ----------  OKI
        school_totals.oki_known_pupils,
        school_totals.oki_score_sum,
        case
            when school_totals.oki_known_pupils > 0
                then school_totals.oki_score_sum / school_totals.oki_known_pupils
        end as school_oki,

        ----------  attests
        school_totals.a_attests,
        school_totals.b_attests,
        school_totals.c_attests,
        school_totals.abc_attests,
        case
            when school_totals.abc_attests > 0 then school_totals.a_attests / school_totals.abc_attests
        end as pass_rate,

        ----------  absences (half days)
        absences.pupils_with_absence_record,
        absences.expected_half_days,
        absences.absent_half_days,
        absences.unjustified_absent_half_days,
        case
            when absences.expected_half_days > 0
                then absences.absent_half_days / absences.expected_half_days
        end as absence_rate,
        case
            when absences.expected_half_days > 0
                then 1 - absences.absent_half_days / absences.expected_half_days
        end as presence_rate,

        ----------  leavers of a qualifying secondary track
        school_totals.early_school_leavers,
        school_totals.qualified_leavers,
        case
            when school_totals.early_school_leavers + school_totals.qualified_leavers > 0
                then school_totals.early_school_leavers
                / (school_totals.early_school_leavers + school_totals.qualified_leavers)
        end as dropout_rate,

        ----------  zorgthuis per counting date: pupils, of whom in non-voluntary MFC care, weighted
        {%- for month_name in zorgthuis_dates %}
        school_totals.zorgthuis_{{ month_name }}_pupils,
        school_totals.zorgthuis_{{ month_name }}_non_voluntary_mfc_pupils,
        school_totals.zorgthuis_{{ month_name }}_weighted_count
        {{- "," if not loop.last }}
        {%- endfor %}

    from school_totals
    left join main_branches
        on
            school_totals.school_number = main_branches.school_number
            and school_totals.school_year = main_branches.school_year
    left join absences
        on
            school_totals.school_number = absences.school_number
            and school_totals.school_year = absences.school_year

)

select * from final
where {{ in_school_year_window() }}
