{#-
    One row per pupil with a care home on a zorgthuis list (provisional or definitive) per
    zorgthuis counting date (first school day of October, 15 January, first school day of
    February, 15 May; a list sent again: the latest load wins), with the pupil's MFC residence
    and the enrolment (school, branch, education level) AGODI's own data place the pupil in on
    that date, if any. A pupil in voluntary MFC care is no pupil with a care home (art. 2: "met
    uitzondering van vrijwillige Jeugdhulpverlening in de multifunctionele centra"; art. 3:
    "moeten uitgesloten worden van de berekeningen") and has no row.
-#}
with

lists as (

    select * from {{ ref('stg_zorgthuis_lists') }}

),

counting_dates as (

    select * from {{ ref('counting_dates') }}

),

enrolments_on_date as (

    select * from {{ ref('pupil_year_counting_date') }}

),

-- the four zorgthuis counting dates, under the protocol's names
zorgthuis_dates as (

    select
        school_year,
        counting_date_name,
        cast(counting_date as date) as counting_date
    from counting_dates
    where counting_date_name in (
        'first_school_day_of_october', 'january_15', 'first_school_day_of_february', 'may_15'
    )

),

-- one row per pupil, counting date and list kind (a list sent again: the latest load wins)
listed as (

    select *
    from lists
    qualify row_number() over (
        partition by pupil_key, counting_date, list_kind order by loaded_at desc, source_row
    ) = 1

),

final as (

    select
        listed.pupil_key,
        zorgthuis_dates.school_year,
        zorgthuis_dates.counting_date_name,
        listed.counting_date,
        listed.list_kind,
        listed.mfc_residence,
        listed.has_non_voluntary_mfc_care,
        enrolments_on_date.school_number,
        enrolments_on_date.branch_number,
        enrolments_on_date.education_level
    from listed
    inner join zorgthuis_dates
        on listed.counting_date = zorgthuis_dates.counting_date
    left join enrolments_on_date
        on
            listed.pupil_key = enrolments_on_date.pupil_key
            and listed.counting_date = enrolments_on_date.counting_date
            and zorgthuis_dates.counting_date_name = enrolments_on_date.counting_date_name
    where not coalesce(listed.is_voluntary_mfc_care, false)

)

select * from final
