-- Fails when the staging split of a hoofdstructuur code (macro main_structure_parts) disagrees
-- with the code list seed `main_structure` for a listed code. For the data steward: level, type
-- and programme in staging would then contradict the published code list; correct whichever of
-- the two is wrong (macros/staging/main_structure.sql or seeds/codes/main_structure.csv).
with

seed as (

    select code, education_level, education_type, programme
    from {{ ref('main_structure') }}

),

split as (

    select
        code,
        {{ main_structure_parts('code') }}
    from seed

)

select seed.code
from seed
inner join split using (code)
where
    seed.education_level is distinct from split.education_level
    or seed.education_type is distinct from split.education_type
    or seed.programme is distinct from split.programme
