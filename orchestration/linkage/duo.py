"""DUO <-> Rijksregister linkage (protocol duo_leerplicht): the DUO register carries no INSZ.

A wrong automatic link is the worst error this warehouse can make: the child counts as schooled
in the Netherlands through someone else's registration and disappears from the follow-up list.
So the linkage links automatically only when the evidence points to one child and no other comes
close; everything else goes to the compulsory-education cell's review queue, with its candidates.

For every DUO reference date (``peildatum``) each DUO record is compared with the Rijksregister
extract of the same reference date, or else the nearest earlier one. The outcome per record is
one of

- a **link** (``linkage.duo_links``): ``match_method`` ``exact`` (every comparison at its exact
  level), ``fuzzy`` (the Fellegi-Sunter model of :mod:`orchestration.linkage.model` gives the
  best candidate a posterior of at least ``LINK_PROBABILITY`` and no veto applies) or
  ``reviewed`` (a reviewer decided this pair is the same child, on this or an earlier date);
- a **review** case (``linkage.duo_review``): ``no_candidate`` (no pair reaches
  ``CANDIDATE_WEIGHT``), ``uncertain`` (``detail`` says why: ``near_tie``, ``weak_evidence``
  or the vetoed level, e.g. ``first_names:share_a_name_only``, ``address:other_postcode``) or
  ``conflict`` (the child is linked to another DUO record of the same date), with every
  candidate in ``linkage.duo_review_candidates`` (pupil key, weight, posterior and the level of
  each comparison: no names) and the decision options.

A reviewer's decision (:func:`record_decision`: ``same_child`` or ``different_child`` for one
candidate) goes to ``linkage.duo_review_decisions`` and is reused on every later reference date:
the DUO record key is DUO's fictitious number, stable across files.

How (everything set-based in DuckDB; no Python loop over records or pairs)
1. Read both sides of the reference date (raw rows joined with their identities in the vault)
   and normalise with SQL macros mirroring :func:`normalise`: diacritics, case, apostrophes,
   particles (``Van den Broeck`` = ``Vandenbroeck``; core ``broeck``), surname and first-name
   tokens.
2. Blocking: one equi-join on hashed keys; a pair is a candidate if it shares any key of
   :data:`BLOCKING_KEYS`: the birth date with day and month unordered plus the postcode, plus
   any name token (surname or first name, so swapped names and a part of a double surname
   meet), or plus the first three letters of the surname core or of the first first name
   (typos after the third letter, also after a move); postcode and birth year plus the surname
   core or the first first name (a typo in the birth day or month); the unordered pair (first
   surname token, first first name) with the postcode or the birth year; the birth year, first
   first name and the surname's last four letters (particles written otherwise, a birth-date
   typo and a move at once).
3. Comparison levels and match weights in SQL (:mod:`orchestration.linkage.model`).
4. Posterior per candidate, vetoes, conflicts and decisions in SQL; a reference date is
   recomputed whole in one transaction, so reruns give the same rows (``linked_at`` is kept for
   a link that did not change).

Privacy: names, first names, streets and house numbers are read from the vault into temporary
tables of this connection only. The warehouse gets record keys, pupil keys, dates, levels,
weights and counts.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from orchestration.linkage import model

log = logging.getLogger(__name__)

REASONS = ("no_candidate", "uncertain", "conflict")
DECISIONS = ("same_child", "different_child")
#: What a reviewer can answer for each case (per candidate: same or different child; or leave it).
DECISION_OPTIONS = ("same_child", "different_child", "leave_open")

# ------------------------------------------------------------------ normalisation

#: Letters NFKD does not decompose (and DuckDB's strip_accents neither), mapped by hand;
#: the ligatures only for DuckDB (NFKD splits them already).
SPECIAL_LETTERS = {"ø": "o", "ł": "l", "ß": "ss", "ı": "i", "đ": "d", "ð": "d", "æ": "ae",
                   "œ": "oe", "þ": "th", "ħ": "h", "ŀ": "l", "ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff"}
APOSTROPHES = "'’‘`´ʼ"  # dropped without a space: D'Hondt = Dhondt
#: Surname prefixes (Dutch/Flemish tussenvoegsels and common French/other particles); only
#: leading ones are stripped, and never the whole name.
SURNAME_PREFIXES = ("van", "von", "vom", "de", "der", "den", "des", "di", "da", "del", "della",
                    "dos", "du", "le", "la", "les", "l", "d", "t", "te", "ter", "ten", "op", "in",
                    "het", "vande", "vander", "vanden", "uit", "el", "al")
DUO_DATE = "%d-%m-%Y"
RR_DATE = "%d/%m/%Y"


def normalise(text: str | None) -> str:
    """The reference normalisation (the SQL macro ``lk_norm`` does the same in DuckDB):
    NFKD without combining marks, lower case, special letters mapped, apostrophes dropped,
    every other run of non-alphanumerics one space, trimmed."""
    if not text:
        return ""
    s = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    s = s.lower()
    for a, b in SPECIAL_LETTERS.items():
        s = s.replace(a, b)
    s = re.sub(f"[{APOSTROPHES}]", "", s)
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


def surname_forms(text: str | None) -> tuple[str, str]:
    """(whole surname without spaces, surname without leading prefixes and spaces).

    ``Van den Berg`` -> (``vandenberg``, ``berg``); ``D'Hondt`` -> (``dhondt``, ``dhondt``).
    """
    tokens = normalise(text).split()
    i = 0
    while i < len(tokens) and tokens[i] in SURNAME_PREFIXES:
        i += 1
    whole = "".join(tokens)
    return whole, ("".join(tokens[i:]) or whole)


def first_name_tokens(text: str | None) -> str:
    """First names as normalised tokens separated by one space."""
    return normalise(text)


def register_macros(con: duckdb.DuckDBPyConnection) -> None:
    """SQL twins of :func:`normalise` and :func:`surname_forms` (temporary, this connection)."""
    s = "lower(strip_accents(coalesce(s, '')))"
    for a, b in SPECIAL_LETTERS.items():
        s = f"replace({s}, '{a}', '{b}')"
    s = f"regexp_replace({s}, '[{APOSTROPHES.replace(chr(39), chr(39) * 2)}]', '', 'g')"
    con.execute(f"create or replace temp macro lk_norm(s) as "
                f"trim(regexp_replace({s}, '[^a-z0-9]+', ' ', 'g'))")
    prefixes = "|".join(SURNAME_PREFIXES)
    con.execute("create or replace temp macro lk_nospace(s) as replace(s, ' ', '')")
    con.execute(f"""
        create or replace temp macro lk_surname_core(n) as
        coalesce(nullif(replace(regexp_replace(n || ' ', '^(({prefixes}) )+', ''), ' ', ''), ''),
                 replace(n, ' ', ''))""")



# ------------------------------------------------------------------ schema

def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists linkage")
    con.execute("""
        create table if not exists linkage.duo_links (
            record_key varchar not null,     -- keyed hash of DUO's fictitious number
            peildatum date not null,         -- DUO reference date
            pupil_key varchar not null,      -- internal pupil key of the Rijksregister child
            match_method varchar not null,   -- exact | fuzzy | reviewed
            match_score double not null,     -- posterior probability of the link (1 reviewed)
            rijksregister_date date not null,-- reference date of the extract linked against
            linked_at timestamp not null)""")
    con.execute("alter table linkage.duo_links add column if not exists match_weight double")
    con.execute("""
        create table if not exists linkage.duo_review (
            record_key varchar not null,
            peildatum date not null,
            reason varchar not null,         -- no_candidate | uncertain | conflict
            best_score double,               -- posterior of the best candidate
            candidate_count integer not null,-- candidates shown (duo_review_candidates)
            rijksregister_date date,         -- extract linked against (null: none on or before)
            best_pupil_key varchar)          -- pupil key of the best candidate""")
    con.execute("alter table linkage.duo_review add column if not exists detail varchar")
    con.execute("alter table linkage.duo_review add column if not exists "
                "decision_options varchar[]")
    con.execute("""
        create table if not exists linkage.duo_review_candidates (
            record_key varchar not null,
            peildatum date not null,
            candidate_rank integer not null,  -- 1 = highest match weight
            pupil_key varchar not null,
            match_weight double not null,     -- bits: sum of log2(m/u) over the levels
            match_probability double not null,-- posterior among the candidates and 'absent'
            surname_level varchar not null,
            first_names_level varchar not null,
            birth_date_level varchar not null,
            address_level varchar not null,
            veto varchar)                     -- the level that forbids an automatic link""")
    con.execute("""
        create table if not exists linkage.duo_review_decisions (
            record_key varchar not null,
            pupil_key varchar not null,
            decision varchar not null,        -- same_child | different_child
            peildatum date not null,          -- reference date of the case decided
            decided_at timestamp not null)""")


# ------------------------------------------------------------------ one reference date

@dataclass
class DateResult:
    """Counts for one reference date: safe for logs and metadata (no personal values)."""

    peildatum: dt.date
    rijksregister_date: dt.date | None
    duo_records: int = 0
    rijksregister_children: int = 0
    candidate_pairs: int = 0
    linked_exact: int = 0
    linked_fuzzy: int = 0
    linked_reviewed: int = 0
    review_no_candidate: int = 0
    review_uncertain: int = 0
    review_conflict: int = 0
    review_detail: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def linked(self) -> int:
        return self.linked_exact + self.linked_fuzzy + self.linked_reviewed

    @property
    def to_review(self) -> int:
        return self.review_no_candidate + self.review_uncertain + self.review_conflict

    def as_dict(self) -> dict:
        d = asdict(self)
        d["peildatum"] = self.peildatum.isoformat()
        d["rijksregister_date"] = (self.rijksregister_date.isoformat()
                                   if self.rijksregister_date else None)
        return d


def duo_reference_dates(con: duckdb.DuckDBPyConnection) -> list[dt.date]:
    return [r[0] for r in con.execute(
        f"select distinct try_strptime(peildatum, '{DUO_DATE}')::date as d "
        f"from raw.duo_registrations where d is not null order by d").fetchall()]


def rijksregister_dates(con: duckdb.DuckDBPyConnection) -> list[dt.date]:
    return [r[0] for r in con.execute(
        f"select distinct try_strptime(referentiedatum, '{RR_DATE}')::date as d "
        f"from raw.rijksregister_children where d is not null order by d").fetchall()]


def extract_for(peildatum: dt.date, extracts: list[dt.date]) -> dt.date | None:
    """The Rijksregister extract of the same reference date, or else the nearest earlier one."""
    earlier = [d for d in extracts if d <= peildatum]
    return max(earlier) if earlier else None


def _read_sources(con: duckdb.DuckDBPyConnection, peildatum: dt.date, rr_date: dt.date) -> None:
    """``_lk_duo_src`` and ``_lk_rr_src``: key, birth date, names and address as delivered."""
    con.execute(f"""
        create or replace temp table _lk_duo_src as
        select r.record_key as key, try_strptime(r.geboortedatum, '{DUO_DATE}')::date as dob,
               i.achternaam as sn, i.voornamen as fn, i.straat as st, i.huisnummer as nr,
               coalesce(trim(r.postcode), '') as pc
        from raw.duo_registrations r
        join vault.identity_duo_registrations i
          on i._source_file_sha256 = r._source_file_sha256 and i._source_row = r._source_row
        where try_strptime(r.peildatum, '{DUO_DATE}')::date = $d and r.record_key is not null
        qualify row_number() over (partition by r.record_key order by r._source_row) = 1""",
                {"d": peildatum})
    con.execute(f"""
        create or replace temp table _lk_rr_src as
        select r.pupil_key as key, try_strptime(r.geboortedatum, '{RR_DATE}')::date as dob,
               i.naam as sn, i.voornamen as fn, i.straat as st, i.huisnummer as nr,
               coalesce(trim(r.postcode), '') as pc
        from raw.rijksregister_children r
        join vault.identity_rijksregister_children i
          on i._source_file_sha256 = r._source_file_sha256 and i._source_row = r._source_row
        where try_strptime(r.referentiedatum, '{RR_DATE}')::date = $d and r.pupil_key is not null
        qualify row_number() over (partition by r.pupil_key order by r._source_row) = 1""",
                {"d": rr_date})


def _features(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """``_lk_duo`` (row id ``did``) and ``_lk_rr`` (``rid``): the normalised fields the model
    compares (:data:`model.FEATURE_COLUMNS`) and the blocking fields.

    Names repeat a lot, so each distinct string is normalised once (``_lk_dict``) and joined
    back. Row ids are arbitrary; every tie-break uses the keys.
    """
    register_macros(con)
    prefixes = ", ".join(f"'{p}'" for p in SURNAME_PREFIXES)
    con.execute("""
        create or replace temp table _lk_dict as
        select s, lk_norm(s) as norm, lk_surname_core(lk_norm(s)) as core from (
            select sn as s from _lk_duo_src union select fn from _lk_duo_src
            union select st from _lk_duo_src union select nr from _lk_duo_src
            union select sn from _lk_rr_src union select fn from _lk_rr_src
            union select st from _lk_rr_src union select nr from _lk_rr_src)
        where s is not null""")
    for t, rowid in (("_lk_duo", "did"), ("_lk_rr", "rid")):
        con.execute(f"""
            create or replace temp table {t} as
            with x as (
                select row_number() over () as {rowid}, x.key as uid, x.dob,
                       nullif(x.pc, '') as pc,
                       nullif(replace(coalesce(s.norm, ''), ' ', ''), '') as sn,
                       nullif(coalesce(s.core, ''), '') as sn_core,
                       list_filter(string_split(coalesce(s.norm, ''), ' '),
                                   lambda w: length(w) >= 2 and not list_contains([{prefixes}], w))
                           as sn_words,
                       nullif(coalesce(f.norm, ''), '') as fn,
                       list_filter(string_split(coalesce(f.norm, ''), ' '), lambda w: w <> '')
                           as fn_tokens,
                       nullif(replace(coalesce(a.norm, ''), ' ', ''), '') as street,
                       nullif(replace(coalesce(n.norm, ''), ' ', ''), '') as nr,
                       []::varchar[] as fn_known  -- DUO side only, set below
                from {t}_src x
                left join _lk_dict s on s.s = x.sn left join _lk_dict f on f.s = x.fn
                left join _lk_dict a on a.s = x.st left join _lk_dict n on n.s = x.nr)
            select * exclude (sn_words),
                   case when len(sn_words) > 0 then sn_words
                        when sn_core is not null then [sn_core] else [] end as sn_tokens,
                   year(dob) * 10000 + least(month(dob), day(dob)) * 100
                       + greatest(month(dob), day(dob)) as dk,
                   year(dob) as birth_year,
                   case when len(sn_tokens) > 0 and len(fn_tokens) > 0 then
                        least(sn_tokens[1], fn_tokens[1]) || '|' || greatest(sn_tokens[1],
                        fn_tokens[1]) end as name_pair
            from x""")
        con.execute(f"drop table {t}_src")
    con.execute("drop table _lk_dict")
    # first names of at least two children in the extract: real names, not typos
    con.execute(f"""
        create or replace temp table _lk_vocab as
        select w from (select unnest(fn_tokens) as w from _lk_rr) group by w
        having count(*) >= {KNOWN_NAME_CHILDREN}""")
    con.execute("""
        create or replace temp table _lk_duo as
        select x.* exclude (fn_known), coalesce(k.known, []) as fn_known from _lk_duo x
        left join (select did, list(w order by w) as known
                   from (select did, unnest(fn_tokens) as w from _lk_duo)
                   semi join _lk_vocab using (w) group by did) k using (did)""")
    con.execute("drop table _lk_vocab")
    return (con.execute("select count(*) from _lk_duo").fetchone()[0],
            con.execute("select count(*) from _lk_rr").fetchone()[0])


def prepare(con: duckdb.DuckDBPyConnection, peildatum: dt.date, rr_date: dt.date
            ) -> tuple[int, int]:
    """Temp tables ``_lk_duo`` and ``_lk_rr`` of one reference date; returns their sizes."""
    _read_sources(con, peildatum, rr_date)
    return _features(con)


#: A first name borne by at least this many children of the extract is a real name: when DUO has
#: it and the child does not, it is another first name, not a typo of the child's.
KNOWN_NAME_CHILDREN = 2

#: Blocking keys: a pair is a candidate when DUO record and child share at least one key.
#: (name, SQL producing the key values of a record; several rows per record where unnested).
BLOCKING_KEYS = (
    ("birth date (day/month unordered) + postcode", "select {id}, hash('a', dk, pc) as k "
     "from {t} where dk is not null and pc is not null"),
    ("birth date (day/month unordered) + any name token",
     "select {id}, hash('t', dk, w) as k from (select {id}, dk, unnest(list_distinct("
     "sn_tokens || fn_tokens || [sn, sn_core])) as w from {t} where dk is not null) "
     "where w is not null"),
    ("birth date (day/month unordered) + first 3 letters of the surname without particles",
     "select {id}, hash('p', dk, left(sn_core, 3)) as k from {t} "
     "where dk is not null and sn_core is not null"),
    ("birth date (day/month unordered) + first 3 letters of the first first name",
     "select {id}, hash('q', dk, left(fn_tokens[1], 3)) as k from {t} "
     "where dk is not null and len(fn_tokens) > 0"),
    ("postcode + birth year + surname without particles",
     "select {id}, hash('s', pc, birth_year, sn_core) as k from {t} "
     "where pc is not null and birth_year is not null and sn_core is not null"),
    ("postcode + birth year + first first name",
     "select {id}, hash('f', pc, birth_year, fn_tokens[1]) as k from {t} "
     "where pc is not null and birth_year is not null and len(fn_tokens) > 0"),
    ("postcode + first surname token and first first name (unordered)",
     "select {id}, hash('n', pc, name_pair) as k from {t} "
     "where pc is not null and name_pair is not null"),
    ("birth year + first surname token and first first name (unordered)",
     "select {id}, hash('y', birth_year, name_pair) as k from {t} "
     "where birth_year is not null and name_pair is not null"),
    ("birth year + first first name + last 4 letters of the surname",
     "select {id}, hash('e', birth_year, fn_tokens[1], right(sn, 4)) as k "
     "from {t} where birth_year is not null and len(fn_tokens) > 0 and length(sn) >= 4"),
)


def _block(con: duckdb.DuckDBPyConnection) -> int:
    """``_lk_pairs``: the DUO records' keys are hashed into a small table; the children's keys
    stream through the join without being stored (millions of rows at full scale)."""
    def keys(t: str, rowid: str) -> str:
        union = " union all ".join(sql.format(id=rowid, t=t) for _, sql in BLOCKING_KEYS)
        return f"select {rowid}, k as h from ({union})"

    con.execute(f"create or replace temp table _lk_kd as {keys('_lk_duo', 'did')}")
    con.execute(f"""
        create or replace temp table _lk_pairs as
        select distinct d.did, r.rid from ({keys('_lk_rr', 'rid')}) r join _lk_kd d using (h)""")
    con.execute("drop table _lk_kd")
    return con.execute("select count(*) from _lk_pairs").fetchone()[0]


def _score(con: duckdb.DuckDBPyConnection, weights: dict | None = None) -> None:
    """``_lk_scored``: per candidate pair the level of each comparison and the match weight."""
    w = weights or model.weights()
    cols = [c for c in model.FEATURE_COLUMNS if c != "uid"]
    side = ", ".join(f"d.{c} as {c}_l, r.{c} as {c}_r" for c in cols)
    levels = ", ".join(f"{model.level_sql(c)} as {c.name}_level" for c in model.COMPARISONS)
    total = " + ".join(model.weight_sql(c, w) for c in model.COMPARISONS)
    vetoes = [f"when {c}_level = '{lv}' then '{c}:{lv}'"
              for c, lvs in model.VETO.items() for lv in lvs]
    exact = " and ".join(f"{c}_level = '{lv}'" for c, lv in model.EXACT.items())
    con.execute(f"""
        create or replace temp table _lk_scored as
        with p as (select p.did, p.rid, {side} from _lk_pairs p
                   join _lk_duo d using (did) join _lk_rr r using (rid)),
        l as (select did, rid, {levels} from p)
        select did, rid, {", ".join(f"{c.name}_level" for c in model.COMPARISONS)},
               round({total}, 6) as match_weight,
               case {" ".join(vetoes)} end as veto,
               {exact} as exact
        from l""")


def _classify(con: duckdb.DuckDBPyConnection, n_rr: int) -> None:
    """``_lk_candidates`` (shown to the reviewer) and ``_lk_outcome`` (per DUO record a link or
    a review reason), with the reviewers' earlier decisions applied."""
    prior = model.PRESENT_PRIOR / max(n_rr, 1)
    con.execute(f"""
        create or replace temp table _lk_decided as
        select record_key, pupil_key, decision from linkage.duo_review_decisions
        qualify row_number() over (partition by record_key, pupil_key
                                   order by decided_at desc, decision) = 1""")
    con.execute(f"""
        create or replace temp table _lk_candidates as
        with c as (
            select k.*, d.uid as record_key, r.uid as pupil_key
            from _lk_scored k join _lk_duo d using (did) join _lk_rr r using (rid)
            where k.match_weight >= {model.CANDIDATE_WEIGHT}
              and not exists (select 1 from _lk_decided x where x.record_key = d.uid
                              and x.pupil_key = r.uid and x.decision = 'different_child')),
        p as (
            select *, pow(2, match_weight) * {prior!r} as lr from c)
        select *, lr / (sum(lr) over (partition by did) + {1 - model.PRESENT_PRIOR!r})
                   as match_probability,
               row_number() over (partition by did order by match_weight desc, pupil_key)
                   as candidate_rank
        from p""")
    con.execute(f"""
        create or replace temp table _lk_outcome as
        with best as (
            select did,
                   max(match_probability) filter (where candidate_rank = 1) as best_score,
                   coalesce(sum(match_probability) filter (where candidate_rank > 1), 0)
                       as others_score,
                   max(rid) filter (where candidate_rank = 1) as best_rid,
                   max(match_weight) filter (where candidate_rank = 1) as best_weight,
                   max(veto) filter (where candidate_rank = 1) as best_veto,
                   bool_or(exact) filter (where candidate_rank = 1) as best_exact,
                   count(*) filter (where candidate_rank <= {model.MAX_CANDIDATES})
                       as candidate_count
            from _lk_candidates group by did),
        reviewed as (
            select d.did, min(r.rid) as reviewed_rid
            from _lk_decided x join _lk_duo d on d.uid = x.record_key
            join _lk_rr r on r.uid = x.pupil_key
            where x.decision = 'same_child' group by d.did having count(*) = 1),
        per_record as (
            select d.did, d.uid as record_key, b.best_score, b.best_weight,
                   coalesce(v.reviewed_rid, b.best_rid) as best_rid,
                   coalesce(b.candidate_count, 0) as candidate_count,
                   case when v.reviewed_rid is not null then 'reviewed'
                        when b.best_exact and b.best_veto is null then 'exact'
                        else 'fuzzy' end as match_method,
                   case
                       when v.reviewed_rid is not null then 'proposed'
                       when b.did is null then 'no_candidate'
                       when b.best_veto is not null then 'uncertain'
                       when b.best_score >= {model.LINK_PROBABILITY} then 'proposed'
                       else 'uncertain' end as status,
                   case
                       when v.reviewed_rid is not null then null
                       when b.did is null then null
                       when b.best_veto is not null then b.best_veto
                       when b.best_score >= {model.LINK_PROBABILITY} then null
                       -- short of certain because of other children, or of "not in the extract"
                       when b.others_score >= 1 - b.best_score - b.others_score then 'near_tie'
                       else 'weak_evidence' end as detail
            from _lk_duo d left join best b using (did)
            left join reviewed v using (did)),
        claimed as (
            select p.*, case when status = 'proposed' then row_number() over (
                       partition by case when status = 'proposed' then best_rid end
                       order by (match_method = 'reviewed') desc, best_score desc nulls last,
                                record_key) end as claim_rank
            from per_record p)
        select c.*, r.uid as pupil_key,
               case when c.status <> 'proposed' then c.status
                    when c.claim_rank = 1 then 'link' else 'conflict' end as outcome,
               case when c.status = 'proposed' and c.claim_rank > 1
                    then 'child_linked_to_another_record' else c.detail end as outcome_detail
        from claimed c left join _lk_rr r on r.rid = c.best_rid""")


