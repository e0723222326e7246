-- DUO registrations the linkage could not attach to a Rijksregister child (protocol
-- duo_leerplicht): the review queue of the compulsory-education cell, with the DUO record's
-- reference date and Dutch school. No names or addresses: those stay in the vault.

with

duo_review as (

    select * from {{ source('linkage', 'duo_review') }}

),

duo_registrations as (

    select * from {{ ref('stg_duo_registrations') }}

),

final as (

    select
        duo_review.record_key,
        duo_review.peildatum as reference_date,
        duo_registrations.school_year,
        duo_review.reason,
        duo_review.detail,
        duo_review.best_score,
        duo_review.candidate_count,
        duo_review.rijksregister_date,
        duo_registrations.brin_code,
        duo_registrations.institution_name
    from duo_review
    left join duo_registrations
        on
            duo_review.record_key = duo_registrations.record_key
            and duo_review.peildatum = duo_registrations.reference_date

)

select * from final
