{#-
    One row per registered LED certificate (latest delivered version, status Geregistreerd), with
    every LED field: what the request answers of vtc_2015_31 and vtc_2015_35 list for a person.
-#}
with

latest_certificates as (

    select * from {{ ref('int_led_latest_certificates') }}

),

certificate_status as (

    select * from {{ ref('int_pupil_certificates') }}

),

final as (

    select latest_certificates.*
    from latest_certificates
    inner join certificate_status
        on latest_certificates.certificate_reference = certificate_status.certificate_reference
    where certificate_status.is_registered

)

select * from final
