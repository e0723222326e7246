{#-
    The work list of the compulsory-education cell: one row per child of compulsory school age in
    the Rijksregister extract found in no Flemish enrolment and in no linked DUO record, per DUO
    reference date (15 October, 15 December, 15 February). The CANDIDATE for manual checking is
    a DUO record of the same date that the linkage could not attach and that the linkage itself
    proposed for this child (linkage.duo_review_candidates: compared on names, birth date and
    address), agreeing on the birth date and on a name, never on the birth date alone: at most
    one, the best match weight. Keyed by pupil_key and the Rijksregister record; identities stay
    in the vault.
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

review_candidates as (

    select * from {{ source('linkage', 'duo_review_candidates') }}

),

found_nowhere as (

    select *
    from status
    where
        is_compulsory_school_age
        and status = 'found_nowhere'
        and duo_reference_date_name is not null

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

-- the linkage's own candidates for the child among the unlinked DUO records of the date: a
-- pair the Fellegi-Sunter comparison proposed, agreeing on the birth date (exact or a typo) and
-- on the surname or the first names; at most one, the best match weight, then the record key
candidates as (

    select
        review_candidates.pupil_key,
        duo_review.reference_date,
        duo_review.record_key,
        duo_review.brin_code,
        duo_review.institution_name
    from review_candidates
    inner join duo_review
        on
            review_candidates.record_key = duo_review.record_key
            and review_candidates.peildatum = duo_review.reference_date
    where
        review_candidates.birth_date_level not in ('different', 'null')
        and (
            review_candidates.surname_level not in ('different', 'null')
            or review_candidates.first_names_level not in ('different', 'null')
        )
    qualify row_number() over (
        partition by review_candidates.pupil_key, duo_review.reference_date
        order by review_candidates.match_weight desc, duo_review.record_key
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
