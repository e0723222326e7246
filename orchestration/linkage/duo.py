"""DUO <-> Rijksregister linkage (protocol duo_leerplicht): the DUO register carries no INSZ.

For every DUO reference date (``peildatum``) each DUO record is compared with the Rijksregister
extract of the same reference date, or else the nearest earlier one, on surname, first names,
birth date and address. The outcome per record is one of

- a **link** (``linkage.duo_links``): ``match_method`` ``exact`` (every field equal after
  normalisation) or ``fuzzy`` (composite score at or above ``MATCH_THRESHOLD``, the per-field
  ``GATES`` met, with ``ONE_EDIT_SURNAME_RULE`` and ``OTHER_POSTCODE_RULE`` for the two special
  cases, and at least ``AMBIGUITY_MARGIN`` ahead of the runner-up);
- a **review** item (``linkage.duo_review``): ``no_candidate`` (no blocked candidate scores
  ``REVIEW_THRESHOLD`` or more), ``uncertain`` (a candidate does, but the best one is below the
  match threshold, fails a gate, or is within ``AMBIGUITY_MARGIN`` of the runner-up) or
  ``conflict`` (the best candidate is a child already linked, with a better score, to another
  DUO record of the same reference date: one child links to at most one DUO record per date).

How (the method, in the order it runs)
1. Set-based in DuckDB: read both sides for the reference date, joining the pseudonymised raw rows
   with their identities in the vault on (file SHA-256, source row), and normalise with SQL macros
   that mirror :func:`normalise` (NFKD diacritics stripped, lower case, apostrophes dropped,
   anything else that is not a letter or digit a single space).
2. Blocking (union of five equi-joins, each a small block even at 1.2 M children):
   birth date with day and month unordered (so a swapped day/month still meets) combined with
   (a) the first two letters of the surname without prefixes, (b) the postcode, (c) the first two
   letters of the first first name; and (d) postcode + birth year + surname letters (a typo in the
   birth day or month), (e) postcode + surname letters + first-name letters (a typo in the year).
3. Comparisons (:func:`compare`), vectorised with ``rapidfuzz.process.cpdist`` over the candidate
   pairs (no Python loop per pair or per child): Jaro-Winkler on surnames (whole, and without
   prefixes) and streets, token-set / token-sort ratios on first names (swapped, missing or extra
   first names), OSA edit distance for one-typo short surnames; birth date parts, postcode and
   house number with numpy.
4. Classification, conflict resolution and writing are SQL again; a reference date is recomputed
   whole (delete + insert in one transaction), so reruns give the same rows (``linked_at`` is
   kept for a link that did not change).

Why rapidfuzz rather than splink: the comparisons are a handful of string metrics on pairs that
DuckDB's blocking already produced, and rapidfuzz (already a project dependency) scores a million
pairs per metric in well under a second. A deterministic, documented score with hand-set weights
is easy to explain to the compulsory-education cell and to audit; splink's strength,
estimating m/u weights without labels, is not needed while the weights are checked against
ground truth (``evaluate``), and it would add a large dependency tree.

Privacy: names, first names, streets and house numbers are read from the vault into temporary
tables and Python arrays of this process only. Nothing written to the warehouse, to logs or to
Dagster metadata contains them: the warehouse gets record keys, pupil keys, dates, methods,
scores and counts.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, JaroWinkler

log = logging.getLogger(__name__)

# ------------------------------------------------------------------ weights and thresholds

#: Composite score = sum of weight * field similarity (each similarity in [0, 1]).
WEIGHTS: dict[str, float] = {
    "surname": 0.30,      # max(JW(whole surname), PREFIXLESS_FACTOR * JW(surname without prefixes))
    "first_names": 0.30,  # 0.8 * token_set_ratio + 0.2 * token_sort_ratio
    "birth_date": 0.25,   # 1 equal, 0.8 day and month swapped, 0.5 one of day/month/year differs
    "address": 0.15,      # 0.3 * postcode equal + 0.5 * JW(street) + 0.2 * house number
}
ADDRESS_WEIGHTS = {"postcode": 0.3, "street": 0.5, "house_number": 0.2}
PREFIXLESS_FACTOR = 0.9  # "Berg" vs "Van den Berg" is likely, not certain, the same name
FIRST_NAMES_SET_SHARE = 0.8  # rest is token_sort_ratio: a missing first name costs a little

MATCH_THRESHOLD = 0.84  # auto-link at or above (and every gate met)
REVIEW_THRESHOLD = 0.65  # a candidate below this is no candidate
AMBIGUITY_MARGIN = 0.05  # best - runner-up below this -> uncertain, whatever the score
#: Each field that must be at least this similar for an automatic link: a twin (same surname,
#: birth date and address, other first names) or a namesake never links automatically.
GATES = {"surname": 0.85, "first_names": 0.75, "birth_date": 0.5}
#: Jaro-Winkler is harsh on very short surnames ("Bah" vs "Ba": 0.61). A surname exactly one
#: edit away (OSA: insertion, deletion, substitution or transposition) may replace the surname
#: gate only when everything else agrees: these first names and more, the same birth date, and
#: the same postcode, street and house number.
ONE_EDIT_SURNAME_RULE = {"first_names": 0.95, "birth_date": 1.0, "address": 1.0}
#: When the postcode differs the address corroborates nothing, and a namesake born the same day
#: ("Mohammed" vs "Mohammed Amine", same surname, elsewhere) scores like a child who moved. Then
#: an automatic link needs the same surname, the same set of first names (any order) and the
#: same birth date, all after normalisation; anything weaker goes to review.
OTHER_POSTCODE_RULE = {"surname": 1.0, "first_names": 1.0, "birth_date": 1.0}

BIRTH_DATE_SCORES = {"equal": 1.0, "day_month_swapped": 0.8, "one_part_differs": 0.5}

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
            match_method varchar not null,   -- exact | fuzzy
            match_score double not null,     -- composite score in [0, 1]
            rijksregister_date date not null,-- reference date of the extract linked against
            linked_at timestamp not null)""")
    con.execute("""
        create table if not exists linkage.duo_review (
            record_key varchar not null,
            peildatum date not null,
            reason varchar not null,         -- no_candidate | uncertain | conflict
            best_score double,               -- best composite score of any blocked candidate
            candidate_count integer not null,-- candidates scoring at least REVIEW_THRESHOLD
            rijksregister_date date,         -- extract linked against (null: none on or before)
            best_pupil_key varchar)          -- pupil key of the best candidate, for the reviewer""")


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
    review_no_candidate: int = 0
    review_uncertain: int = 0
    review_conflict: int = 0
    seconds: float = 0.0

    @property
    def linked(self) -> int:
        return self.linked_exact + self.linked_fuzzy

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


