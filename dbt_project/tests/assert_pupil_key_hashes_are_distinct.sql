-- Fails when two different pupil keys have the same 64-bit hash(pupil_key). pupil_year and
-- int_pupil_year_progression match pupils on that hash instead of the 64-character key (to keep
-- their joins small at full scale); a collision would merge two pupils' figures. For the data
-- steward: the build stops before those models; the chance is about 1 in 25 million at
-- 1.2 million pupils, so a failure calls for matching on the key itself (revert the hash joins),
-- not for a data correction.
with

pupil_keys as (

    select distinct pupil_key from {{ ref('int_pupil_enrolments') }}

)

select hash(pupil_key) as pupil_key_hash, count(*) as pupil_keys
from pupil_keys
group by hash(pupil_key)
having count(*) > 1