def _write(con: duckdb.DuckDBPyConnection, peildatum: dt.date, rr_date: dt.date | None,
           now: dt.datetime) -> None:
    con.execute("begin")
    try:
        con.execute("create or replace temp table _lk_old as select * from linkage.duo_links "
                    "where peildatum = $d", {"d": peildatum})
        for t in ("duo_links", "duo_review", "duo_review_candidates"):
            con.execute(f"delete from linkage.{t} where peildatum = $d", {"d": peildatum})
        options = "[" + ", ".join(f"'{o}'" for o in DECISION_OPTIONS) + "]"
        if rr_date is not None:
            con.execute("""
                insert into linkage.duo_links (record_key, peildatum, pupil_key, match_method,
                    match_score, rijksregister_date, linked_at, match_weight)
                select n.record_key, $d, n.pupil_key, n.match_method,
                       case when n.match_method = 'reviewed' then 1.0 else n.best_score end, $rr,
                       coalesce(o.linked_at, $now), n.best_weight
                from _lk_outcome n
                left join _lk_old o on o.record_key = n.record_key and o.pupil_key = n.pupil_key
                     and o.match_method = n.match_method and o.rijksregister_date = $rr
                where n.outcome = 'link'""", {"d": peildatum, "rr": rr_date, "now": now})
            con.execute(f"""
                insert into linkage.duo_review (record_key, peildatum, reason, best_score,
                    candidate_count, rijksregister_date, best_pupil_key, detail,
                    decision_options)
                select record_key, $d, outcome, best_score, candidate_count, $rr,
                       case when outcome <> 'no_candidate' then pupil_key end, outcome_detail,
                       {options}
                from _lk_outcome where outcome <> 'link'""", {"d": peildatum, "rr": rr_date})
            con.execute(f"""
                insert into linkage.duo_review_candidates
                select c.record_key, $d, c.candidate_rank, c.pupil_key, c.match_weight,
                       c.match_probability, c.surname_level, c.first_names_level,
                       c.birth_date_level, c.address_level, c.veto
                from _lk_candidates c join _lk_outcome o using (did)
                where o.outcome <> 'link' and c.candidate_rank <= {model.MAX_CANDIDATES}""",
                        {"d": peildatum})
        else:  # no extract on or before this date: every record waits for review
            con.execute(f"""
                insert into linkage.duo_review (record_key, peildatum, reason, best_score,
                    candidate_count, rijksregister_date, best_pupil_key, detail,
                    decision_options)
                select distinct record_key, $d, 'no_candidate', null::double, 0, null::date,
                       null::varchar, 'no_extract_on_or_before', {options}
                from raw.duo_registrations
                where try_strptime(peildatum, '{DUO_DATE}')::date = $d""", {"d": peildatum})
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    for t in ("_lk_duo_src", "_lk_rr_src", "_lk_dict", "_lk_vocab", "_lk_duo", "_lk_rr", "_lk_kd",
              "_lk_pairs", "_lk_scored", "_lk_decided", "_lk_candidates", "_lk_outcome",
              "_lk_old"):
        con.execute(f"drop table if exists {t}")