def _prepare(con: duckdb.DuckDBPyConnection, peildatum: dt.date, rr_date: dt.date) -> tuple[int, int]:
    """Temp tables ``_lk_duo`` and ``_lk_rr``: keys, normalised fields and blocking keys.

    Names repeat a lot, so each distinct string is normalised once (``_lk_dict``) and joined
    back: about ten times cheaper than normalising 1.2 million rows column by column.
    Row ids ``did``/``rid`` are arbitrary; every tie-break uses the keys, so results do not
    depend on them.
    """
    register_macros(con)
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
            select row_number() over () as {rowid}, x.key, x.dob, x.pc,
                   replace(coalesce(s.norm, ''), ' ', '') as sn_full,
                   coalesce(s.core, '') as sn_core, coalesce(f.norm, '') as fn_norm,
                   replace(coalesce(a.norm, ''), ' ', '') as street,
                   replace(coalesce(n.norm, ''), ' ', '') as nr,
                   regexp_extract(coalesce(n.norm, ''), '^[0-9]+') as nrn,
                   year(x.dob) as by,
                   year(x.dob) * 10000 + least(month(x.dob), day(x.dob)) * 100
                       + greatest(month(x.dob), day(x.dob)) as dk,
                   left(coalesce(s.core, ''), 2) as sk,
                   left(split_part(coalesce(f.norm, ''), ' ', 1), 2) as fk
            from {t}_src x
            left join _lk_dict s on s.s = x.sn left join _lk_dict f on f.s = x.fn
            left join _lk_dict a on a.s = x.st left join _lk_dict n on n.s = x.nr""")
        con.execute(f"drop table {t}_src")
    con.execute("drop table _lk_dict")
    n_duo = con.execute("select count(*) from _lk_duo").fetchone()[0]
    n_rr = con.execute("select count(*) from _lk_rr").fetchone()[0]
    return n_duo, n_rr


BLOCKING_RULES = (
    ("birth date (day/month unordered) + surname letters", ("dk", "sk")),
    ("birth date (day/month unordered) + postcode", ("dk", "pc")),
    ("birth date (day/month unordered) + first-name letters", ("dk", "fk")),
    ("postcode + birth year + surname letters", ("pc", "by", "sk")),
    ("postcode + surname letters + first-name letters", ("pc", "sk", "fk")),
)


def _block(con: duckdb.DuckDBPyConnection) -> int:
    joins = " union ".join(
        "select d.did, r.rid from _lk_duo d join _lk_rr r on "
        + " and ".join(f"d.{k} = r.{k}" for k in keys)
        + " where " + " and ".join(f"d.{k} is not null and d.{k} <> ''" if k in ("sk", "fk", "pc")
                                     else f"d.{k} is not null" for k in keys)
        for _, keys in BLOCKING_RULES)
    con.execute(f"""
        create or replace temp table _lk_pairs as
        select p.did, p.rid,
            d.sn_full as d_full, r.sn_full as r_full, d.sn_core as d_core, r.sn_core as r_core,
            d.fn_norm as d_fn, r.fn_norm as r_fn, d.street as d_street, r.street as r_street,
            d.nr as d_nr, r.nr as r_nr, d.nrn as d_nrn, r.nrn as r_nrn, d.pc as d_pc, r.pc as r_pc,
            coalesce(year(d.dob), 0) as d_y, coalesce(month(d.dob), 0) as d_m,
            coalesce(day(d.dob), 0) as d_d, coalesce(year(r.dob), 0) as r_y,
            coalesce(month(r.dob), 0) as r_m, coalesce(day(r.dob), 0) as r_d
        from ({joins}) p join _lk_duo d using (did) join _lk_rr r using (rid)""")
    return con.execute("select count(*) from _lk_pairs").fetchone()[0]


FIELDS = ("full", "core", "fn", "street", "nr", "nrn", "pc", "y", "m", "d")


def compare(d: dict[str, np.ndarray], r: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Field similarities, composite score, exactness and link eligibility of aligned candidate
    pairs. ``d`` and ``r`` hold arrays of equal length per field of :data:`FIELDS` (strings
    already normalised: ``full``/``core`` surname, ``fn`` first-name tokens, ``street`` and
    ``nr`` without spaces, ``nrn`` the house number's leading digits, ``pc`` postcode;
    ``y``/``m``/``d`` birth date parts, 0 if missing).
    Vectorised: rapidfuzz ``cpdist`` per string metric, numpy for the rest."""
    def cp(a, b, scorer, scale=1.0):
        if len(a) == 0:
            return np.zeros(0)
        return process.cpdist(a, b, scorer=scorer, workers=-1).astype(np.float64) / scale

    def eq(a, b):
        a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
        return (a == b) & (a != "")

    jw = JaroWinkler.normalized_similarity
    surname = np.maximum(cp(d["full"], r["full"], jw),
                         PREFIXLESS_FACTOR * cp(d["core"], r["core"], jw))
    first = (FIRST_NAMES_SET_SHARE * cp(d["fn"], r["fn"], fuzz.token_set_ratio, 100.0)
             + (1 - FIRST_NAMES_SET_SHARE) * cp(d["fn"], r["fn"], fuzz.token_sort_ratio, 100.0))

    dy, dm, dd = (np.asarray(d[k], dtype=np.int64) for k in ("y", "m", "d"))
    ry, rm, rd = (np.asarray(r[k], dtype=np.int64) for k in ("y", "m", "d"))
    known = (dy > 0) & (ry > 0)
    same_parts = (dy == ry).astype(int) + (dm == rm) + (dd == rd)
    birth = np.select(
        [known & (same_parts == 3), known & (dy == ry) & (dm == rd) & (dd == rm),
         known & (same_parts == 2)],
        [BIRTH_DATE_SCORES["equal"], BIRTH_DATE_SCORES["day_month_swapped"],
         BIRTH_DATE_SCORES["one_part_differs"]], 0.0)

    postcode = eq(d["pc"], r["pc"]).astype(np.float64)
    street = cp(d["street"], r["street"], jw)
    nr_equal = eq(d["nr"], r["nr"])
    nr = np.where(nr_equal, 1.0,
                  np.where(eq(d["nrn"], r["nrn"]), 0.5, 0.0))
    address = (ADDRESS_WEIGHTS["postcode"] * postcode + ADDRESS_WEIGHTS["street"] * street
               + ADDRESS_WEIGHTS["house_number"] * nr)

    score = np.round(WEIGHTS["surname"] * surname + WEIGHTS["first_names"] * first
                     + WEIGHTS["birth_date"] * birth + WEIGHTS["address"] * address, 6)
    exact = (eq(d["full"], r["full"]) & eq(d["fn"], r["fn"]) & eq(d["street"], r["street"])
             & nr_equal & (postcode == 1.0) & (birth == 1.0))
    one_edit = (cp(d["full"], r["full"], OSA.distance) == 1) \
        & (first >= ONE_EDIT_SURNAME_RULE["first_names"]) \
        & (birth >= ONE_EDIT_SURNAME_RULE["birth_date"]) \
        & (address >= ONE_EDIT_SURNAME_RULE["address"] - 1e-6)
    eps = 1e-9
    corroborated = (postcode == 1.0) | (
        (surname >= OTHER_POSTCODE_RULE["surname"] - eps)
        & (first >= OTHER_POSTCODE_RULE["first_names"] - eps)
        & (birth >= OTHER_POSTCODE_RULE["birth_date"] - eps))
    eligible = exact | ((score >= MATCH_THRESHOLD) & corroborated
                        & ((surname >= GATES["surname"]) | one_edit)
                        & (first >= GATES["first_names"]) & (birth >= GATES["birth_date"]))
    return {"score": score, "surname": surname, "first_names": first, "birth_date": birth,
            "address": address, "exact": exact, "eligible": eligible}


