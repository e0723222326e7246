{#-
    One row per pupil and school year enrolled in nursery, primary or secondary education (the
    pupils of vtc_2015_34's social planning), with the education level as the protocols write it
    (KLEUTER, LAGER, SECUNDAIR).
-#}
with

pupil_years as (

    select * from {{ ref('pupil_year') }}

),

final as (

    select
        pupil_key,
        school_year,
        upper(education_level) as education_level_code
    from pupil_years
    where education_level in ('kleuter', 'lager', 'secundair')

)

select * from final
