"""School careers 2015-16 to 2025-26: enrolments, attests, certificates and absences.

Why a year-by-year simulation: repeating a year, reorientation after a B attest, OKAN followed by
regular secondary, leaving for a Dutch school, and early school leaving all change what happens
next, so each school year is computed from the previous one. The loop runs over the 11 school
years, never over pupils: every step is a numpy operation on all children at once.

A child's place in the standard track is its *stage*: 0-2 kleuter (leerjaar 1-3), 3-8 lager
(1-6), 9-14 secundair (1-6), 15 the 7th year. Without delay, stage = school year - birth year - 3.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tools.synthetic import programmes as pg
from tools.synthetic.dates import YEARS, day, last_school_day_on_or_before, of_date, \
    school_days_between
from tools.synthetic.population import Population, residence_at
from tools.synthetic.schools import K_BAO, K_BUBAO, K_BUSO, K_DBSO, K_OKAN, K_SO, Schools

REDEN = ("", "X", "E", "T", "S")
SITUATIE = ("", "1", "5", "9", "10", "12")
R_NONE, R_X, R_E, R_T, R_S = range(5)
S_NONE, S_TRAINING, S_WORK, S_OTHER, S_NOINFO, S_SCHOOL = range(6)

# certificate kinds (LED)
CERT_DIPLOMA, CERT_STUDIEGETUIGSCHRIFT, CERT_OV3, CERT_DBSO, CERT_FIRST_GRADE = range(5)


@dataclass
class Careers:
    """The simulated school careers as flat tables (numpy-backed DataFrames)."""

    enrolments: pd.DataFrame  # one row per enrolment period
    attests: pd.DataFrame  # one row per pupil-year enrolled at the end of the school year
    certificates: pd.DataFrame  # one row per qualification obtained (LED)


KLEUTER_STAY = 0.015  # chance that a pupil of the 3rd kleuter class stays there another year


def _choice(rng: np.random.Generator, values, p, size: int) -> np.ndarray:
    return np.asarray(values)[rng.choice(len(values), size=size, p=p)]


def _assign_track(ability: np.ndarray, u: np.ndarray, no_aso: np.ndarray,
                  first_b: np.ndarray) -> np.ndarray:
    """Onderwijsvorm at the start of the 2nd graad, from ability (ASO ~40 %, KSO ~3 %,
    TSO ~30 %, BSO the rest); after 1B or a clausulated B attest no ASO."""
    score = ability + 0.5 * (u - 0.5)
    track = np.where(score > 0.25, pg.TRACK_ASO, np.where(score > -0.55, pg.TRACK_TSO, pg.TRACK_BSO))
    track = np.where((u > 0.97) & (score > -0.55), pg.TRACK_KSO, track)
    track = np.where(no_aso & (track == pg.TRACK_ASO), pg.TRACK_TSO, track)
    return np.where(first_b, pg.TRACK_BSO, track).astype(np.int8)


def simulate(pop: Population, schools: Schools, seed: int) -> Careers:
    """Run the careers of all children over the 11 school years."""
    rng0 = np.random.default_rng([seed, 10])
    n = pop.n
    u = pop.uniforms
    by = pop.birth_year
    ab = pop.ability

    # ---- state in September 2015
    nominal = YEARS[0] - by - 3
    p_rep = np.clip(0.035 - 0.02 * ab + 0.04 * pop.will_drop, 0.004, 0.25)
    delay = np.minimum(rng0.binomial(np.clip(nominal - 3, 0, 12), p_rep), 4)  # see `longest`
    s = (nominal - delay).astype(np.int16)
    first_b = (ab + 0.4 * (u["first_b"] - 0.5)) < -1.45
    track = np.where(s >= 11, _assign_track(ab, u["track"], np.zeros(n, bool), first_b),
                     pg.TRACK_NONE).astype(np.int8)
    special_stage = pop.special_stage
    seventh_wish = u["seventh"] < 0.55
    dbso = (track == pg.TRACK_BSO) & (s >= 12) & (u["dbso"] < 0.12 + 0.2 * pop.will_drop)
    b18 = pop.birthday18.astype("datetime64[D]")
    b18_year = b18.astype("datetime64[Y]").astype(np.int64) + 1970
    b18_month = b18.astype("datetime64[M]").astype(np.int64) % 12 + 1
    # school year in which an early leaver leaves: the one holding the 18th birthday (a July or
    # August birthday: the next one)
    drop_year = (b18_year - (b18_month < 7)).astype(np.int32)
    is_special = (special_stage >= 0) & (s >= special_stage)
    final_stage = np.where((track == pg.TRACK_BSO) & seventh_wish & ~is_special & ~dbso, 15, 14)
    done = (s > final_stage) | (pop.will_drop & (drop_year < YEARS[0]) & (s >= 9))
    s[pop.newcomer] = -100  # not in Belgium yet
    done[pop.newcomer] = False

    # ---- newcomer placement, decided once
    age31 = pop.arrival_year - by  # age on 31 December of the arrival school year
    okan_age = pop.newcomer & (age31 >= 12) & (age31 <= 17)
    primary_age = pop.newcomer & (age31 >= 6) & (age31 <= 11)
    k_lower = _choice(rng0, [0, 1, 2], [0.2, 0.5, 0.3], n)
    place = np.where(okan_age, 9 + np.clip(age31 + 1 - 12 - k_lower, 0, 5),
                     2 + np.clip(age31 - 5 - np.minimum(k_lower, 1), 1, 6)).astype(np.int16)
    feb1 = day(pop.arrival_year + 1, 2, 1)  # 1 February of the arrival school year
    # arrivals after 1 February stay in OKAN a second year, if still under 18 on 31 December
    okan_second = okan_age & (pop.arrival_day > feb1) & (age31 <= 16)
    last_an_year = np.where(okan_second, pop.arrival_year + 1, pop.arrival_year)
    newcomer_track = _choice(rng0, [pg.TRACK_ASO, pg.TRACK_TSO, pg.TRACK_BSO], [0.15, 0.35, 0.5], n)

    branch = np.full(n, -1, dtype=np.int64)
    kind_prev = np.full(n, -1, dtype=np.int8)
    no_aso = np.zeros(n, dtype=bool)
    enrol_parts, attest_parts, cert_parts = [], [], []
    attest_day = {}

    for y in YEARS:
        rng = np.random.default_rng([seed, 11, y])
        sep1, jun30 = day(y, 9, 1), day(y + 1, 6, 30)
        attest_day[y] = of_date(last_school_day_on_or_before(dt.date(y + 1, 6, 30)))

        arriving = pop.newcomer & (pop.arrival_year == y)
        s = np.where(arriving, place, s)
        track = np.where(arriving & (place >= 11), newcomer_track, track).astype(np.int8)
        first_b = np.where(arriving & (place >= 9), u["first_b"] < 0.4, first_b)
        okan_now = okan_age & ((pop.arrival_year == y) | ((pop.arrival_year + 1 == y) & okan_second))
        present = (~done & (s >= 0) & (y < pop.dutch_school_year) & (y < pop.nowhere_year)
                   & ((~pop.newcomer) | (y >= pop.arrival_year)))
        an = present & (okan_now | (primary_age & arriving))
        gan = present & pop.newcomer & ~an & (y > last_an_year) & (y <= last_an_year + 4)

        special_now = (special_stage >= 0) & (s >= special_stage) & ~okan_now
        level = np.where(s <= 2, 0, np.where(s <= 8, 1, 2))
        kind = np.where(okan_now, K_OKAN,
                        np.where(level < 2, np.where(special_now, K_BUBAO, K_BAO),
                                 np.where(special_now, K_BUSO,
                                          np.where(dbso, K_DBSO, K_SO)))).astype(np.int8)

        begin = np.where(arriving, np.maximum(pop.arrival_day, sep1), sep1).astype(np.int32)
        child_all = np.arange(n)
        muni = schools.geo.postcodes["muni"].to_numpy()[residence_at(pop, begin, child_all)]
        need = present & ((kind != kind_prev) | (branch < 0))
        p_change = np.array([0.03, 0.04, 0.05])[level]
        voluntary = present & ~need & (rng.random(n) < p_change) & (kind != K_OKAN)
        sel = np.flatnonzero(need | voluntary)
        branch[sel] = schools.pick(kind[sel], muni[sel], rng.random(len(sel)))

        # ---- leaving during the year: early school leavers (after their 18th birthday)
        drop_now = present & pop.will_drop & (level == 2) & (y == drop_year)
        lo = np.maximum(begin, pop.birthday18)
        leave = (lo + (rng.random(n) * (jun30 - lo + 1))).astype(np.int32)
        leave = np.minimum(np.maximum(leave, lo), jun30)
        end = np.where(drop_now, leave, jun30).astype(np.int32)

        # ---- school change during the year (two enrolment rows)
        mid = (present & ~okan_now & ~drop_now & (begin == sep1) & (rng.random(n) < 0.015))
        change_day = (day(y, 10, 1) + rng.random(n) * (day(y + 1, 5, 31) - day(y, 10, 1))).astype(np.int32)
        mid_idx = np.flatnonzero(mid)
        branch2 = branch.copy()
        if len(mid_idx):
            muni2 = schools.geo.postcodes["muni"].to_numpy()[residence_at(pop, change_day[mid_idx], mid_idx)]
            branch2[mid_idx] = schools.pick_other_school(kind[mid_idx], muni2,
                                                         rng.random(len(mid_idx)), branch[mid_idx])

        # ---- programme of the year
        leerjaar = np.where(okan_now, 1, np.where(level == 0, s + 1, np.where(level == 1, s - 2,
                                                                               s - 8))).astype(np.int8)
        leerjaar = np.clip(leerjaar, 1, 7)
        modern = pg.is_modern(leerjaar, y)
        ov_code = special_now & (level == 2)
        opl = np.where(ov_code, pop.special_ov, 0).astype(np.int8)
        regular_ov = ~special_now | (opl == 4)
        graad = np.where((level == 2) & ~okan_now & regular_ov,
                         np.minimum((leerjaar + 1) // 2, 3), 0).astype(np.int8)
        first_grade = (level == 2) & (leerjaar <= 2) & ~okan_now
        ov = np.where(okan_now, pg.OV_OKAN,
                      np.where(first_grade & regular_ov, np.where(first_b, pg.OV_B, pg.OV_A),
                               np.where((level == 2) & regular_ov, pg.TRACK_OV[track], pg.OV_NONE)))
        ov = np.where(kind == K_DBSO, pg.OV_BSO, ov).astype(np.int8)
        tso_du = u["track"] < 0.55  # TSO/KSO pupils in dubbele finaliteit (else doorstroom)
        fin = np.select(
            [(level < 2) | okan_now | ~regular_ov,
             leerjaar == 7,
             first_grade & modern,
             modern & (track == pg.TRACK_ASO),
             modern & np.isin(track, [pg.TRACK_TSO, pg.TRACK_KSO]) & tso_du,
             modern & np.isin(track, [pg.TRACK_TSO, pg.TRACK_KSO]),
             modern & (track == pg.TRACK_BSO)],
            [pg.FIN_NONE, pg.FIN_7E, pg.FIN_E, pg.FIN_DO, pg.FIN_DU, pg.FIN_DO, pg.FIN_A],
            pg.FIN_NONE).astype(np.int8)
        fin = np.where((kind == K_DBSO) & modern, pg.FIN_A, fin).astype(np.int8)
        duaal = ((y >= 2019) & (level == 2) & ~okan_now
                 & (((kind == K_SO) & (leerjaar >= 5) & np.isin(track, [pg.TRACK_TSO, pg.TRACK_BSO])
                     & (u["duaal"] < 0.05))
                    | ((kind == K_DBSO) & (u["duaal"] < 0.5))))
        leerweg = np.where(level == 2, np.where(duaal, 2, 1), 0).astype(np.int8)
        richting_list = _richting_list(level, leerjaar, first_b, track, modern, fin, okan_now,
                                       opl, kind)
        u_study = np.where(graad >= 3, u["study3"], u["study2"])
        richting = pg.richting_id(richting_list, u_study)
        hs = np.select([kind == K_BUBAO, kind == K_BAO], [np.where(level == 0, pg.HS_BUKLEUTER,
                                                                    pg.HS_BULAGER),
                                                           np.where(level == 0, pg.HS_KLEUTER,
                                                                    pg.HS_LAGER)],
                       np.where(kind == K_BUSO, pg.HS_BUSO,
                                np.where(kind == K_DBSO, pg.HS_DBSO, pg.HS_SO))).astype(np.int8)
        type_bu = np.where(special_now, pop.special_type, 0).astype(np.int8)
        # ---- outcome of the year
        ra = rng.random(n)
        p_c = np.where(level == 1,
                       np.clip(0.022 - 0.015 * ab + 0.02 * (leerjaar == 1), 0.003, 0.15),
                       np.clip(0.055 - 0.035 * ab + 0.10 * pop.will_drop, 0.01, 0.4))
        p_c = np.where(special_now & (opl != 4), 0.0, p_c)
        p_c = np.where(kind == K_DBSO, 0.05, p_c)
        p_b = np.where((level == 2) & (leerjaar <= 5) & regular_ov & (kind == K_SO), 0.06, 0.0)
        attest = np.where(ra < p_c, 3, np.where(ra < p_c + p_b, 2, 1)).astype(np.int8)
        final = (level == 2) & ~okan_now & ((s == 14) | (s == 15))
        attest = np.where(final & (attest == 2), 1, attest)
        held_back = final & pop.will_drop & (y < drop_year)  # future leavers fail the final year
        attest = np.where(held_back, 3, attest)
        # no repeat beyond the longest delay the article-7 rule calls plausible (kleuter 2, lager
        # 4, buitengewoon lager 6, secundair 7): a real school would orient the pupil on instead
        delay_now = (y - by - 3) - s
        longest = np.where(level == 1, np.where(special_now, 6, 4), 7)
        attest = np.where((attest == 3) & (delay_now >= longest), 1, attest)
        attest = np.where(okan_now, 1, attest)
        attest = np.where(level == 0, 0, attest).astype(np.int8)
        passed = (attest == 1) | (attest == 2)

        bso_regular = (track == pg.TRACK_BSO) & (kind == K_SO)
        in_so = (kind == K_SO) & ~drop_now & present
        diploma = in_so & passed & (((s == 14) & (track != pg.TRACK_BSO)) | (s == 15))
        sgs = in_so & passed & (s == 14) & bso_regular
        buso_end = present & (kind == K_BUSO) & (s >= 14) & ~drop_now
        ov4_dipl = buso_end & (opl == 4) & passed
        ov3_cert = buso_end & (opl == 3)
        dbso_end = present & (kind == K_DBSO) & (s >= 14) & passed & ~drop_now
        first_grade_cert = in_so & passed & (s == 10) & ~okan_now
        to_seventh = sgs & seventh_wish
        leaves = (diploma | (sgs & ~seventh_wish) | buso_end | dbso_end | drop_now)
        reden = np.zeros(n, dtype=np.int8)
        situatie = np.zeros(n, dtype=np.int8)
        qualified_exit = leaves & ~drop_now
        reden = np.where(qualified_exit, R_X, reden)
        situatie = np.where(qualified_exit, _choice(rng, [S_TRAINING, S_WORK, S_NOINFO],
                                                    [0.6, 0.25, 0.15], n), situatie)
        reden = np.where(drop_now, R_E, reden)
        situatie = np.where(drop_now, _choice(rng, [S_WORK, S_NOINFO, S_OTHER], [0.4, 0.4, 0.2], n),
                            situatie)
        to_nl = present & (pop.dutch_school_year == y + 1) & ~leaves
        to_nowhere = present & (pop.nowhere_year == y + 1) & ~leaves
        reden = np.where(to_nl, R_X, np.where(to_nowhere, R_E, reden))
        situatie = np.where(to_nl, S_OTHER, np.where(to_nowhere, S_NOINFO, situatie)).astype(np.int8)

        # ---- rows of the year
        idx = np.flatnonzero(present)
        first_end = np.where(mid, change_day - 1, end)
        first_reden = np.where(mid, _choice(rng, [R_E, R_S, R_T], [0.7, 0.2, 0.1], n), reden)
        first_sit = np.where(mid, S_SCHOOL, situatie)
        common = {"leerjaar": leerjaar, "graad": graad, "ov": ov, "fin": fin, "leerweg": leerweg,
                  "richting": richting, "opl": opl, "type_bu": type_bu, "hs": hs, "kind": kind,
                  "an": an, "gan": gan}
        part = {"child": idx.astype(np.int32), "year": np.full(len(idx), y, np.int16),
                "branch": branch[idx].astype(np.int32), "begin": begin[idx],
                "end": first_end[idx].astype(np.int32), "reden": first_reden[idx].astype(np.int8),
                "situatie": first_sit[idx].astype(np.int8), "seq": np.zeros(len(idx), np.int8),
                "last": ~mid[idx]}
        part.update({k: v[idx] for k, v in common.items()})
        enrol_parts.append(pd.DataFrame(part))
        if len(mid_idx):
            part2 = {"child": mid_idx.astype(np.int32), "year": np.full(len(mid_idx), y, np.int16),
                     "branch": branch2[mid_idx].astype(np.int32), "begin": change_day[mid_idx],
                     "end": end[mid_idx], "reden": reden[mid_idx].astype(np.int8),
                     "situatie": situatie[mid_idx].astype(np.int8),
                     "seq": np.ones(len(mid_idx), np.int8), "last": np.ones(len(mid_idx), bool)}
            part2.update({k: v[mid_idx] for k, v in common.items()})
            enrol_parts.append(pd.DataFrame(part2))

        # attests: primary and secondary pupils still enrolled on 30 June
        att = np.flatnonzero(present & (level >= 1) & ~drop_now)
        claus = np.where(attest[att] == 2, 1 + rng.integers(0, len(pg.CLAUSULERING) - 1, len(att)), 0)
        attest_parts.append(pd.DataFrame({
            "child": att.astype(np.int32), "year": np.full(len(att), y, np.int16),
            "branch": np.where(mid[att], branch2[att], branch[att]).astype(np.int32),
            "leerjaar": leerjaar[att], "attest": attest[att], "claus": claus.astype(np.int8)}))

        # certificates (LED)
        for kind_cert, mask in ((CERT_DIPLOMA, diploma | ov4_dipl), (CERT_STUDIEGETUIGSCHRIFT, sgs),
                                (CERT_OV3, ov3_cert), (CERT_DBSO, dbso_end),
                                (CERT_FIRST_GRADE, first_grade_cert)):
            c = np.flatnonzero(mask)
            cert_parts.append(pd.DataFrame({
                "child": c.astype(np.int32), "year": np.full(len(c), y, np.int16),
                "branch": np.where(mid[c], branch2[c], branch[c]).astype(np.int32),
                "cert": np.full(len(c), kind_cert, np.int8), "track": track[c],
                "ov": ov[c], "leerjaar": leerjaar[c], "richting": richting[c],
                "special": special_now[c]}))

        # ---- next year's state
        advance = present & ~okan_now & (passed | (level == 0))
        kleuter_stay = present & (level == 0) & (s == 2) & (ra < KLEUTER_STAY) & (delay_now < 2)
        advance &= ~kleuter_stay
        s_next = np.where(advance, s + 1, s).astype(np.int16)
        s_next = np.where(present & okan_now, s, s_next)
        enter_s1 = present & (s_next == 9) & (s < 9)
        first_b = np.where(enter_s1 & ~pop.newcomer, (ab + 0.4 * (u["first_b"] - 0.5)) < -1.45,
                           first_b)
        no_aso = np.where(present & (attest == 2) & (level == 2) & (s == 10), True, no_aso)
        enter_s3 = present & (s_next == 11) & (s == 10)
        track = np.where(enter_s3 & (track == pg.TRACK_NONE),
                         _assign_track(ab, u["track"], no_aso, first_b), track).astype(np.int8)
        down = present & (attest == 2) & (s >= 11) & (rng.random(n) < 0.8)
        track = np.where(down & np.isin(track, [pg.TRACK_ASO, pg.TRACK_KSO]), pg.TRACK_TSO,
                         np.where(down & (track == pg.TRACK_TSO), pg.TRACK_BSO, track)).astype(np.int8)
        age_next = (y + 1) - by
        dbso = dbso | (present & (track == pg.TRACK_BSO) & (s_next >= 11) & (age_next >= 15)
                       & (kind == K_SO) & (rng.random(n) < 0.03 + 0.1 * pop.will_drop))
        done = done | (present & leaves & ~to_seventh)
        s = np.where(present, s_next, np.where((s < 0) & ~pop.newcomer, s + 1, s))
        kind_prev = np.where(present, kind, -1).astype(np.int8)
        branch = np.where(mid, branch2, branch)
        branch = np.where(present, branch, -1)

    enrolments = pd.concat(enrol_parts, ignore_index=True)
    enrolments["admgroep"] = pg.admgroep(enrolments["hs"].to_numpy(), enrolments["leerjaar"].to_numpy(),
                                         enrolments["richting"].to_numpy(), enrolments["opl"].to_numpy(),
                                         enrolments["leerweg"].to_numpy()).astype(np.int32)
    attests = pd.concat(attest_parts, ignore_index=True)
    attests["date"] = attests["year"].map(attest_day).astype(np.int32)
    certificates = pd.concat(cert_parts, ignore_index=True)
    certificates["date"] = certificates["year"].map(attest_day).astype(np.int32)
    _absences(enrolments, pop, seed)
    return Careers(enrolments, attests, certificates)


def _richting_list(level, leerjaar, first_b, track, modern, fin, okan, opl, kind) -> np.ndarray:
    L = pg.LIST_ID
    sec = level == 2
    old_by_track = np.array([L["none"], L["ASO_old"], L["TSO_old"], L["KSO_old"], L["BSO_old"]])
    new_by_track = np.array([L["none"], L["DO_ASO"], L["DO_TSO"], L["DO_KSO"], L["A_BSO"]])
    upper = np.where(modern, new_by_track[track], old_by_track[track])
    upper = np.where(modern & (fin == pg.FIN_DU) & (track == pg.TRACK_TSO), L["DU_TSO"], upper)
    upper = np.where(modern & (fin == pg.FIN_DU) & (track == pg.TRACK_KSO), L["DU_KSO"], upper)
    return np.select(
        [~sec, okan, opl == 1, opl == 2, opl == 3, kind == K_DBSO,
         (leerjaar == 1) & first_b, leerjaar == 1,
         (leerjaar == 2) & first_b, leerjaar == 2, leerjaar == 7],
        [L["none"], L["OKAN"], L["OV1"], L["OV2"], L["OV3"], L["DBSO"],
         L["1B"], L["1A"],
         np.where(modern, L["2B_new"], L["2B_old"]), np.where(modern, L["2A_new"], L["2A_old"]),
         L["7_BSO"]],
        upper)


def _absences(enrolments: pd.DataFrame, pop: Population, seed: int) -> None:
    """Absence counts per enrolment row, in half days (added as columns in place)."""
    rng = np.random.default_rng([seed, 12])
    child = enrolments["child"].to_numpy()
    expected = 2 * school_days_between(enrolments["begin"].to_numpy(), enrolments["end"].to_numpy())
    risk = (pop.will_drop[child] * (enrolments["hs"].to_numpy() >= pg.HS_SO) * 2.5
            + (enrolments["kind"].to_numpy() == K_DBSO) * 1.5 + (pop.ability[child] < -1) * 0.5)
    base = rng.gamma(0.9, 0.035, len(child)) * (1 + risk)
    rate = np.clip(base, 0, 0.6)
    absent = rng.binomial(expected, rate)
    problem = rng.binomial(absent, np.clip(0.08 + 0.25 * risk, 0, 0.9))
    n_long = rng.poisson(0.02 + 0.12 * risk)
    n_long = np.where(expected >= 40, np.minimum(n_long, 3), 0)
    long_days = n_long * rng.integers(10, 31, len(child))
    long_days = np.minimum(long_days, expected // 2)
    n_long = np.where(long_days >= 10, n_long, 0)
    long_days = np.where(n_long > 0, long_days, 0)
    absent = np.minimum(np.maximum(absent, 2 * long_days), expected)
    enrolments["expected"] = expected.astype(np.int32)
    enrolments["absent"] = absent.astype(np.int32)
    enrolments["problem"] = np.minimum(problem, absent).astype(np.int32)
    enrolments["n_long"] = n_long.astype(np.int16)
    enrolments["long_days"] = long_days.astype(np.int32)
