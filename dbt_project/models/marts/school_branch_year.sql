{#-
    One row per school branch per school year: where it is, who runs it, and its pupil figures.
    Counts are kept next to every rate (numerator and denominator), so school_year can add
    branches up and compute its own rates.
-#}
{%- set zorgthuis_dates = ['october', 'january', 'february', 'may'] -%}
with

branch_years as (

    select * from {{ ref('int_school_branch_years') }}

),

headcounts as (

    select * from {{ ref('int_school_branch_year_headcounts') }}

),

capacity as (

    select * from {{ ref('school_year_capacity') }}

),

attests as (

    select * from {{ ref('int_school_branch_year_attests') }}

),

leavers as (

    select * from {{ ref('int_school_branch_year_leavers') }}

),

zorgthuis as (

    select * from {{ ref('int_school_branch_year_zorgthuis') }}

),

pupil_zorgthuis as (

    select * from {{ ref('int_pupil_zorgthuis') }}

),

school_leaving as (

    select * from {{ ref('int_pupil_school_leaving') }}

),

branch_places as (

    select
        school_number,
        branch_number,
        school_year,
        cast(sum(available_places) as bigint) as available_places
    from capacity
    group by school_number, branch_number, school_year

),

-- which zorgthuis counting dates have a list: elsewhere the counts are unknown, not zero
zorgthuis_lists_available as (

    select
        school_year,
        {%- for month_name in zorgthuis_dates %}
        bool_or(counting_date_name = 'zorgthuis_{{ month_name }}') as {{ month_name }}_list_available
        {{- "," if not loop.last }}
        {%- endfor %}
    from pupil_zorgthuis
    group by school_year

),

zorgthuis_wide as (

    select
        school_number,
        branch_number,
        school_year,
        {%- for month_name in zorgthuis_dates %}
        cast(sum(zorgthuis_pupils) filter (where counting_date_name = 'zorgthuis_{{ month_name }}') as bigint)
            as {{ month_name }}_pupils,
        cast(sum(zorgthuis_non_voluntary_mfc_pupils) filter (where counting_date_name = 'zorgthuis_{{ month_name }}') as bigint)
            as {{ month_name }}_non_voluntary_mfc_pupils,
        cast(sum(zorgthuis_weighted_count) filter (where counting_date_name = 'zorgthuis_{{ month_name }}') as decimal(18, 1))
            as {{ month_name }}_weighted_count
        {{- "," if not loop.last }}
        {%- endfor %}
    from zorgthuis
    group by school_number, branch_number, school_year

),

-- leaving in the most recent school year is not known yet (a later enrolment may still come)
most_recent_school_year as (

    select max(leaving_school_year) as school_year from school_leaving

),

final as (

    select
        ----------  keys
        branch_years.school_number,
        branch_years.branch_number,
        branch_years.school_year,

        ----------  school
        branch_years.school_name,
        branch_years.school_level_code,
        branch_years.school_network_code,
        branch_years.school_network_label,
        branch_years.network,
        branch_years.umbrella_organisation,
        branch_years.is_school_in_register,

        ----------  branch
        branch_years.branch_name,
        branch_years.is_main_branch,
        branch_years.is_branch_in_register,
        branch_years.postcode,
        branch_years.municipality_nis_code,
        branch_years.municipality_name,
        branch_years.province_name,
        branch_years.urbanisation,
        branch_years.urbanisation_label,

        ----------  pupils on the first school day of February and places
        coalesce(headcounts.enrolled_pupils, 0) as enrolled_pupils,
        branch_places.available_places,
        case
            when branch_places.available_places > 0
                then coalesce(headcounts.enrolled_pupils, 0) / branch_places.available_places
        end as occupancy_rate,

        ----------  OKI
        coalesce(headcounts.oki_known_pupils, 0) as oki_known_pupils,
        coalesce(headcounts.oki_score_sum, 0) as oki_score_sum,
        case
            when headcounts.oki_known_pupils > 0
                then headcounts.oki_score_sum / headcounts.oki_known_pupils
        end as school_oki,

        ----------  attests
        coalesce(attests.a_attests, 0) as a_attests,
        coalesce(attests.b_attests, 0) as b_attests,
        coalesce(attests.c_attests, 0) as c_attests,
        coalesce(attests.abc_attests, 0) as abc_attests,
        case when attests.abc_attests > 0 then attests.a_attests / attests.abc_attests end as pass_rate,

        ----------  leavers of a qualifying secondary track (school of the last enrolment)
        case
            when branch_years.school_year < most_recent_school_year.school_year
                then coalesce(leavers.early_school_leavers, 0)
        end as early_school_leavers,
        case
            when branch_years.school_year < most_recent_school_year.school_year
                then coalesce(leavers.qualified_leavers, 0)
        end as qualified_leavers,
        case
            when
                branch_years.school_year < most_recent_school_year.school_year
                and leavers.early_school_leavers + leavers.qualified_leavers > 0
                then leavers.early_school_leavers / (leavers.early_school_leavers + leavers.qualified_leavers)
        end as dropout_rate,

        ----------  zorgthuis per counting date: pupils, of whom in non-voluntary MFC care, weighted
        {%- for month_name in zorgthuis_dates %}
        case
            when zorgthuis_lists_available.{{ month_name }}_list_available
                then coalesce(zorgthuis_wide.{{ month_name }}_pupils, 0)
        end as zorgthuis_{{ month_name }}_pupils,
        case
            when zorgthuis_lists_available.{{ month_name }}_list_available
                then coalesce(zorgthuis_wide.{{ month_name }}_non_voluntary_mfc_pupils, 0)
        end as zorgthuis_{{ month_name }}_non_voluntary_mfc_pupils,
        case
            when zorgthuis_lists_available.{{ month_name }}_list_available
                then coalesce(zorgthuis_wide.{{ month_name }}_weighted_count, 0)
        end as zorgthuis_{{ month_name }}_weighted_count
        {{- "," if not loop.last }}
        {%- endfor %}

    from branch_years
    cross join most_recent_school_year
    left join headcounts
        on
            branch_years.school_number = headcounts.school_number
            and branch_years.branch_number = headcounts.branch_number
            and branch_years.school_year = headcounts.school_year
    left join branch_places
        on
            branch_years.school_number = branch_places.school_number
            and branch_years.branch_number = branch_places.branch_number
            and branch_years.school_year = branch_places.school_year
    left join attests
        on
            branch_years.school_number = attests.school_number
            and branch_years.branch_number = attests.branch_number
            and branch_years.school_year = attests.school_year
    left join leavers
        on
            branch_years.school_number = leavers.school_number
            and branch_years.branch_number = leavers.branch_number
            and branch_years.school_year = leavers.school_year
    left join zorgthuis_lists_available
        on branch_years.school_year = zorgthuis_lists_available.school_year
    left join zorgthuis_wide
        on
            branch_years.school_number = zorgthuis_wide.school_number
            and branch_years.branch_number = zorgthuis_wide.branch_number
            and branch_years.school_year = zorgthuis_wide.school_year

)

select * from final
where {{ in_school_year_window() }}
