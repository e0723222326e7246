"""Hard-case benchmark of the DUO <-> Rijksregister linkage, with ground truth.

``python -m tools.synthetic.linkage_benchmark [--children N] [--seed S]`` generates a
Rijksregister extract of N children (families sharing surname and address, twins and triplets,
siblings, namesakes) and one DUO file, runs the real linkage on them in a scratch DuckDB file and
prints the precision and recall of the automatic links, the review share, every wrong automatic
link and every missed child whose true candidate the review queue does not show. Output names
synthetic ids only (``C0000001`` children, ``D0000001`` DUO records) and case labels.

Why its own generator: the sample's DUO records are easy cases; a wrong automatic link (a child
counted as schooled in the Netherlands through someone else's registration) is the worst error of
protocol duo_leerplicht, and the registers hold the hard cases at small but real shares:

- present in the extract, with DUO's own spelling: diacritics dropped, surname typos of one or
  two edits, first-name typos, a first name missing, added or reordered, first and last names
  swapped, surname particles written otherwise (``Vanden Broeck``, ``Vandenbroeck``,
  ``van den Broeck``, ``Broeck``), one part of a double surname, day and month swapped, a typo in
  the birth date, a move in the same postcode or to another municipality;
- absent from the extract (living outside its area, or registered late): a plain absent child,
  the **absent twin** of a child who is in the extract (same surname, birth date and address; the
  first names may share a token), and an absent child with a **namesake elsewhere** (same names
  and birth date in another municipality);
- present children with a namesake elsewhere, and twins, triplets and siblings in the extract
  next to the DUO child.

The tables are written in the layout the linkage reads (``raw.duo_registrations``,
``raw.rijksregister_children`` and the vault's identity tables, the vault attached in memory), so
the benchmark measures the linkage alone, without ingestion. ``--children 1200000`` gives the
scale run (Flanders' 1.2 million pupils); the linkage time is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from tools.synthetic import geography, names, population

PEILDATUM = dt.date(2024, 10, 15)
FIRST_BIRTH, LAST_BIRTH = dt.date(2007, 1, 1), dt.date(2019, 8, 31)

#: Share of DUO records per kind of noise (independent draws; a record may carry several).
NOISE = {
    "diacritics": 0.30,          # of the records whose names carry diacritics
    "surname_typo_1": 0.02,
    "surname_typo_2": 0.01,
    "first_name_typo": 0.02,
    "first_names_changed": 0.03,  # a first name missing, added, or the order changed
    "names_swapped": 0.01,
    "particle": 0.40,            # of the surnames with a particle
    "double_surname_part": 0.30,  # of the double surnames
    "day_month_swapped": 0.005,
    "birth_date_typo": 0.005,
    "moved_same_postcode": 0.03,
    "moved_other_municipality": 0.01,
}
TWIN_RATE = 0.016       # of births after the first of a family (about 3 % of children are twins)
TRIPLET_RATE = 0.03     # of twins, a third child of the same birth
TWIN_SHARED_TOKEN = 0.4  # twins whose first names share a token ("Jan Pieter" / "Jan Karel")
PRESENT_NAMESAKE = 0.01  # present DUO children with a namesake elsewhere in the extract
ABSENT_KINDS = {"absent_twin": 0.35, "absent_namesake_elsewhere": 0.35, "absent": 0.30}

_PARTICLE = re.compile(r"^(?:(?:vanden|vander|vande|van|den|der|de|ten|ter|te)\s+|d')+",
                       re.IGNORECASE)


@dataclass
class Benchmark:
    """One extract and one DUO file. ``duo.true_key`` is the child's key, or empty if absent."""

    children: pd.DataFrame  # key, surname, firstnames, birth, street, number, postcode
    duo: pd.DataFrame       # record_key, surname, ..., true_key, cases
    peildatum: dt.date = PEILDATUM


# ------------------------------------------------------------------ the population