@dataclass(frozen=True)
class Person:
    """One side of a hand-made comparison (tests, explanations): fields as delivered."""

    surname: str
    first_names: str
    birth_date: dt.date | None
    street: str = ""
    house_number: str = ""
    postcode: str = ""


def _fields(people: list[Person]) -> dict[str, np.ndarray]:
    forms = [surname_forms(x.surname) for x in people]
    col = lambda values: np.array(values, dtype=object)  # noqa: E731
    return {
        "full": col([f[0] for f in forms]), "core": col([f[1] for f in forms]),
        "fn": col([first_name_tokens(x.first_names) for x in people]),
        "street": col([normalise(x.street).replace(" ", "") for x in people]),
        "nr": col([normalise(x.house_number).replace(" ", "") for x in people]),
        "nrn": col([re.match(r"[0-9]*", normalise(x.house_number)).group() for x in people]),
        "pc": col([(x.postcode or "").strip() for x in people]),
        "y": np.array([x.birth_date.year if x.birth_date else 0 for x in people]),
        "m": np.array([x.birth_date.month if x.birth_date else 0 for x in people]),
        "d": np.array([x.birth_date.day if x.birth_date else 0 for x in people]),
    }


def score_pairs(pairs: list[tuple[Person, Person]]) -> list[dict[str, float | bool]]:
    """Score hand-made (DUO, Rijksregister) pairs with the same code the pipeline uses."""
    out = compare(_fields([a for a, _ in pairs]), _fields([b for _, b in pairs]))
    return [{k: (bool(v[i]) if v.dtype == bool else float(v[i])) for k, v in out.items()}
            for i in range(len(pairs))]


