-- The compulsory-education period (leerplicht) of every birth date that occurs in the
-- Rijksregister extract or in Discimus: one small row per birth date, so every model that needs
-- the rule joins on birth_date instead of repeating it. Must equal
-- orchestration/foundations/calendar.py `leerplicht_period` (tests/integration/test_track_marts.py checks it).

with

children as (

    select * from {{ ref('stg_rijksregister_children') }}

),

enrolments as (

    select * from {{ ref('stg_discimus_enrolments') }}

),

birth_dates as (

    select birth_date from children where birth_date is not null
    union
    select birth_date from enrolments where birth_date is not null

),

parts as (

    select
        birth_date,
        year(birth_date) as birth_year,
        month(birth_date) as birth_month,
        day(birth_date) as birth_day
    from birth_dates

),

periods as (

    select
        birth_date,
        birth_year,
        -- 1 September of the year the child turns 5; before school year 2020-21 it was 6
        case
            when make_date(birth_year + 5, 9, 1) >= date '2020-09-01'
                then make_date(birth_year + 5, 9, 1)
            else make_date(birth_year + 6, 9, 1)
        end as compulsory_education_start_date,
        -- the 18th birthday; born on 29 February: 1 March in a common year
        case
            when
                birth_month = 2 and birth_day = 29
                and not (
                    (birth_year + 18) % 4 = 0
                    and ((birth_year + 18) % 100 != 0 or (birth_year + 18) % 400 = 0)
                )
                then make_date(birth_year + 18, 3, 1)
            else make_date(birth_year + 18, birth_month, birth_day)
        end as eighteenth_birthday
    from parts

),

final as (

    select
        birth_date,
        birth_year,
        compulsory_education_start_date,
        eighteenth_birthday,
        -- 30 June of the year the child turns 18, or the 18th birthday if that comes first
        least(eighteenth_birthday, make_date(birth_year + 18, 6, 30))
            as compulsory_education_end_date
    from periods

)

select * from final