def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _population(n: int, rng: np.random.Generator, pools, streets, postcodes) -> pd.DataFrame:
    sizes = rng.choice([1, 2, 3, 4], size=int(n / 1.5) + 10, p=[0.45, 0.35, 0.15, 0.05])
    sizes = sizes[:int(np.searchsorted(np.cumsum(sizes), n)) + 1]  # just enough families
    n_fam = len(sizes)
    share = names.GROUP_SHARE / names.GROUP_SHARE.sum()
    fam_group = rng.choice(len(names.GROUPS), size=n_fam, p=share)
    fam_surname, _ = names.sample_names(fam_group, np.zeros(n_fam, bool), pools, rng)
    fam = np.repeat(np.arange(n_fam), sizes)[:n]
    order = pd.Series(fam).groupby(fam).cumcount().to_numpy()
    female = rng.random(n) < 0.49
    _, firsts = names.sample_names(fam_group[fam], female, pools, rng)
    base = rng.integers(_days(FIRST_BIRTH), _days(LAST_BIRTH) - 4 * 400, n_fam)
    gaps = rng.integers(400, 1100, n)
    birth = base[fam] + pd.Series(np.where(order == 0, 0, gaps)).groupby(fam).cumsum().to_numpy()
    birth = np.minimum(birth, _days(LAST_BIRTH))
    twin = (order >= 1) & (rng.random(n) < TWIN_RATE)
    prev_twin = np.r_[False, twin[:-1]]
    twin |= (order >= 2) & prev_twin & (rng.random(n) < TRIPLET_RATE)  # triplets
    birth = pd.Series(np.where(twin, np.nan, birth)).ffill().to_numpy().astype(np.int64)
    firsts = pd.Series(firsts, dtype=object)
    share_token = twin & (rng.random(n) < TWIN_SHARED_TOKEN)
    idx = np.flatnonzero(share_token)
    prev_first = firsts.iloc[idx - 1].str.split(" ").str[0].to_numpy()
    own = firsts.iloc[idx].str.split(" ").str[-1].to_numpy()
    firsts.iloc[idx] = np.where(prev_first != own, prev_first + " " + own, own)
    return pd.DataFrame({
        "key": [f"C{i:07d}" for i in range(1, n + 1)],
        "family": fam, "twin": twin | np.r_[twin[1:], False],
        "surname": fam_surname[fam], "firstnames": firsts.to_numpy(),
        "birth": pd.to_datetime(birth, unit="D").date,
        "street": streets[rng.integers(0, len(streets), n_fam)][fam],
        "number": rng.integers(1, 250, n_fam).astype(str)[fam],
        "postcode": postcodes[rng.integers(0, len(postcodes), n_fam)][fam],
    })


def _new_first_names(rows: pd.DataFrame, rng: np.random.Generator, pools) -> np.ndarray:
    pool = pools["BE"]
    fem = rng.random(len(rows)) < 0.5
    i = rng.integers(0, len(pool.first_f), len(rows))
    j = rng.integers(0, len(pool.first_m), len(rows))
    own = rows["firstnames"].str.split(" ").to_numpy()
    for _ in range(3):  # a first name the twin in the extract does not have
        first = np.where(fem, pool.first_f[i % len(pool.first_f)],
                         pool.first_m[j % len(pool.first_m)])
        taken = np.array([f in o for f, o in zip(first, own)], dtype=bool)
        i, j = i + taken, j + taken
    shared = rng.random(len(rows)) < 0.5  # "Jan Pieter" in the extract, "Jan Karel" at DUO
    head = np.array([o[0] for o in own], dtype=object)
    return np.where(shared, head + " " + first, first)


# ------------------------------------------------------------------ DUO's spelling

def _typo(s: str, rng: np.random.Generator) -> str:
    if len(s) < 3:
        return s + "e"
    i = int(rng.integers(1, len(s) - 1))
    op = int(rng.integers(0, 3))
    if op == 0:
        return s[:i] + ("e" if s[i] != "e" else "a") + s[i + 1:]
    if op == 1:
        return s[:i] + s[i + 1:]
    return s[:i - 1] + s[i] + s[i - 1] + s[i + 1:]


def _particle_variant(s: str, k: int) -> str:
    m = _PARTICLE.match(s)
    if not m or m.end() >= len(s):
        return s
    particles, rest = m.group(0), s[m.end():]
    joined = particles.replace(" ", "")
    return [particles.lower() + rest,                      # van den Broeck
            joined.capitalize() + " " + rest,              # Vanden Broeck
            (joined + rest).capitalize(),                  # Vandenbroeck
            rest][k % 4]                                   # Broeck


