-- duo_leerplicht, parliamentary figures: the number of compulsory-age pupils domiciled in Belgium
-- who attend school in the Netherlands, per DUO reference date, province and municipality of
-- residence and birth year, from school year 2023-24: aggregated and anonymised data for
-- parliamentary questions and statistics. Residence is derived from the postcode (municipality
-- only when the postcode belongs to one municipality; the province from the postcode ranges
-- outside Flanders and Brussels). Exact counts here, from the microdata: the delivery writer
-- publishes them through orchestration.disclosure before they leave.

with

microdata as (

    select * from {{ ref('duo_leerplicht__parliamentary_figures__microdata') }}

),

final as (

    select
        cast(school_year as varchar) as school_year,
        cast(reference_date as date) as reference_date,
        cast(residence_province as varchar) as residence_province,
        cast(residence_municipality_nis_code as varchar) as residence_municipality_nis_code,
        cast(birth_year as integer) as birth_year,
        cast(count(distinct record_key) as integer) as pupil_count
    from microdata
    group by all

)

select * from final