def _score(con: duckdb.DuckDBPyConnection) -> None:
    cols = con.execute("select * exclude (did, rid), did, rid from _lk_pairs").fetchnumpy()
    s = compare({f: cols[f"d_{f}"] for f in FIELDS}, {f: cols[f"r_{f}"] for f in FIELDS})
    scored = {"did": np.asarray(cols["did"]), "rid": np.asarray(cols["rid"]),
              "score": s["score"], "exact": s["exact"], "eligible": s["eligible"]}
    del cols
    import pyarrow as pa  # noqa: PLC0415 (only needed here)

    con.register("_lk_scored_view", pa.table(scored))
    try:
        con.execute("create or replace temp table _lk_scored as select * from _lk_scored_view")
    finally:
        con.unregister("_lk_scored_view")


def _classify(con: duckdb.DuckDBPyConnection) -> None:
    """``_lk_outcome``: per DUO record a link (exact/fuzzy) or a review reason."""
    con.execute(f"""
        create or replace temp table _lk_outcome as
        with ranked as (
            select k.*, row_number() over (partition by k.did order by k.score desc, r.key) as rk
            from _lk_scored k join _lk_rr r using (rid)),
        per_record as (
            select d.did, d.key as record_key,
                   max(k.score) filter (where k.rk = 1) as best_score,
                   max(k.score) filter (where k.rk = 2) as second_score,
                   max(k.rid) filter (where k.rk = 1) as best_rid,
                   bool_or(k.eligible) filter (where k.rk = 1) as best_eligible,
                   bool_or(k.exact) filter (where k.rk = 1) as best_exact,
                   count(k.rid) filter (where k.score >= {REVIEW_THRESHOLD}) as candidate_count
            from _lk_duo d left join ranked k on k.did = d.did
            group by all),
        proposed as (
            select *, case
                when candidate_count = 0 then 'no_candidate'
                when best_eligible and (second_score is null
                     or best_score - second_score >= {AMBIGUITY_MARGIN}) then 'proposed'
                else 'uncertain' end as status
            from per_record)
        select p.*, case when status = 'proposed' then
                   row_number() over (partition by case when status = 'proposed' then best_rid end
                                      order by best_score desc, record_key) end as claim_rank
        from proposed p""")
    con.execute("""
        create or replace temp table _lk_outcome as
        select o.*, r.key as pupil_key,
               case when o.status <> 'proposed' then o.status
                    when o.claim_rank = 1 then 'link' else 'conflict' end as outcome,
               case when o.best_exact then 'exact' else 'fuzzy' end as match_method
        from _lk_outcome o left join _lk_rr r on r.rid = o.best_rid""")


