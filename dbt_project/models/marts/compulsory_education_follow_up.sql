{#-
    The work list of the compulsory-education cell: one row per child of compulsory school age in
    the Rijksregister extract found in no Flemish enrolment and in no linked DUO record, per DUO
    reference date (15 October, 15 December, 15 February). A DUO record of the same date that the
    linkage could not attach and that shares the child's birth date is the CANDIDATE for manual
    checking (at most one: the lowest record key). Keyed by pupil_key and the Rijksregister
    record; identities stay in the vault.
-#}
with

status as (

    select * from {{ ref('compulsory_education_status') }}

),

children as (

    select * from {{ ref('stg_rijksregister_children') }}

),

duo_review as (

    select * from {{ ref('compulsory_education_duo_review') }}

),

duo_registrations as (

    select * from {{ ref('stg_duo_registrations') }}

),

found_nowhere as (

    select *
    from status
    where
        is_compulsory_school_age
        and status = 'found_nowhere'
        and duo_reference_date_name is not null

),

-- unlinked DUO records with their birth date, per reference date
unlinked_duo as (

    select
        duo_review.record_key,
        duo_review.reference_date,
        duo_registrations.birth_date,
        duo_review.brin_code,
        duo_review.institution_name
    from duo_review
    inner join duo_registrations
        on
            duo_review.record_key = duo_registrations.record_key
            and duo_review.reference_date = duo_registrations.reference_date

),

with_identity_record as (

    select
        found_nowhere.*,
        children.birth_date,
        children.source_file_sha256 as rijksregister_file_sha256,
        children.source_row as rijksregister_source_row
    from found_nowhere
    inner join children
        on
            found_nowhere.pupil_key = children.pupil_key
            and found_nowhere.reference_date = children.reference_date

),

-- at most one candidate per child and date: the same birth date, lowest record key first
candidates as (

    select
        with_identity_record.pupil_key,
        with_identity_record.reference_date,
        unlinked_duo.record_key,
        unlinked_duo.brin_code,
        unlinked_duo.institution_name
    from with_identity_record
    inner join unlinked_duo
        on
            with_identity_record.reference_date = unlinked_duo.reference_date
            and with_identity_record.birth_date = unlinked_duo.birth_date
    qualify row_number() over (
        partition by with_identity_record.pupil_key, with_identity_record.reference_date
        order by unlinked_duo.record_key
    ) = 1

),

final as (

    select
        with_identity_record.pupil_key,
        with_identity_record.rijksregister_file_sha256,
        with_identity_record.rijksregister_source_row,
        candidates.record_key as duo_record_key,
        with_identity_record.birth_date,
        with_identity_record.residence_postcode,
        with_identity_record.residence_nis_code,
        with_identity_record.school_year,
        with_identity_record.duo_reference_date_name,
        with_identity_record.reference_date,
        case when candidates.record_key is null then 'NO_MATCH' else 'CANDIDATE' end
            as duo_match_status,
        candidates.brin_code as duo_institution_number,
        candidates.institution_name as duo_institution_name
    from with_identity_record
    left join candidates
        on
            with_identity_record.pupil_key = candidates.pupil_key
            and with_identity_record.reference_date = candidates.reference_date

)

select * from final
