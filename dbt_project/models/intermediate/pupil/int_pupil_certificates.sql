{#-
    One row per LED certificate (latest delivered version of each certificate reference), with the
    school year of its issue date and whether it is a secondary qualification in the sense of the
    early-school-leaving indicator (docs: obtained_secondary_qualification).
-#}
with

latest_versions as (

    select * from {{ ref('int_led_latest_certificates') }}

),

classified as (

    select
        *,
        case
            when certificate_state is not distinct from 'Tussenbewijs' then null
            when certificate_type = 'Diploma' and category = 'Secundair onderwijs'
                then 'diploma_secondary_education'
            when
                certificate_type = 'Studiegetuigschrift'
                and (
                    certificate_full_name ilike '%tweede leerjaar van de derde graad%beroepssecundair%'
                    or (education_form = 'BSO' and grade = '3de graad')
                )
                then 'studiegetuigschrift_bso_third_grade'
            when
                certificate_full_name ilike '%eindgetuigschrift%deeltijds beroepssecundair%'
                then 'eindgetuigschrift_dbso'
            when
                school_type = 'Buitengewoon'
                and certificate_full_name ilike '%opleidingsvorm 3%'
                then 'buso_ov3_getuigschrift'
        end as secondary_qualification_kind
    from latest_versions

),

final as (

    select
        certificate_reference,
        pupil_key,
        issue_date,
        coalesce(
            cast(
                case when month(issue_date) >= 9 then year(issue_date) else year(issue_date) - 1 end
                as varchar
            ) || '-' || lpad(cast(
                (case when month(issue_date) >= 9 then year(issue_date) else year(issue_date) - 1 end
                + 1) % 100 as varchar), 2, '0'),
            school_year
        ) as issue_school_year,
        status_code,
        status_code = 1 as is_registered,
        certificate_type,
        certificate_state,
        category,
        grade,
        education_form,
        school_type,
        certificate_full_name,
        vks_level,
        try_cast(vks_level as integer) as vks_level_number,
        institution_number,
        secondary_qualification_kind,
        -- only registered certificates count; an annulled one (status 10) never does
        coalesce(status_code = 1 and secondary_qualification_kind is not null, false)
            as is_secondary_qualification
    from classified

)

select * from final
