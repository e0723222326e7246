-- zorgthuis, verification list: every pupil on a zorgthuis list (provisional and definitive) per
-- counting date from school year 2022-23, with the MFC flag and the enrolment (school and branch)
-- AGODI's own data place the pupil in on that date. Keyed by pupil_key: the INSZ the protocol
-- allows is taken from the vault by the delivery writer at delivery time and never enters dbt.

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
        cast(listed.pupil_key as varchar) as pupil_key,
        cast(zorgthuis_dates.school_year as varchar) as school_year,
        cast(zorgthuis_dates.counting_date_name as varchar) as counting_date_name,
        cast(listed.counting_date as date) as counting_date,
        cast(listed.list_kind as varchar) as list_kind,
        cast(listed.has_non_voluntary_mfc_care as boolean) as mfc_non_voluntary,
        cast(enrolments_on_date.school_number as varchar) as institution_number,
        cast(enrolments_on_date.branch_number as integer) as branch_number
    from listed
    inner join zorgthuis_dates
        on listed.counting_date = zorgthuis_dates.counting_date
    left join enrolments_on_date
        on
            listed.pupil_key = enrolments_on_date.pupil_key
            and listed.counting_date = enrolments_on_date.counting_date
            and zorgthuis_dates.counting_date_name = enrolments_on_date.counting_date_name
    where {{ in_delivery_period('zorgthuis_dates.school_year') }}

)

select * from final
