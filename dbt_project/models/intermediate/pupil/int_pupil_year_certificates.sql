{#-
    Registered LED certificates per pupil and school year of issue: how many, the highest one and
    whether a secondary qualification was obtained (docs: obtained_secondary_qualification).
-#}
with

certificates as (

    select * from {{ ref('int_pupil_certificates') }}
    where is_registered

),

per_year as (

    select
        pupil_key,
        issue_school_year as school_year,
        count(*) as certificate_count,
        count(*) filter (where is_secondary_qualification) as secondary_qualification_count,
        bool_or(is_secondary_qualification) as obtained_secondary_qualification,
        -- highest: the highest VKS level, then a qualification, then the latest issued
        arg_max(
            struct_pack(certificate_type, certificate_full_name, vks_level, certificate_reference),
            struct_pack(
                vks_level_number := coalesce(vks_level_number, -1),
                is_secondary_qualification,
                issue_date,
                certificate_reference
            )
        ) as highest
    from certificates
    group by pupil_key, issue_school_year

),

final as (

    select
        pupil_key,
        school_year,
        certificate_count,
        secondary_qualification_count,
        obtained_secondary_qualification,
        highest.certificate_type as highest_certificate_type,
        highest.certificate_full_name as highest_certificate_name,
        highest.vks_level as highest_certificate_vks_level,
        highest.certificate_reference as highest_certificate_reference
    from per_year

)

select * from final
where {{ in_school_year_window() }}
