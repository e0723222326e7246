"""Generate the whole synthetic source set: population -> schools -> careers -> every extract.

Why one entry point: all sources must describe the same children, so they are generated in one
run from one seed. Same (pupils, seed) gives byte-identical files. The ground truth that no source
would ever send (DUO links, injected defects, population counts) goes to ``_ground_truth/``, next
to but outside the per-source folders; ``SHA256SUMS`` covers the source files only.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import time
from pathlib import Path

from orchestration.foundations import calendar
from orchestration.foundations import school_year as sy
from orchestration.foundations.sources import SOURCES
from tools.synthetic import (careers, duo, extracts, geography, names, population,
                                     schools, youthcare)
from tools.synthetic import programmes as pg
from tools.synthetic.dates import duo_dates, of_date
from tools.synthetic.output import Writer, sha256sums

GROUND_TRUTH = "_ground_truth"
#: School years with a yearly Rijksregister extract (15 October): the period of the NAFT
#: evaluation's semi-aggregated file, 2017-18 to 2024-25, whose share of young people in
#: education needs the extract as its denominator every year (tests/integration/
#: test_naft_on_sample.py checks the sample against the registry's period).
POPULATION_EXTRACT_YEARS = tuple(sy.key(y) for y in range(2017, 2025))


def _log(verbose: bool, t0: float, message: str) -> None:
    if verbose:
        print(f"[{time.perf_counter() - t0:7.1f}s] {message}", flush=True)


def generate(n_pupils: int, seed: int, out: Path | str, defect_rate: float | None = None,
             verbose: bool = False) -> dict:
    """Write every extract of ``orchestration.foundations.sources.SOURCE_FILES`` into ``out/<source>/``.

    Returns the population summary (also written to ``_ground_truth/summary.json``).
    """
    t0 = time.perf_counter()
    out = Path(out)
    for source in (*SOURCES, GROUND_TRUTH):  # a rerun replaces the previous set completely
        if (out / source).exists():
            shutil.rmtree(out / source)
    (out / GROUND_TRUTH).mkdir(parents=True, exist_ok=True)

    geo = geography.load()
    streets = population.frame_of_streets(seed)
    pools = names.build_pools(seed)
    pop = population.generate(n_pupils, seed, geo, streets, pools)
    _log(verbose, t0, f"population: {pop.n} children")
    sch = schools.generate(n_pupils, seed, geo, streets)
    providers = schools.providers(n_pupils, seed, geo)
    nl_schools = schools.dutch_schools(int((pop.dutch_school_year != population.NEVER).sum()), seed)
    car = careers.simulate(pop, sch, seed)
    _log(verbose, t0, f"careers: {len(car.enrolments)} enrolment rows")
    naft = youthcare.naft(pop, car, sch, providers, seed)
    zlists = youthcare.zorgthuis(pop, car, seed)
    duo_pupils = duo.pupils(pop, streets, pools, seed)
    reference = [(d, of_date(d)) for d in population_extract_dates(
        [d for y in duo.DUO_YEARS for d in duo_dates(y)])]
    duo_rows = [(d, duo.rows_on(pop, duo_pupils, nl_schools, geo, streets, ref, y))
                for y in duo.DUO_YEARS for d in duo_dates(y) for ref in [of_date(d)]]
    _log(verbose, t0, "NAFT, zorgthuis and DUO derived")

    w = Writer(out)
    try:
        order_key = extracts.register_children(w, pop, geo, streets, seed)
        branches = extracts.register_branches(w, sch, geo, seed)
        extracts.write_discimus(w, pop, car, branches, order_key, seed)
        _log(verbose, t0, "Discimus written")
        extracts.write_led(w, car, seed)
        extracts.write_binc(w, naft, providers)
        extracts.write_zorgthuis(w, zlists)
        links = extracts.write_duo(w, duo_rows)
        rr = extracts.write_rijksregister(w, pop, reference)
        extracts.write_school_register(w, seed)
        _log(verbose, t0, f"{len(w.written)} extract files written")
        written = list(w.written)
    finally:
        w.close()

    links.to_csv(out / GROUND_TRUTH / "duo_links.csv", sep=";", index=False,
                 lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    summary = _summary(pop, sch, car, naft, zlists, duo_rows, rr, n_pupils, seed)
    if defect_rate:
        from tools.synthetic import defects

        n_defects = defects.inject(out, defect_rate, seed)
        summary["defects_injected"] = n_defects
        _log(verbose, t0, f"{n_defects} defects injected")
    (out / GROUND_TRUTH / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True)
                                                      + "\n", encoding="utf-8")
    files = [p for p in written if p.exists()]
    (out / "SHA256SUMS").write_text(sha256sums(out, files), encoding="utf-8")
    _log(verbose, t0, "done")
    return summary


def population_extract_dates(duo_reference: list[dt.date]) -> list[dt.date]:
    """The reference dates of the Rijksregister extracts: every DUO reference date, and 15
    October of every other school year in ``POPULATION_EXTRACT_YEARS``. Why: a delivery that
    counts school-age young people per school year (a denominator) needs the extract of each of
    its years, not only of the years DUO delivers."""
    dates = set(duo_reference)
    covered = {sy.of_date(d) for d in dates}
    for school_year in POPULATION_EXTRACT_YEARS:
        if school_year not in covered:
            dates.add(calendar.duo_reference_dates(school_year)["duo_october_15"])
    return sorted(dates)


def _summary(pop, sch, car, naft, zlists, duo_rows, rr, n_pupils, seed) -> dict:
    """Counts of the populations each protocol needs (for the report and the tests)."""
    e = car.enrolments
    m = sch.geo.municipalities
    in_antwerp = (m["nis"].to_numpy()[sch.branches["muni"].to_numpy()] == geography.ANTWERPEN_NIS)
    an_children = set(e.loc[e["an"], "child"])
    okan_children = set(e.loc[e["ov"] == pg.OV_OKAN, "child"])
    antwerp_children = set(e.loc[in_antwerp[e["branch"].to_numpy()], "child"])
    t = naft.trajectories
    nowhere = {}
    duo_children = {d.isoformat(): set(rows["child"]) for d, rows in duo_rows}
    for d, children in rr.items():
        day_n = of_date(dt.date.fromisoformat(d))
        enrolled = set(e.loc[(e["begin"] <= day_n) & (e["end"] >= day_n), "child"])
        nowhere[d] = int(len(set(children.tolist()) - enrolled - duo_children.get(d, set())))
    leavers = e[(e["reden"] > 0) & (e["situatie"] != careers.S_SCHOOL)
                & (e["hs"] >= pg.HS_SO)]
    child = leavers["child"].to_numpy()
    early = leavers[(leavers["reden"] == careers.R_E) & pop.will_drop[child]
                    & (leavers["end"].to_numpy() >= pop.birthday18[child])]
    return {
        "pupils": n_pupils, "seed": seed, "children": int(pop.n),
        "enrolment_rows": int(len(e)),
        "newcomers": int(pop.newcomer.sum()),
        "an_pupils": len(an_children),
        "okan_pupils": len(okan_children),
        "antwerp_okan_pupils": len(okan_children & antwerp_children),
        "antwerp_an_pupils": len(an_children & antwerp_children),
        "bis_numbers": int(pop.bis.sum()),
        "schools": int(len(sch.schools)), "branches": int(len(sch.branches)),
        "naft_individual_per_year": {str(k): int(v) for k, v in
                                     t[t["vorm"] == "INDIVIDUEEL"].groupby("year").size().items()},
        "naft_trajectories_per_year": {str(k): int(v) for k, v in t.groupby("year").size().items()},
        "zorgthuis_per_list": {f"{z.file_date}_{z.kind}": int(len(z.children)) for z in zlists},
        "zorgthuis_voluntary_mfc_per_list": {
            f"{z.file_date}_{z.kind}": int((z.residence == "MFC_VRIJWILLIG").sum())
            for z in zlists},
        "duo_per_reference_date": {d.isoformat(): int(len(rows)) for d, rows in duo_rows},
        "rijksregister_per_reference_date": {d: int(len(c)) for d, c in rr.items()},
        "enrolled_nowhere_per_reference_date": nowhere,
        "secondary_leavers": int(leavers["child"].nunique()),
        "early_school_leavers": int(early["child"].nunique()),
        "certificates_per_year": {str(k): int(v) for k, v in
                                  car.certificates.groupby("year").size().items()},
    }