def link_reference_date(con: duckdb.DuckDBPyConnection, peildatum: dt.date,
                        rr_date: dt.date | None, now: dt.datetime | None = None) -> DateResult:
    """Recompute the links and the review queue of one DUO reference date (idempotent).

    ``con`` must have the vault attached (``warehouse.connect(p, vault=True)``).
    """
    started = time.perf_counter()
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ensure_schema(con)
    result = DateResult(peildatum, rr_date)
    try:
        if rr_date is None:
            log.warning("DUO %s: no Rijksregister extract on or before this date; all records "
                        "go to review", peildatum)
            _write(con, peildatum, None, now)
        else:
            result.duo_records, result.rijksregister_children = prepare(con, peildatum, rr_date)
            result.candidate_pairs = _block(con)
            _score(con)
            _classify(con, result.rijksregister_children)
            _write(con, peildatum, rr_date, now)
    finally:
        _drop_temp(con)
    counts = dict(con.execute(
        "select match_method, count(*) from linkage.duo_links where peildatum = $d group by all",
        {"d": peildatum}).fetchall())
    reasons = dict(con.execute(
        "select reason, count(*) from linkage.duo_review where peildatum = $d group by all",
        {"d": peildatum}).fetchall())
    result.review_detail = dict(con.execute(
        "select coalesce(detail, reason), count(*) from linkage.duo_review where peildatum = $d "
        "group by all order by all", {"d": peildatum}).fetchall())
    result.linked_exact = counts.get("exact", 0)
    result.linked_fuzzy = counts.get("fuzzy", 0)
    result.linked_reviewed = counts.get("reviewed", 0)
    result.review_no_candidate = reasons.get("no_candidate", 0)
    result.review_uncertain = reasons.get("uncertain", 0)
    result.review_conflict = reasons.get("conflict", 0)
    if rr_date is None:
        result.duo_records = result.to_review
    result.seconds = round(time.perf_counter() - started, 3)
    log.info("DUO linkage %s (Rijksregister %s): %d records, %d linked (%d exact, %d fuzzy, "
             "%d reviewed), %d to review (%d no candidate, %d uncertain, %d conflict), "
             "%d candidate pairs, %.1f s", peildatum, rr_date, result.duo_records, result.linked,
             result.linked_exact, result.linked_fuzzy, result.linked_reviewed, result.to_review,
             result.review_no_candidate, result.review_uncertain, result.review_conflict,
             result.candidate_pairs, result.seconds)
    return result


