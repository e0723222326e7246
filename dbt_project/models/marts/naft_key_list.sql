{#-
    The key list of naft_evaluation art. 6, step 1: "Opgroeien bezorgt DOV een lijst met de
    rijksregisternummers van de betrokken NAFT-leerlingen. Aan elk rijkregisternummer is een
    gepseudonimiseerd nummer ('dom nummer') gekoppeld." One row per NAFT pupil: the keyed pupil
    key only (its national number stays in the vault, its dom nummer is derived from it at
    delivery). No BINC variable crosses: this list is the one way from the BINC side to the DOV
    side, and DOV needs it for one thing, delimiting the control group (step 2).
-#}
with

beneficiaries as (

    select * from {{ ref('stg_binc_naft_beneficiaries') }}

),

final as (

    select distinct pupil_key
    from beneficiaries

)

select * from final