def _double_part(s: str, k: int) -> str:
    parts = [p for p in re.split(r"[- ]", s) if len(p) >= 3]  # "El Amrani" keeps "Amrani"
    if len(parts) < 2 or _PARTICLE.match(s):
        return s
    return parts[0] if k % 2 == 0 else parts[-1]


def _noisy(duo: pd.DataFrame, rng: np.random.Generator, pools, streets, postcodes) -> pd.DataFrame:
    """DUO's version of each identity; ``cases`` lists the noise applied (ground truth)."""
    d = duo.copy()
    n = len(d)
    cases = pd.Series(d["cases"].to_numpy(), dtype=object)
    u = {k: rng.random(n) for k in NOISE}

    def apply(kind: str, mask: np.ndarray, column: str, fn) -> None:
        idx = np.flatnonzero(mask)
        if len(idx):
            d.iloc[idx, d.columns.get_loc(column)] = [fn(v, j) for j, v in
                                                      zip(idx, d[column].to_numpy()[idx])]
            cases.iloc[idx] = cases.iloc[idx] + kind + ";"

    accented = names.has_diacritics(d["surname"] + " " + d["firstnames"])
    strip = accented & (u["diacritics"] < NOISE["diacritics"])
    idx = np.flatnonzero(strip)
    if len(idx):
        for c in ("surname", "firstnames"):
            d.iloc[idx, d.columns.get_loc(c)] = names.strip_diacritics(d[c].iloc[idx]).to_numpy()
        cases.iloc[idx] = cases.iloc[idx] + "diacritics;"
    has_particle = d["surname"].str.match(_PARTICLE).to_numpy(dtype=bool)
    apply("particle", has_particle & (u["particle"] < NOISE["particle"]), "surname",
          lambda v, j: _particle_variant(v, j))
    double = d["surname"].str.contains(r"[- ]", regex=True).to_numpy(dtype=bool) & ~has_particle
    apply("double_surname_part", double & (u["double_surname_part"] < NOISE["double_surname_part"]),
          "surname", lambda v, j: _double_part(v, j))
    apply("surname_typo_1", u["surname_typo_1"] < NOISE["surname_typo_1"], "surname",
          lambda v, j: _typo(v, rng))
    apply("surname_typo_2", u["surname_typo_2"] < NOISE["surname_typo_2"], "surname",
          lambda v, j: _typo(_typo(v, rng), rng))
    apply("first_name_typo", u["first_name_typo"] < NOISE["first_name_typo"], "firstnames",
          lambda v, j: _typo(v, rng))
    pool = pools["BE"]

    def change_first(v: str, j: int) -> str:
        parts = v.split(" ")
        r = rng.random()
        if len(parts) > 1 and r < 0.35:
            return " ".join(parts[:-1])
        if len(parts) > 1 and r < 0.6:
            return " ".join([parts[1], parts[0], *parts[2:]])
        return " ".join([*parts, str(pool.first_m[rng.integers(len(pool.first_m))])])

    apply("first_names_changed", u["first_names_changed"] < NOISE["first_names_changed"],
          "firstnames", change_first)
    swap = np.flatnonzero(u["names_swapped"] < NOISE["names_swapped"])
    if len(swap):
        sn = d["surname"].iloc[swap].to_numpy()
        d.iloc[swap, d.columns.get_loc("surname")] = d["firstnames"].iloc[swap].to_numpy()
        d.iloc[swap, d.columns.get_loc("firstnames")] = sn
        cases.iloc[swap] = cases.iloc[swap] + "names_swapped;"
    birth = pd.to_datetime(d["birth"])
    can_swap = (birth.dt.day <= 12) & (birth.dt.day != birth.dt.month)
    idx = np.flatnonzero(can_swap.to_numpy()
                         & (u["day_month_swapped"] < NOISE["day_month_swapped"]))
    if len(idx):
        b = birth.iloc[idx]
        d.iloc[idx, d.columns.get_loc("birth")] = [dt.date(y, dd, m) for y, m, dd in
                                                   zip(b.dt.year, b.dt.month, b.dt.day)]
        cases.iloc[idx] = cases.iloc[idx] + "day_month_swapped;"
    idx = np.flatnonzero(u["birth_date_typo"] < NOISE["birth_date_typo"])
    if len(idx):
        day = birth.iloc[idx].dt.day.to_numpy()  # one digit of the day keyed wrong
        shift = rng.choice([-10, -1, 1, 10], size=len(idx))
        shift = np.where((day + shift < 1) | (day + shift > 28), -shift, shift)
        d.iloc[idx, d.columns.get_loc("birth")] = (birth.iloc[idx] + pd.to_timedelta(shift, "D")
                                                   ).dt.date.to_numpy()
        cases.iloc[idx] = cases.iloc[idx] + "birth_date_typo;"
    for kind in ("moved_same_postcode", "moved_other_municipality"):
        idx = np.flatnonzero(u[kind] < NOISE[kind])
        if len(idx):
            d.iloc[idx, d.columns.get_loc("street")] = streets[
                rng.integers(0, len(streets), len(idx))]
            d.iloc[idx, d.columns.get_loc("number")] = rng.integers(1, 250, len(idx)).astype(str)
            if kind == "moved_other_municipality":
                d.iloc[idx, d.columns.get_loc("postcode")] = postcodes[
                    rng.integers(0, len(postcodes), len(idx))]
            cases.iloc[idx] = cases.iloc[idx] + kind + ";"
    d["cases"] = cases.str.rstrip(";").replace("", "clean").to_numpy()
    return d


