{#-
    One row per pupil per school year with at least one enrolment. Assembles the intermediate
    pupil models; indicator logic lives there (each has unit tests), this model only joins.
    Counting-date columns (whether and where, computed in int_pupil_years) are listed below:
    prefix -> counting_date_name; the full enrolment per date is in pupil_year_counting_date.
-#}
{%- set counting_dates = pupil_counting_dates() -%}
{%- set zorgthuis_dates = ['october', 'january', 'february', 'may'] -%}
with

-- every column of int_pupil_years with school delay and progression added (a chain, not a
-- join per indicator: see int_pupil_year_school_delay)
pupil_years as (

    select * from {{ ref('int_pupil_year_progression') }}

),

oki as (

    select * from {{ ref('int_pupil_year_oki') }}

),

certificates as (

    select * from {{ ref('int_pupil_year_certificates') }}

),

school_leaving as (

    select * from {{ ref('int_pupil_school_leaving') }}

),

zorgthuis as (

    select * from {{ ref('int_pupil_zorgthuis') }}

),

duo as (

    select * from {{ ref('int_pupil_year_duo') }}

),

duo_school_years as (

    select * from {{ ref('int_duo_linked_school_years') }}

),

attests as (

    select * from {{ ref('int_pupil_year_attests') }}

),

absences as (

    select * from {{ ref('int_pupil_year_absences') }}

),

-- school years with data from a source: outside them a flag is unknown (null), not false
zorgthuis_lists_available as (

    select
        school_year,
        {%- for month_name in zorgthuis_dates %}
        bool_or(counting_date_name = 'zorgthuis_{{ month_name }}') as {{ month_name }}_list_available
        {{- "," if not loop.last }}
        {%- endfor %}
    from zorgthuis
    group by school_year

),

zorgthuis_wide as (

    select
        pupil_key,
        school_year,
        {%- for month_name in zorgthuis_dates %}
        bool_or(counting_date_name = 'zorgthuis_{{ month_name }}') as on_{{ month_name }}_list,
        bool_or(has_non_voluntary_mfc_care) filter (
            where counting_date_name = 'zorgthuis_{{ month_name }}'
        ) as {{ month_name }}_mfc_non_voluntary
        {{- "," if not loop.last }}
        {%- endfor %}
    from zorgthuis
    group by pupil_key, school_year

),

-- one column of the table under pupil_years: reading pupil_years a second time would make
-- DuckDB materialise every pupil-year with all its columns (and its self-join) first
most_recent_school_year as (

    select max(school_year) as school_year from {{ ref('int_pupil_years') }}

),

final as (

    select
        ----------  keys
        pupil_years.pupil_key,
        pupil_years.school_year,

        ----------  pupil
        pupil_years.birth_date,
        pupil_years.birth_year,
        pupil_years.gender,
        pupil_years.nationality,
        pupil_years.residence_nis_code,
        pupil_years.residence_postcode,

        ----------  OKI
        oki.has_non_dutch_home_language,
        oki.has_low_educated_mother,
        oki.received_school_allowance,
        oki.lives_in_high_delay_neighbourhood,
        oki.oki_score,

        ----------  main enrolment of the year
        pupil_years.main_enrolment_basis,
        pupil_years.main_enrolment_id,
        pupil_years.school_number,
        pupil_years.branch_number,
        pupil_years.main_structure_code,
        pupil_years.education_level,
        pupil_years.education_type,
        pupil_years.programme,
        pupil_years.administrative_group,
        pupil_years.study_year,
        pupil_years.grade,
        pupil_years.education_form,
        pupil_years.finality,
        pupil_years.learning_path,
        pupil_years.study_direction,
        pupil_years.special_education_type,
        pupil_years.training_form,
        pupil_years.n_enrolments,
        pupil_years.first_start_date,
        pupil_years.last_end_date,

        ----------  counting dates
        {%- for prefix, name in counting_dates %}
        pupil_years.{{ prefix }}_enrolled,
        pupil_years.{{ prefix }}_school_number,
        pupil_years.{{ prefix }}_branch_number,
        {%- endfor %}

        ----------  (OK)AN
        pupil_years.is_newcomer,
        pupil_years.was_newcomer,
        pupil_years.has_okan_enrolment,

        ----------  school delay
        pupil_years.expected_study_year,
        pupil_years.school_delay_years,
        pupil_years.school_delay_exclusion_reason,

        ----------  progress
        pupil_years.repeated_year,
        pupil_years.repeated_year_exclusion_reason,
        pupil_years.n_schools,
        pupil_years.changed_school_during_year,
        pupil_years.changed_school_since_previous_year,

        ----------  attest
        attests.attest_code,
        attests.attest_restriction,
        attests.attest_date,
        attests.attest_school_number,
        coalesce(attests.attest_count, 0) as attest_count,

        ----------  certificates and qualifications obtained this school year
        coalesce(certificates.certificate_count, 0) as certificate_count,
        certificates.highest_certificate_type,
        certificates.highest_certificate_name,
        certificates.highest_certificate_vks_level,
        coalesce(certificates.obtained_secondary_qualification, false)
            as obtained_secondary_qualification,

        ----------  early school leaving
        school_leaving.school_leaving_status,
        case
            when pupil_years.school_year = most_recent_school_year.school_year then null
            when school_leaving.school_leaving_status = 'birth_date_unknown' then null
            else coalesce(school_leaving.school_leaving_status = 'early_school_leaver', false)
        end as is_early_school_leaver,

        ----------  absences (half days)
        absences.expected_half_days,
        absences.absent_half_days,
        absences.unjustified_absent_half_days,
        absences.long_absence_count,
        absences.long_absence_days,
        case
            when absences.expected_half_days > 0
                then absences.absent_half_days / absences.expected_half_days
        end as absence_rate,

        ----------  zorgthuis
        {%- for month_name in zorgthuis_dates %}
        case
            when zorgthuis_lists_available.{{ month_name }}_list_available
                then coalesce(zorgthuis_wide.on_{{ month_name }}_list, false)
        end as zorgthuis_{{ month_name }},
        case
            when zorgthuis_lists_available.{{ month_name }}_list_available
                then coalesce(zorgthuis_wide.{{ month_name }}_mfc_non_voluntary, false)
        end as zorgthuis_{{ month_name }}_mfc_non_voluntary,
        {%- endfor %}

        ----------  schooling in the Netherlands (DUO)
        case
            when duo_school_years.school_year is not null then duo.pupil_key is not null
        end as schooled_in_netherlands,
        duo.duo_reference_date_count

    -- pupils are matched on hash(pupil_key), a 64-bit integer, instead of the 64-character key:
    -- the hash tables of the joins then hold 8 bytes per row instead of a string, which at full
    -- scale halves the memory the joins need and lets them spill. A collision between two
    -- pupils' keys would mix them up: the test assert_pupil_key_hashes_are_distinct stops the
    -- build before this model when one occurs.
    from pupil_years
    cross join most_recent_school_year
    left join oki
        on
            hash(pupil_years.pupil_key) = hash(oki.pupil_key)
            and pupil_years.school_year = oki.school_year
    left join attests
        on
            hash(pupil_years.pupil_key) = hash(attests.pupil_key)
            and pupil_years.school_year = attests.school_year
    left join certificates
        on
            hash(pupil_years.pupil_key) = hash(certificates.pupil_key)
            and pupil_years.school_year = certificates.school_year
    left join school_leaving
        on
            hash(pupil_years.pupil_key) = hash(school_leaving.pupil_key)
            and pupil_years.school_year = school_leaving.leaving_school_year
    left join absences
        on
            hash(pupil_years.pupil_key) = hash(absences.pupil_key)
            and pupil_years.school_year = absences.school_year
    left join zorgthuis_lists_available
        on pupil_years.school_year = zorgthuis_lists_available.school_year
    left join zorgthuis_wide
        on
            hash(pupil_years.pupil_key) = hash(zorgthuis_wide.pupil_key)
            and pupil_years.school_year = zorgthuis_wide.school_year
    left join duo_school_years
        on pupil_years.school_year = duo_school_years.school_year
    left join duo
        on
            hash(pupil_years.pupil_key) = hash(duo.pupil_key)
            and pupil_years.school_year = duo.school_year

)

select * from final
where {{ in_school_year_window() }}
