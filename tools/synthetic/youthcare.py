"""Opgroeien's data: NAFT trajectories in BINC and the zorgthuis lists.

Why derived from careers: NAFT beneficiaries must be pupils enrolled in secondary education when
their trajectory starts, at the school where it takes place, and zorgthuis lists hold pupils who
are enrolled on the counting date; deriving both from the simulated enrolments keeps every source
consistent. Trajectories exist for school years 2020-21 to 2024-25 only (the protocol's window).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tools.synthetic import programmes as pg
from tools.synthetic.careers import Careers
from tools.synthetic.dates import day, of_date, zorgthuis_dates
from tools.synthetic.population import NO_DAY, Population, quota
from tools.synthetic.schools import Schools

NAFT_YEARS = tuple(range(2020, 2025))
ZORGTHUIS_YEARS = tuple(range(2022, 2026))

RESULTS = ("BLIJFT_IN_ONDERWIJS", "HERNEEMT_ONDERWIJS", "HERORIENTATIE",
           "VROEGTIJDIG_SCHOOLVERLATEN", "ANDERE")
GOALS = ("Schoolmotivatie", "Aanwezigheid", "Gedrag", "Welbevinden", "Studieoriëntering",
         "Sociale vaardigheden")
REASONS = ("Spijbelen", "Gedragsproblemen", "Motivatieproblemen", "Schoolmoeheid", "Thuissituatie",
           "Psychisch welbevinden", "Conflict met school")
FREQUENCY = ("WEKELIJKS", "TWEEWEKELIJKS", "DAGELIJKS", "MAANDELIJKS")
PARTICIPATION = ("VOLLEDIG", "GEDEELTELIJK", "BEPERKT")
GROUP_TARGETS = ("LEERLINGENGROEP", "KLASGROEP", "LEERKRACHT", "LERARENTEAM", "SCHOOL")


@dataclass
class Naft:
    trajectories: pd.DataFrame  # one row per trajectory
    # traject_id, child, begin (residence day) and the school situation BINC registers when the
    # young person enrols in the trajectory: the pupil's own branch, ov, fin, leerweg
    beneficiaries: pd.DataFrame


def _multi(rng: np.random.Generator, options: tuple[str, ...], size: int) -> np.ndarray:
    """1-3 distinct options per row, '|'-separated, in the order of ``options``."""
    picks = rng.random((size, len(options))) < (0.8 / len(options))
    first = rng.integers(0, len(options), size)
    picks[np.arange(size), first] = True
    labels = np.array(options, dtype=object)
    return np.array(["|".join(labels[row]) for row in picks], dtype=object)


def naft(pop: Population, careers: Careers, schools: Schools, providers: pd.DataFrame,
         seed: int) -> Naft:
    """Individual, mixed and collective NAFT trajectories with their beneficiaries."""
    e = careers.enrolments
    branch_prov = schools.geo.municipalities["province"].to_numpy()[schools.branches["muni"].to_numpy()]
    prov_of_provider = providers["region"].to_numpy()
    trajectories, beneficiaries = [], []
    for y in NAFT_YEARS:
        rng = np.random.default_rng([seed, 20, y])
        rows = e[(e["year"] == y) & e["hs"].isin([pg.HS_SO, pg.HS_DBSO, pg.HS_BUSO])
                 & (e["ov"] != pg.OV_OKAN)]
        rows = rows.drop_duplicates("child", keep="first").reset_index(drop=True)
        child = rows["child"].to_numpy()
        n_sec = len(child)
        n_ind = min(quota(0.01, 25, n_sec, cap=0.25), n_sec // 3)
        n_mix = max(round(0.25 * n_ind), 5)
        n_col = max(round(0.4 * n_ind), 8)
        rate = rows["absent"].to_numpy() / np.maximum(rows["expected"].to_numpy(), 1)
        w = (1 + 4 * pop.will_drop[child] + 2 * (pop.ability[child] < -0.8)
             + 2 * (rows["hs"].to_numpy() == pg.HS_DBSO) + 10 * rate)
        pick = rng.choice(n_sec, size=n_ind + n_mix, replace=False, p=w / w.sum())
        sep1, jun30 = day(y, 9, 1), day(y + 1, 6, 30)
        n_all = n_ind + n_mix + n_col
        # the school and the first beneficiary (none for collective ones: a chosen branch)
        col_branch = rows["branch"].to_numpy()[rng.integers(0, n_sec, n_col)]
        branch = np.concatenate([rows["branch"].to_numpy()[pick], col_branch])
        r_begin = np.concatenate([rows["begin"].to_numpy()[pick], np.full(n_col, sep1)])
        r_end = np.concatenate([rows["end"].to_numpy()[pick], np.full(n_col, jun30)])
        lo = np.maximum(r_begin, day(y, 10, 1))
        hi = np.maximum(np.minimum(r_end, day(y + 1, 4, 30)), lo)
        begin = (lo + rng.random(n_all) * (hi - lo)).astype(np.int32)
        end = np.minimum(begin + rng.integers(30, 151, n_all), jun30).astype(np.int64)
        open_ = (y == NAFT_YEARS[-1]) & (rng.random(n_all) < 0.1)
        vorm = np.array(["INDIVIDUEEL"] * n_ind + ["GEMENGD"] * n_mix + ["COLLECTIEF"] * n_col,
                        dtype=object)
        target = np.where(vorm == "INDIVIDUEEL", "LEERLING",
                          np.where(vorm == "GEMENGD",
                                   np.where(rng.random(n_all) < 0.5, "LEERLING", "LEERLINGENGROEP"),
                                   np.array(GROUP_TARGETS, dtype=object)[
                                       rng.integers(0, len(GROUP_TARGETS), n_all)]))
        risk = np.concatenate([pop.will_drop[child[pick]], np.zeros(n_col, bool)])
        ttype = np.where(rng.random(n_all) < 0.25 + 0.25 * risk, "HERINTREDING", "PREVENTIEF")
        result = np.where(risk & (rng.random(n_all) < 0.5), "VROEGTIJDIG_SCHOOLVERLATEN",
                          np.array(RESULTS, dtype=object)[
                              rng.choice(len(RESULTS), n_all, p=[0.45, 0.2, 0.2, 0.05, 0.1])])
        sessions = rng.integers(3, 31, n_all)
        prov = branch_prov[branch]
        provider = np.empty(n_all, dtype=object)
        for p_name in np.unique(prov):
            here = np.flatnonzero(prov == p_name)
            cands = np.flatnonzero(prov_of_provider == p_name)
            if len(cands) == 0:
                cands = np.arange(len(providers))
            provider[here] = providers["provider_id"].to_numpy()[cands[rng.integers(0, len(cands), len(here))]]
        ids = np.array([f"NAFT-{y}-{i + 1:06d}" for i in range(n_all)], dtype=object)
        trajectories.append(pd.DataFrame({
            "traject_id": ids, "year": y, "type": ttype, "vorm": vorm, "target": target,
            "begin": begin, "end": np.where(open_, NO_DAY, end), "result": np.where(open_, None, result),
            "goals": _multi(rng, GOALS, n_all), "reasons": _multi(rng, REASONS, n_all),
            "sessions": sessions, "hours": sessions * rng.integers(1, 4, n_all),
            "frequency": np.array(FREQUENCY, dtype=object)[rng.choice(4, n_all, p=[0.5, 0.25, 0.1, 0.15])],
            "participation": np.array(PARTICIPATION, dtype=object)[rng.choice(3, n_all, p=[0.6, 0.3, 0.1])],
            "provider_id": provider, "branch": branch,
        }))
        # beneficiaries: individual and mixed ones have their pupil; mixed ones and 40 % of the
        # collective ones aimed at pupils also have classmates (same branch, same leerjaar)
        situation = rows[["branch", "ov", "fin", "leerweg"]].rename(columns={"branch": "school_branch"})
        first = pd.DataFrame({"traject_id": ids[:n_ind + n_mix], "child": child[pick],
                              "begin": begin[:n_ind + n_mix]}).join(
            situation.iloc[pick].reset_index(drop=True))
        by_class = rows.groupby(["branch", "leerjaar"]).indices
        by_branch = rows.groupby("branch").indices
        key_of = list(zip(rows["branch"].to_numpy(), rows["leerjaar"].to_numpy()))
        extra = []
        group_rows = list(range(n_ind, n_all))
        for t in group_rows:
            if t >= n_ind + n_mix:  # collective
                if target[t] not in ("LEERLINGENGROEP", "KLASGROEP") or rng.random() >= 0.4:
                    continue
                members = by_branch[branch[t]]
                size = int(rng.integers(3, 9))
            else:  # mixed: up to two classmates of the pupil
                members = by_class[key_of[pick[t]]]
                size = int(rng.integers(0, 3))
            members = members[child[members] != (child[pick[t]] if t < n_ind + n_mix else -1)]
            if size == 0 or len(members) == 0:
                continue
            chosen = rng.choice(members, size=min(size, len(members)), replace=False)
            extra.append(pd.DataFrame({"traject_id": ids[t], "child": child[chosen],
                                       "begin": begin[t]}).join(
                situation.iloc[chosen].reset_index(drop=True)))
        beneficiaries.append(pd.concat([first, *extra], ignore_index=True))
    return Naft(pd.concat(trajectories, ignore_index=True),
                pd.concat(beneficiaries, ignore_index=True))


# Share of MFC stays that are voluntary care: listed with their MFC residence, as art. 3 of
# the zorgthuis protocol describes, but never counted (they have no care home).
VOLUNTARY_MFC_SHARE = 0.35
MFC_RESIDENCE = np.array(["GEEN_MFC", "MFC_NIET_VRIJWILLIG", "MFC_VRIJWILLIG"], dtype=object)


@dataclass
class ZorgthuisList:
    file_date: str  # the counting date, ISO
    kind: str  # voorlopig / definitief
    children: np.ndarray
    counting_day: int
    residence: np.ndarray  # per child: GEEN_MFC, MFC_NIET_VRIJWILLIG or MFC_VRIJWILLIG


def mfc_residence(pop: Population, seed: int) -> np.ndarray:
    """Per child, the MFC residence the zorgthuis list states (art. 3: for pupils staying in an
    MFC, whether the care is non-voluntary). A stream of its own, so the other sources stay as
    they were."""
    voluntary = np.random.default_rng([seed, 22]).random(pop.n) < VOLUNTARY_MFC_SHARE
    return MFC_RESIDENCE[np.where(pop.care_mfc, np.where(voluntary, 2, 1), 0)]


def zorgthuis(pop: Population, careers: Careers, seed: int) -> list[ZorgthuisList]:
    """Lists per counting date: provisional and definitive for October and February, a single
    (definitive) list for January and May. The provisional list misses a few late registrations
    and holds a few pupils whose care ended or had not started, as a real first list would."""
    e = careers.enrolments
    residence = mfc_residence(pop, seed)
    out = []
    for y in ZORGTHUIS_YEARS:
        rows = e[e["year"] == y]
        for name, when in zorgthuis_dates(y).items():
            rng = np.random.default_rng([seed, 21, y, list(zorgthuis_dates(y)).index(name)])
            d = of_date(when)
            enrolled = rows[(rows["begin"] <= d) & (rows["end"] >= d)]["child"].unique()
            enrolled.sort()
            in_care = (pop.care_start[enrolled] <= d) & (pop.care_end[enrolled] >= d)
            definitive = enrolled[in_care]
            near = enrolled[~in_care & (pop.care_start[enrolled] > 0)
                            & (np.abs(pop.care_start[enrolled] - d) < 45)]
            if name in ("october", "february"):
                keep = definitive[rng.random(len(definitive)) >= 0.05]
                wrong = near[rng.random(len(near)) < 0.5]
                provisional = np.union1d(keep, wrong)
                out.append(ZorgthuisList(when.isoformat(), "voorlopig", provisional, d,
                                         residence[provisional]))
            out.append(ZorgthuisList(when.isoformat(), "definitief", definitive, d,
                                     residence[definitive]))
    return out