# ------------------------------------------------------------------ the benchmark

def generate(children: int = 40_000, seed: int = 1, duo_share: float = 0.05,
             absent_share: float = 0.05) -> Benchmark:
    """An extract of about ``children`` children and a DUO file of ``duo_share`` of them plus
    ``absent_share`` of DUO records whose child is not in the extract."""
    rng = np.random.default_rng([seed, 1313])
    pools = names.build_pools(seed)
    streets = population.frame_of_streets(seed)
    postcodes = np.array(sorted(geography.load().postcodes["postcode"].astype(str).unique()),
                         dtype=object)
    pop = _population(children, rng, pools, streets, postcodes)
    n_duo = max(50, int(duo_share * children))
    present = pop.iloc[np.sort(rng.choice(len(pop), size=n_duo, replace=False))].copy()
    present["true_key"], present["cases"] = present["key"], ""
    present.loc[present["twin"].to_numpy(), "cases"] = "twin;"

    n_absent = max(10, int(absent_share * n_duo / (1 - absent_share)))
    kind = rng.choice(list(ABSENT_KINDS), size=n_absent, p=list(ABSENT_KINDS.values()))
    others = pop[~pop["key"].isin(present["key"])]
    absent_parts, extra_children = [], []
    k_twin = int((kind == "absent_twin").sum())
    singles = others[~others["twin"].to_numpy()]  # the absent child is its only twin
    twins_of = singles.iloc[rng.choice(len(singles), size=k_twin, replace=False)].copy()
    twins_of["firstnames"] = _new_first_names(twins_of, rng, pools)
    twins_of["cases"] = "absent_twin;"
    absent_parts.append(twins_of)
    k_other = int(n_absent - k_twin)
    fresh = _population(k_other, np.random.default_rng([seed, 77]), pools, streets, postcodes)
    fresh["cases"] = np.where(kind[kind != "absent_twin"] == "absent_namesake_elsewhere",
                              "absent_namesake_elsewhere;", "absent;")
    absent_parts.append(fresh)
    namesakes = fresh[fresh["cases"] == "absent_namesake_elsewhere;"]
    also = present.iloc[np.flatnonzero(rng.random(len(present)) < PRESENT_NAMESAKE)]
    present.loc[also.index, "cases"] = present.loc[also.index, "cases"] + "namesake_elsewhere;"
    for src in (namesakes, also):
        ns = src[["surname", "firstnames", "birth"]].copy()
        ns["street"] = streets[rng.integers(0, len(streets), len(ns))]
        ns["number"] = rng.integers(1, 250, len(ns)).astype(str)
        pick = rng.integers(0, len(postcodes), len(ns))
        pick = np.where(postcodes[pick] == src["postcode"].to_numpy(), (pick + 1) % len(postcodes),
                        pick)  # elsewhere: never the same postcode
        ns["postcode"] = postcodes[pick]
        extra_children.append(ns)
    absent = pd.concat(absent_parts, ignore_index=True)
    absent["true_key"] = ""
    extra = pd.concat(extra_children, ignore_index=True)
    extra["key"] = [f"C{i:07d}" for i in range(len(pop) + 1, len(pop) + len(extra) + 1)]
    cols = ["key", "surname", "firstnames", "birth", "street", "number", "postcode"]
    rr = pd.concat([pop[cols], extra[cols]], ignore_index=True)

    duo = pd.concat([present, absent], ignore_index=True)
    duo = duo.iloc[rng.permutation(len(duo))].reset_index(drop=True)
    duo["record_key"] = [f"D{i:07d}" for i in range(1, len(duo) + 1)]
    duo = _noisy(duo[["record_key", "surname", "firstnames", "birth", "street", "number",
                      "postcode", "true_key", "cases"]], rng, pools, streets, postcodes)
    return Benchmark(rr, duo)