def link_all(con: duckdb.DuckDBPyConnection) -> list[DateResult]:
    """Link every DUO reference date present in ``raw``; drop results of dates no longer there
    (reviewers' decisions stay: they belong to the DUO record, not to a date)."""
    ensure_schema(con)
    duo_dates = duo_reference_dates(con)
    extracts = rijksregister_dates(con)
    con.execute("begin")
    for t in ("duo_links", "duo_review", "duo_review_candidates"):
        con.execute(f"delete from linkage.{t} where peildatum not in "
                    f"(select unnest($d::date[]))", {"d": duo_dates})
    con.execute("commit")
    return [link_reference_date(con, d, extract_for(d, extracts)) for d in duo_dates]


# ------------------------------------------------------------------ review decisions

def record_decision(con: duckdb.DuckDBPyConnection, record_key: str, peildatum: dt.date,
                    pupil_key: str, decision: str, now: dt.datetime | None = None) -> None:
    """Record a reviewer's decision on one candidate of a review case; the next linkage run
    (this date and every later one) applies it. ``same_child`` links the record to the child
    (``match_method = 'reviewed'``); ``different_child`` removes the candidate for good."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}")
    ensure_schema(con)
    shown = con.execute("""
        select count(*) from linkage.duo_review_candidates
        where record_key = $r and peildatum = $d and pupil_key = $p""",
                        {"r": record_key, "d": peildatum, "p": pupil_key}).fetchone()[0]
    if not shown:
        raise ValueError(f"no review case on {peildatum} shows this candidate for this record "
                         "(decide on a candidate of linkage.duo_review_candidates)")
    con.execute("insert into linkage.duo_review_decisions values ($r, $p, $x, $d, $t)",
                {"r": record_key, "p": pupil_key, "x": decision, "d": peildatum,
                 "t": now or dt.datetime.now(dt.UTC).replace(tzinfo=None)})


# ------------------------------------------------------------------ hand-made pairs

@dataclass(frozen=True)
class Person:
    """One side of a hand-made comparison (tests, explanations): fields as delivered."""

    surname: str
    first_names: str
    birth_date: dt.date | None
    street: str = ""
    house_number: str = ""
    postcode: str = ""


def score_pairs(pairs: list[tuple[Person, Person]], children_in_extract: int = 1_200_000
                ) -> list[dict]:
    """Score hand-made (DUO, Rijksregister) pairs with the pipeline's own SQL, each pair as if
    its child were the only candidate in an extract of ``children_in_extract``: levels, match
    weight, posterior, veto, whether it would link automatically, and whether it is exact."""
    con = duckdb.connect()
    try:
        for t, side in (("_lk_duo_src", 0), ("_lk_rr_src", 1)):
            people = [p[side] for p in pairs]
            con.execute(f"create temp table {t} (key varchar, dob date, sn varchar, fn varchar, "
                        f"st varchar, nr varchar, pc varchar)")
            if people:
                con.executemany(f"insert into {t} values (?, ?, ?, ?, ?, ?, ?)", [
                    (f"P{i:06d}", x.birth_date, x.surname, x.first_names, x.street,
                     x.house_number, (x.postcode or "").strip()) for i, x in enumerate(people)])
        _features(con)
        con.execute("create temp table _lk_pairs as select d.did, r.rid from _lk_duo d "
                    "join _lk_rr r on r.uid = d.uid")
        _score(con)
        prior = model.PRESENT_PRIOR / children_in_extract
        rows = con.execute(f"""
            select k.*, pow(2, match_weight) * {prior!r}
                        / (pow(2, match_weight) * {prior!r} + {1 - model.PRESENT_PRIOR!r}) as p
            from _lk_scored k join _lk_duo d using (did) order by d.uid""").fetchall()
        names = [c[0] for c in con.description]
    finally:
        con.close()
    out = []
    for row in rows:
        r = dict(zip(names, row))
        out.append({**{f"{c.name}": r[f"{c.name}_level"] for c in model.COMPARISONS},
                    "match_weight": r["match_weight"], "probability": r["p"], "veto": r["veto"],
                    "exact": bool(r["exact"]) and r["veto"] is None,
                    "links": r["veto"] is None and r["p"] >= model.LINK_PROBABILITY})
    return out


# ------------------------------------------------------------------ measurement

def evaluate(con: duckdb.DuckDBPyConnection, ground_truth_csv: str | Path) -> dict:
    """Precision and recall of ``linkage.duo_links`` against the generator's ground truth
    (``peildatum;fictief_nummer;insz``), mapped to (record_key, pupil_key) through the vault.

    precision = correct links / links made (on the reference dates of the ground truth);
    recall = correct links / true pairs whose DUO record and child are both in the files
    linked (the DUO file of that date and the Rijksregister extract used for it).
    Returns counts and ratios only.
    """
    extracts = rijksregister_dates(con)
    con.execute(f"""
        create or replace temp table _ev_truth as
        select coalesce(try_strptime(peildatum, '%Y-%m-%d'), try_strptime(peildatum, '{DUO_DATE}'),
                        try_strptime(peildatum, '{RR_DATE}'))::date as peildatum,
               trim(fictief_nummer) as fictief_nummer,
               regexp_replace(insz, '\\D', '', 'g') as insz
        from read_csv($f, delim=';', header=true, all_varchar=true)
        where nullif(trim(insz), '') is not null""", {"f": str(ground_truth_csv)})
    dates = [r[0] for r in con.execute(
        "select distinct peildatum from _ev_truth order by 1").fetchall()]
    used = [(d, extract_for(d, extracts)) for d in dates]
    con.execute("create or replace temp table _ev_used (peildatum date, rr_date date)")
    if used:
        con.execute("insert into _ev_used select unnest($a::date[]), unnest($b::date[])",
                    {"a": [u[0] for u in used], "b": [u[1] for u in used]})
    con.execute(f"""
        create or replace temp table _ev_pairs as
        select t.peildatum, k.record_key, r.pupil_key,
               exists (select 1 from raw.duo_registrations d
                       where d.record_key = k.record_key
                         and try_strptime(d.peildatum, '{DUO_DATE}')::date = t.peildatum)
               and exists (select 1 from raw.rijksregister_children c join _ev_used u
                             on try_strptime(c.referentiedatum, '{RR_DATE}')::date = u.rr_date
                           where u.peildatum = t.peildatum and c.pupil_key = r.pupil_key)
                   as present
        from _ev_truth t
        left join (select distinct fictief_nummer, record_key
                   from vault.identity_duo_registrations) k using (fictief_nummer)
        left join vault.insz_register r using (insz)""")
    row = con.execute("""
        with links as (select * from linkage.duo_links
                       where peildatum in (select peildatum from _ev_used)),
             truth as (select * from _ev_pairs where present)
        select (select count(*) from links),
               (select count(*) from links l join truth t using (peildatum, record_key, pupil_key)),
               (select count(*) from truth),
               (select count(*) from _ev_pairs),
               (select count(*) from links l join _ev_pairs t using (peildatum, record_key)
                 where l.pupil_key is distinct from t.pupil_key),
               (select count(*) from links l anti join _ev_pairs t using (peildatum, record_key))
        """).fetchone()
    links, correct, true_present, truth_rows, wrong_linked, linked_not_in_truth = row
    missed = dict(con.execute("""
        select coalesce(v.reason, case when l.record_key is null then 'not_processed'
                                       else 'linked_to_other_child' end), count(*)
        from _ev_pairs t
        left join linkage.duo_review v using (peildatum, record_key)
        left join linkage.duo_links l using (peildatum, record_key)
        where t.present and (l.pupil_key is null or l.pupil_key <> t.pupil_key)
        group by all order by all""").fetchall())
    for t in ("_ev_truth", "_ev_used", "_ev_pairs"):
        con.execute(f"drop table if exists {t}")
    return {
        "reference_dates": [d.isoformat() for d in dates],
        "links_made": links,
        "correct_links": correct,
        "true_pairs": truth_rows,
        "true_pairs_present": true_present,
        "wrong_links": wrong_linked,
        "links_without_truth": linked_not_in_truth,
        "missed_by_reason": missed,
        "precision": correct / links if links else 1.0,
        "recall": correct / true_present if true_present else 1.0,
    }
