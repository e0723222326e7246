{#- The four OKI characteristics and the individual OKI score (docs: oki_score). -#}
with

characteristics as (

    select * from {{ ref('stg_discimus_pupil_characteristics') }}

),

final as (

    select
        pupil_key,
        school_year,
        has_non_dutch_home_language,
        has_low_educated_mother,
        received_school_allowance,
        lives_in_high_delay_neighbourhood,
        -- a missing flag makes the score unknown rather than lower (null + n is null)
        cast(has_non_dutch_home_language as integer)
        + cast(has_low_educated_mother as integer)
        + cast(received_school_allowance as integer)
        + cast(lives_in_high_delay_neighbourhood as integer) as oki_score
    from characteristics

)

select * from final
where {{ in_school_year_window() }}