def load(con: duckdb.DuckDBPyConnection, bench: Benchmark, peildatum: dt.date | None = None,
         rr_date: dt.date | None = None) -> None:
    """Write the benchmark in the tables the linkage reads (vault attached in memory)."""
    peil, rr_day = peildatum or bench.peildatum, rr_date or peildatum or bench.peildatum
    if not con.execute("select count(*) from duckdb_databases() where database_name = 'vault'"
                       ).fetchone()[0]:
        con.execute("attach ':memory:' as vault")
    con.execute("create schema if not exists raw")
    duo = bench.duo.assign(sha="duo-" + peil.isoformat(), row=np.arange(1, len(bench.duo) + 1),
                           peil=peil.strftime("%d-%m-%Y"),
                           dob=pd.to_datetime(bench.duo["birth"]).dt.strftime("%d-%m-%Y"))
    rr = bench.children.assign(sha="rr-" + rr_day.isoformat(),
                               row=np.arange(1, len(bench.children) + 1),
                               ref=rr_day.strftime("%d/%m/%Y"),
                               dob=pd.to_datetime(bench.children["birth"]).dt.strftime("%d/%m/%Y"))
    con.register("_bench_duo", duo)
    con.register("_bench_rr", rr)
    try:
        con.execute("""
            create table if not exists raw.duo_registrations (record_key varchar, peildatum varchar,
                geboortedatum varchar, postcode varchar, _source_file_sha256 varchar,
                _source_row bigint)""")
        con.execute("""
            create table if not exists vault.identity_duo_registrations (
                _source_file_sha256 varchar, _source_row bigint, achternaam varchar,
                voornamen varchar, straat varchar, huisnummer varchar)""")
        con.execute("""
            create table if not exists raw.rijksregister_children (pupil_key varchar,
                referentiedatum varchar, geboortedatum varchar, postcode varchar,
                _source_file_sha256 varchar, _source_row bigint)""")
        con.execute("""
            create table if not exists vault.identity_rijksregister_children (
                _source_file_sha256 varchar, _source_row bigint, naam varchar, voornamen varchar,
                straat varchar, huisnummer varchar)""")
        con.execute("insert into raw.duo_registrations select record_key, peil, dob, postcode, "
                    "sha, row from _bench_duo")
        con.execute("insert into vault.identity_duo_registrations select sha, row, surname, "
                    "firstnames, street, number from _bench_duo")
        if not con.execute("select count(*) from raw.rijksregister_children where "
                           "_source_file_sha256 = $s", {"s": "rr-" + rr_day.isoformat()}
                           ).fetchone()[0]:
            con.execute("insert into raw.rijksregister_children select key, ref, dob, postcode, "
                        "sha, row from _bench_rr")
            con.execute("insert into vault.identity_rijksregister_children select sha, row, "
                        "surname, firstnames, street, number from _bench_rr")
        con.execute("create or replace temp table bench_truth as select record_key, "
                    "nullif(true_key, '') as true_key, cases from _bench_duo")
    finally:
        con.unregister("_bench_duo")
        con.unregister("_bench_rr")


# ------------------------------------------------------------------ measurement