def _write(con: duckdb.DuckDBPyConnection, peildatum: dt.date, rr_date: dt.date | None,
           now: dt.datetime) -> None:
    con.execute("begin")
    try:
        con.execute("create or replace temp table _lk_old as select * from linkage.duo_links "
                    "where peildatum = $d", {"d": peildatum})
        con.execute("delete from linkage.duo_links where peildatum = $d", {"d": peildatum})
        con.execute("delete from linkage.duo_review where peildatum = $d", {"d": peildatum})
        if rr_date is not None:
            con.execute("""
                insert into linkage.duo_links
                select n.record_key, $d, n.pupil_key, n.match_method, n.best_score, $rr,
                       coalesce(o.linked_at, $now)
                from _lk_outcome n
                left join _lk_old o on o.record_key = n.record_key and o.pupil_key = n.pupil_key
                     and o.match_method = n.match_method and o.match_score = n.best_score
                     and o.rijksregister_date = $rr
                where n.outcome = 'link'""", {"d": peildatum, "rr": rr_date, "now": now})
            con.execute("""
                insert into linkage.duo_review
                select record_key, $d, outcome, best_score, candidate_count, $rr, pupil_key
                from _lk_outcome where outcome <> 'link'""", {"d": peildatum, "rr": rr_date})
        else:  # no extract on or before this date: every record waits for review
            con.execute(f"""
                insert into linkage.duo_review
                select distinct record_key, $d, 'no_candidate', null::double, 0, null::date,
                       null::varchar
                from raw.duo_registrations
                where try_strptime(peildatum, '{DUO_DATE}')::date = $d""", {"d": peildatum})
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    for t in ("_lk_duo_src", "_lk_rr_src", "_lk_dict", "_lk_duo", "_lk_rr", "_lk_pairs",
              "_lk_scored", "_lk_outcome", "_lk_old"):
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
            result.duo_records, result.rijksregister_children = _prepare(con, peildatum, rr_date)
            result.candidate_pairs = _block(con)
            _score(con)
            _classify(con)
            _write(con, peildatum, rr_date, now)
    finally:
        _drop_temp(con)
    counts = dict(con.execute(
        "select match_method, count(*) from linkage.duo_links where peildatum = $d group by all",
        {"d": peildatum}).fetchall())
    reasons = dict(con.execute(
        "select reason, count(*) from linkage.duo_review where peildatum = $d group by all",
        {"d": peildatum}).fetchall())
    result.linked_exact = counts.get("exact", 0)
    result.linked_fuzzy = counts.get("fuzzy", 0)
    result.review_no_candidate = reasons.get("no_candidate", 0)
    result.review_uncertain = reasons.get("uncertain", 0)
    result.review_conflict = reasons.get("conflict", 0)
    if rr_date is None:
        result.duo_records = result.to_review
    result.seconds = round(time.perf_counter() - started, 3)
    log.info("DUO linkage %s (Rijksregister %s): %d records, %d linked (%d exact, %d fuzzy), "
             "%d to review (%d no candidate, %d uncertain, %d conflict), %d candidate pairs, "
             "%.1f s", peildatum, rr_date, result.duo_records, result.linked,
             result.linked_exact, result.linked_fuzzy, result.to_review,
             result.review_no_candidate, result.review_uncertain, result.review_conflict,
             result.candidate_pairs, result.seconds)
    return result


def link_all(con: duckdb.DuckDBPyConnection) -> list[DateResult]:
    """Link every DUO reference date present in ``raw``; drop results of dates no longer there."""
    ensure_schema(con)
    duo_dates = duo_reference_dates(con)
    extracts = rijksregister_dates(con)
    con.execute("begin")
    for t in ("duo_links", "duo_review"):
        con.execute(f"delete from linkage.{t} where peildatum not in "
                    f"(select unnest($d::date[]))", {"d": duo_dates})
    con.execute("commit")
    return [link_reference_date(con, d, extract_for(d, extracts)) for d in duo_dates]


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
