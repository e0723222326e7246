-- zorgthuis, verification list: every pupil on a zorgthuis list (provisional and definitive) per
-- counting date from school year 2022-23 (voluntary MFC care is no care home and never listed),
-- with the pupil's MFC residence and the enrolment (school and branch)
-- AGODI's own data place the pupil in on that date. Keyed by pupil_key: the INSZ the protocol
-- allows is taken from the vault by the delivery writer at delivery time and never enters dbt.

with

listed_pupils as (

    select * from {{ ref('zorgthuis_listed_pupil') }}

),

final as (

    select
        cast(pupil_key as varchar) as pupil_key,
        cast(school_year as varchar) as school_year,
        cast(counting_date_name as varchar) as counting_date_name,
        cast(counting_date as date) as counting_date,
        cast(list_kind as varchar) as list_kind,
        cast(mfc_residence as varchar) as mfc_residence,
        cast(school_number as varchar) as institution_number,
        cast(branch_number as integer) as branch_number
    from listed_pupils
    where {{ in_delivery_period('school_year') }}

)

select * from final