def measure(con: duckdb.DuckDBPyConnection, peildatum: dt.date) -> dict:
    """Precision and recall of the automatic links, review share, wrong links and missed
    children (synthetic ids and case labels only) against ``bench_truth``."""
    has_candidates = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() and "
        "schema_name = 'linkage' and table_name = 'duo_review_candidates'").fetchone()[0] > 0
    shown = ("select record_key, pupil_key from linkage.duo_review_candidates where peildatum = $d"
             if has_candidates else
             "select record_key, best_pupil_key as pupil_key from linkage.duo_review "
             "where peildatum = $d")
    con.execute(f"""
        create or replace temp table _bench_outcome as
        select t.record_key, t.true_key, t.cases, l.pupil_key as linked_key, l.match_method,
               v.reason, coalesce(v.reason is not null
                   and exists (select 1 from ({shown}) s where s.record_key = t.record_key
                               and s.pupil_key = t.true_key), false) as true_candidate_shown
        from bench_truth t
        left join (select * from linkage.duo_links where peildatum = $d) l using (record_key)
        left join (select * from linkage.duo_review where peildatum = $d) v using (record_key)""",
                {"d": peildatum})
    row = con.execute("""
        select count(*), count(linked_key), count(*) filter (where linked_key = true_key),
               count(*) filter (where linked_key is distinct from true_key
                                and linked_key is not null),
               count(true_key), count(reason),
               count(*) filter (where true_key is not null
                                and linked_key is distinct from true_key),
               count(*) filter (where true_key is not null and linked_key is distinct from true_key
                                and not true_candidate_shown)
        from _bench_outcome""").fetchone()
    records, links, correct, wrong, present, review, missed, missed_unshown = row
    wrong_rows = con.execute("""
        select record_key, linked_key, coalesce(true_key, 'absent'), match_method, cases
        from _bench_outcome where linked_key is not null and linked_key is distinct from true_key
        order by record_key""").fetchall()
    unshown_rows = con.execute("""
        select record_key, coalesce(true_key, ''), coalesce(reason, 'linked_to_other'), cases
        from _bench_outcome where true_key is not null and linked_key is distinct from true_key
              and not true_candidate_shown order by record_key""").fetchall()
    per_case = con.execute("""
        select c as case_label, count(*) as records,
               count(*) filter (where linked_key = true_key) as linked_correctly,
               count(*) filter (where linked_key is distinct from true_key
                                and linked_key is not null) as linked_wrongly,
               count(reason) as to_review
        from (select *, unnest(string_split(cases, ';')) as c from _bench_outcome)
        group by all order by records desc""").fetchall()
    con.execute("drop table _bench_outcome")
    return {
        "duo_records": records, "present_in_extract": present, "automatic_links": links,
        "correct_links": correct, "wrong_links": wrong, "to_review": review,
        "precision": correct / links if links else 1.0,
        "recall": correct / present if present else 1.0,
        "review_share": review / records if records else 0.0,
        "missed_present": missed, "missed_without_true_candidate_shown": missed_unshown,
        "wrong": [dict(zip(("record", "linked_to", "true_child", "method", "cases"), r))
                  for r in wrong_rows],
        "missed_unshown": [dict(zip(("record", "true_child", "outcome", "cases"), r))
                           for r in unshown_rows],
        "per_case": [dict(zip(("case", "records", "linked_correctly", "linked_wrongly",
                               "to_review"), r)) for r in per_case],
    }


def run(bench: Benchmark, path: Path, dates: int = 1) -> tuple[dict, list[float]]:
    """Load ``bench`` into a scratch DuckDB file at ``path``, link ``dates`` reference dates
    (the same DUO file on consecutive days, as a run over several dates would), measure the
    first. Returns the metrics (with the CPU seconds of the linkage: on a shared machine wall
    time overstates it) and the wall seconds of each date's linkage."""
    from orchestration.linkage import duo as linkage

    con = duckdb.connect(str(path))
    try:
        seconds = []
        days = [bench.peildatum + dt.timedelta(days=i) for i in range(dates)]
        for day in reversed(days):
            load(con, bench, day, bench.peildatum)
        cpu = time.process_time()
        for day in days:
            started = time.perf_counter()
            linkage.link_reference_date(con, day, bench.peildatum)
            seconds.append(time.perf_counter() - started)
        cpu = time.process_time() - cpu
        return {**measure(con, bench.peildatum), "linkage_cpu_seconds": cpu}, seconds
    finally:
        con.close()


def report(m: dict, seconds: list[float], bench: Benchmark) -> str:
    lines = [
        f"children in the extract     {len(bench.children):>10,}",
        f"DUO records                 {m['duo_records']:>10,}  "
        f"({m['present_in_extract']:,} with their child in the extract)",
        f"automatic links             {m['automatic_links']:>10,}  "
        f"({m['correct_links']:,} correct, {m['wrong_links']:,} wrong)",
        f"precision (automatic)       {m['precision']:>10.4f}",
        f"recall (automatic)          {m['recall']:>10.4f}",
        f"review share                {m['review_share']:>10.4f}  ({m['to_review']:,} records)",
        f"missed children             {m['missed_present']:>10,}  "
        f"({m['missed_without_true_candidate_shown']} without their true candidate in review)",
        f"linkage seconds per date    " + ", ".join(f"{s:.1f}" for s in seconds),
        f"linkage, all dates          {sum(seconds):>10.1f} s wall, "
        f"{m.get('linkage_cpu_seconds', 0.0):.1f} s CPU",
        "", f"{'case':<28}{'records':>9}{'linked ok':>11}{'wrong':>7}{'review':>8}"]
    lines += [f"{c['case']:<28}{c['records']:>9}{c['linked_correctly']:>11}"
              f"{c['linked_wrongly']:>7}{c['to_review']:>8}" for c in m["per_case"]]
    lines.append("")
    lines.append(f"wrong automatic links: {len(m['wrong'])}")
    lines += [f"  {w['record']} -> {w['linked_to']} (true: {w['true_child']}; {w['method']}; "
              f"{w['cases']})" for w in m["wrong"]]
    lines.append(f"missed children without their true candidate in review: "
                 f"{len(m['missed_unshown'])}")
    lines += [f"  {w['record']} (true: {w['true_child']}; {w['outcome']}; {w['cases']})"
              for w in m["missed_unshown"]]
    return "\n".join(lines)


def estimate_model(children: int, seed: int, write: bool) -> str:
    """Re-estimate the linkage model's m and u with splink on a benchmark of ``children``
    (labels: the ground truth), optionally write ``duo_model.json``; returns the table."""
    import json  # noqa: PLC0415

    from orchestration.linkage import duo as linkage  # noqa: PLC0415
    from orchestration.linkage import model  # noqa: PLC0415

    bench = generate(children, seed)
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "estimate.duckdb"))
        try:
            load(con, bench)
            linkage.prepare(con, bench.peildatum, bench.peildatum)
            cols = ", ".join(model.FEATURE_COLUMNS)
            con.execute(f"create table est_duo as select {cols}, t.true_key as label "
                        f"from _lk_duo d left join bench_truth t on t.record_key = d.uid")
            con.execute(f"create table est_rr as select {cols}, uid as label from _lk_rr")
            result = model.estimate(con, "est_duo", "est_rr")
        finally:
            con.close()
    result["estimated_on"] = {"benchmark_children": children, "seed": seed}
    if write:
        model.MODEL_FILE.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return model.table(result["comparisons"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.synthetic.linkage_benchmark",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duo-share", type=float, default=0.05,
                        help="DUO records as a share of the extract (default 0.05)")
    parser.add_argument("--dates", type=int, default=1,
                        help="reference dates to link (timing of a run over several dates)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="folder for the scratch DuckDB file (default: a temporary folder)")
    parser.add_argument("--estimate-model", action="store_true",
                        help="re-estimate the linkage model's m and u with splink instead "
                             "(default 100,000 children, seed 2: not the tests' seeds)")
    parser.add_argument("--write-model", action="store_true",
                        help="with --estimate-model: write orchestration/linkage/duo_model.json")
    args = parser.parse_args(argv)
    if args.estimate_model:
        children = args.children if args.children != 40_000 else 100_000
        seed = args.seed if args.seed != 1 else 2
        print(estimate_model(children, seed, args.write_model))
        return 0
    t0 = time.perf_counter()
    bench = generate(args.children, args.seed, args.duo_share)
    print(f"generated in {time.perf_counter() - t0:.1f} s", flush=True)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        m, seconds = run(bench, Path(tmp) / "linkage_benchmark.duckdb", args.dates)
    print(report(m, seconds, bench))
    return 0 if m["wrong_links"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
