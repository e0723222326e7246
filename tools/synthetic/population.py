"""The children: one consistent synthetic population shared by every source.

Every child gets, once: a birth date, sex, background (names, nationality, home language), OKI
characteristics, a residence (with at most one move), an INSZ, and the roles that make each
protocol testable: newcomer (arrives at 6-17, secondary-age ones go to OKAN), pupil at a Dutch
school (DUO), child enrolled nowhere, early school leaver, special education, zorgthuis. All
arrays are numpy, one element per child, so 1.2 million children are generated in seconds.

Roles get a realistic rate with a floor for small samples: a 5,000-child sample must still feed
every protocol (>= 60 Antwerp OKAN pupils, >= 30 DUO pupils per reference date, ...), so in
small samples some groups are over-represented. :func:`quota` is that rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tools.synthetic import geography, insz, names
from tools.synthetic.dates import FIRST_YEAR, LAST_YEAR, day, days_of

BIRTH_YEARS = (1997, 2022)  # covers S7 in 2015-16 down to the first kleuterklas in 2025-26
NO_DAY = np.iinfo(np.int32).min  # "no date" in day-number arrays
NEVER = 9999  # "never" in school-year arrays


def quota(rate: float, floor: int, base: int, cap: float = 0.05) -> int:
    """Group size: ``rate`` of ``base``, at least ``floor``, but never above ``cap`` of it."""
    return int(min(max(round(rate * base), floor), round(cap * base)))


@dataclass
class Population:
    """Per-child arrays (index = child id) plus the DUO-relevant extras."""

    n: int
    birth: np.ndarray  # datetime64[D]
    birth_day: np.ndarray  # int32 day number
    birth_year: np.ndarray
    birthday18: np.ndarray  # int32 day number of the 18th birthday
    female: np.ndarray
    group: np.ndarray  # index into names.GROUPS
    nationality: np.ndarray  # object (ISO alpha-3)
    language: np.ndarray  # object (ISO 639-2)
    surname: np.ndarray
    firstnames: np.ndarray
    insz: np.ndarray
    bis: np.ndarray
    ability: np.ndarray
    mother_low: np.ndarray
    allowance_base: np.ndarray
    neighbourhood_p: np.ndarray
    family: np.ndarray  # index into FAMILY
    # residence: postcode row before and after the move, street index, house number
    pc0: np.ndarray
    pc1: np.ndarray
    street0: np.ndarray
    street1: np.ndarray
    number0: np.ndarray
    number1: np.ndarray
    move_day: np.ndarray  # NO_DAY = never moved
    # roles
    newcomer: np.ndarray
    arrival_year: np.ndarray  # NEVER for non-newcomers
    arrival_day: np.ndarray
    dutch_school_year: np.ndarray  # first school year at a Dutch school, NEVER if none
    nowhere_year: np.ndarray  # first school year enrolled nowhere, NEVER if none
    will_drop: np.ndarray
    special_stage: np.ndarray  # career stage from which the child is in special education, -1
    special_ov: np.ndarray  # 1-4 (BuSO opleidingsvorm)
    special_type: np.ndarray  # index into TYPE_BUITENGEWOON
    care_start: np.ndarray  # zorgthuis period, NO_DAY if none
    care_end: np.ndarray
    care_mfc: np.ndarray
    uniforms: dict[str, np.ndarray] = field(default_factory=dict)  # stable per-child draws


FAMILY = ("TWEEOUDERGEZIN", "EENOUDERGEZIN", "NIEUW_SAMENGESTELD", "CO-OUDERSCHAP", "ANDERE")
TYPE_BUITENGEWOON = ("", "BA", "2", "3", "4", "6", "7", "9")


def _categorical(rng: np.random.Generator, options: tuple, size: int) -> np.ndarray:
    codes = np.array([o for o, _ in options], dtype=object)
    p = np.array([w for _, w in options], dtype=float)
    return codes[rng.choice(len(codes), size=size, p=p / p.sum())]


def _pick_muni(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    return rng.choice(len(weights), size=size, p=weights / weights.sum())


def _house_numbers(rng: np.random.Generator, size: int) -> np.ndarray:
    number = rng.integers(1, 240, size).astype(str).astype(object)
    kind = rng.random(size)
    letter = np.array(["A", "B", "C"], dtype=object)[rng.integers(0, 3, size)]
    bus = rng.integers(1, 30, size).astype(str).astype(object)
    return np.where(kind < 0.05, number + letter,
                    np.where(kind < 0.10, number + " bus " + bus, number))


def _feasible_choice(rng: np.random.Generator, low: np.ndarray, high: np.ndarray,
                     weights: dict[int, float]) -> np.ndarray:
    """A weighted year in [low, high] per row (Gumbel-max over the allowed years)."""
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    w = np.log(np.array([weights.get(int(y), 1.0) for y in years]))
    scores = w[None, :] + rng.gumbel(size=(len(low), len(years)))
    allowed = (years[None, :] >= low[:, None]) & (years[None, :] <= high[:, None])
    scores[~allowed] = -np.inf
    return years[np.argmax(scores, axis=1)]


NEWCOMER_YEAR_WEIGHT = {2015: 1.6, 2016: 1.3, 2017: 0.9, 2018: 0.9, 2019: 0.9, 2020: 0.6,
                        2021: 0.8, 2022: 1.8, 2023: 1.4, 2024: 1.1, 2025: 0.9}


def generate(n: int, seed: int, geo: geography.Geography, street_pool: np.ndarray,
             pools: dict[str, names.Pool]) -> Population:
    """Draw the whole population. Deterministic for a given (n, seed)."""
    rng = np.random.default_rng([seed, 1])
    by = rng.integers(BIRTH_YEARS[0], BIRTH_YEARS[1] + 1, n)
    start = days_of(np.array([f"{y}-01-01" for y in range(BIRTH_YEARS[0], BIRTH_YEARS[1] + 2)],
                             dtype="datetime64[D]"))
    length = np.diff(start)
    birth_day = (start[by - BIRTH_YEARS[0]] + (rng.random(n) * length[by - BIRTH_YEARS[0]])
                 .astype(np.int64)).astype(np.int32)
    birth = birth_day.astype("datetime64[D]")
    months = birth.astype("datetime64[M]")
    birthday18 = days_of((months + 216).astype("datetime64[D]") + (birth - months))
    female = rng.random(n) < 0.49

    # ---- roles that shape everything else
    newcomer = np.zeros(n, dtype=bool)
    eligible = np.flatnonzero((by >= 1998) & (by <= 2019))
    k = quota(0.05, 180, len(eligible), cap=0.12)
    chosen = rng.choice(eligible, size=k, replace=False)
    newcomer[chosen] = True
    arrival_year = np.full(n, NEVER, dtype=np.int32)
    arrival_year[chosen] = _feasible_choice(
        rng, np.maximum(FIRST_YEAR, by[chosen] + 6), np.minimum(LAST_YEAR, by[chosen] + 17),
        NEWCOMER_YEAR_WEIGHT)
    arrival_day = np.full(n, NO_DAY, dtype=np.int32)
    sep1 = day(arrival_year[chosen], 9, 1)
    # 40 % arrive over the summer (start on 1 September), the rest during the year (to 31 May)
    during = rng.random(k) >= 0.4
    arrival_day[chosen] = sep1 + np.where(during, (rng.random(k) * 272).astype(np.int32), 0)

    group = rng.choice(len(names.GROUPS), size=n, p=names.GROUP_SHARE / names.GROUP_SHARE.sum())
    group[chosen] = rng.choice(len(names.GROUPS), size=k,
                               p=names.NEWCOMER_SHARE / names.NEWCOMER_SHARE.sum())
    ua = names.GROUPS.index("UA")
    ref = names.GROUPS.index("REF")
    group[chosen] = np.where((group[chosen] == ua) & (arrival_year[chosen] < 2022), ref,
                             group[chosen])

    locals_ = ~newcomer
    dutch_school_year = np.full(n, NEVER, dtype=np.int32)
    cand = np.flatnonzero(locals_ & (by >= 2004) & (by <= 2020))
    k_nl = quota(0.004, 70, n, cap=0.04)
    nl = rng.choice(cand, size=min(k_nl, len(cand)), replace=False)
    always = rng.random(len(nl)) < 0.5
    dutch_school_year[nl] = np.where(always, FIRST_YEAR - 5, rng.integers(2016, 2026, len(nl)))
    group[nl] = np.where(rng.random(len(nl)) < 0.4, names.GROUPS.index("NL"),
                         names.GROUPS.index("BE"))

    nowhere_year = np.full(n, NEVER, dtype=np.int32)
    cand = np.flatnonzero(locals_ & (dutch_school_year == NEVER) & (by >= 2005) & (by <= 2020))
    k_nw = quota(0.005 * 16 / 26, 40, n, cap=0.03)
    nw = rng.choice(cand, size=min(k_nw, len(cand)), replace=False)
    low = np.maximum(FIRST_YEAR, by[nw] + 3)
    nowhere_year[nw] = low + (rng.random(len(nw)) * (np.maximum(2023, low) - low + 1)).astype(int)

    # ---- background
    nationality = np.empty(n, dtype=object)
    language = np.empty(n, dtype=object)
    for g, code in enumerate(names.GROUPS):
        rows = np.flatnonzero(group == g)
        nationality[rows] = _categorical(rng, names.NATIONALITY[code], len(rows))
        language[rows] = _categorical(rng, names.LANGUAGE[code], len(rows))
    language[newcomer] = np.where(language[newcomer] == "dut", "ara", language[newcomer])
    surname, firstnames = names.sample_names(group, female, pools, rng)

    bis_offset = np.zeros(n, dtype=np.int64)
    bis = (newcomer & (rng.random(n) < 0.3)) | (locals_ & (dutch_school_year == NEVER)
                                                 & (nowhere_year == NEVER) & (rng.random(n) < 0.002))
    bis_offset[bis] = np.where(rng.random(int(bis.sum())) < 0.8, 40, 20)
    numbers = insz.make(birth, female, bis_offset, rng)
    insz.check_sample(numbers, rng)

    # ---- OKI characteristics and ability
    foreign = language != "dut"
    disadvantaged = np.isin(group, [names.GROUPS.index(c) for c in ("MA", "TR", "EU_E", "AF", "REF", "UA")])
    mother_low = rng.random(n) < np.where(newcomer, 0.5, np.where(disadvantaged, 0.4, 0.11))
    allowance_base = rng.random(n) < np.where(disadvantaged | newcomer, 0.55, 0.16)
    ability = (rng.normal(0, 1, n) - 0.35 * mother_low - 0.25 * allowance_base - 0.2 * foreign
               + 0.3).astype(np.float32)

    # ---- residence
    m = geo.municipalities
    weights = m["weight"].to_numpy()
    muni0 = _pick_muni(rng, weights, n)
    antwerp = int(np.flatnonzero(m["nis"].to_numpy() == geography.ANTWERPEN_NIS)[0])
    to_antwerp = newcomer & (rng.random(n) < 0.45)
    muni0[to_antwerp] = antwerp
    border_names = list(geography.DUTCH_BORDER)
    border = geo.muni_index(border_names)
    bw = np.array([geography.DUTCH_BORDER[nm] for nm in m["name"].to_numpy()[border]], dtype=float)
    muni0[nl] = border[rng.choice(len(border), size=len(nl), p=bw / bw.sum())]
    pc0 = geo.pick_postcode(muni0, rng.random(n))
    # newcomers in Antwerp concentrate in a few postcodes
    ant_pc = np.flatnonzero(geo.postcodes["muni"].to_numpy() == antwerp)
    apw = np.array([geography.ANTWERP_NEWCOMER_POSTCODES.get(pc, 1.0)
                    for pc in geo.postcodes["postcode"].to_numpy()[ant_pc]], dtype=float)
    idx = np.flatnonzero(to_antwerp)
    pc0[idx] = ant_pc[rng.choice(len(ant_pc), size=len(idx), p=apw / apw.sum())]
    street0 = rng.integers(0, len(street_pool), n)
    number0 = _house_numbers(rng, n)

    movers = (rng.random(n) < 0.10) & ~newcomer & (dutch_school_year == NEVER)
    move_day = np.full(n, NO_DAY, dtype=np.int32)
    lo, hi = day(FIRST_YEAR, 9, 1), day(LAST_YEAR + 1, 2, 15)
    move_day[movers] = np.maximum(lo + (rng.random(int(movers.sum())) * (hi - lo)).astype(np.int32),
                                  birth_day[movers] + 30)
    same_muni = rng.random(n) < 0.6
    arr = m["arrondissement"].to_numpy()
    other = _pick_muni(rng, weights, n)
    # a move to another municipality stays in the arrondissement: resample until it does (3x)
    for _ in range(3):
        bad = arr[other] != arr[muni0]
        other[bad] = _pick_muni(rng, weights, int(bad.sum()))
    other = np.where(arr[other] == arr[muni0], other, muni0)
    muni1 = np.where(same_muni, muni0, other)
    pc1 = np.where(movers, geo.pick_postcode(muni1, rng.random(n)), pc0)
    street1 = np.where(movers, rng.integers(0, len(street_pool), n), street0)
    number1 = np.where(movers, _house_numbers(rng, n), number0)

    urban = m["urbanisation"].to_numpy()[muni0]
    neighbourhood_p = np.array([0.45, 0.3, 0.15, 0.06])[urban]
    neighbourhood_p = np.where(np.isin(geo.postcodes["postcode"].to_numpy()[pc0],
                                       ["2060", "2140", "2100", "9000", "1080", "1030"]),
                               0.75, neighbourhood_p)

    # ---- careers that end early, special education
    will_drop = rng.random(n) < np.clip(0.05 + 0.09 * (ability < -0.6) + 0.1 * newcomer
                                        + 0.04 * allowance_base, 0, 0.5)
    special_stage = np.full(n, -1, dtype=np.int8)
    u = rng.random(n)
    from_kleuter = u < 0.004
    from_lager = (u >= 0.004) & (u < 0.004 + 0.035 * np.clip(1.2 - 0.5 * ability, 0.3, 2.5))
    from_secondary = (u >= 0.15) & (u < 0.162)
    ok = ~newcomer & (dutch_school_year == NEVER)
    special_stage[ok & from_kleuter] = 0
    special_stage[ok & from_lager] = rng.integers(4, 7, int((ok & from_lager).sum()))
    special_stage[ok & from_secondary & (special_stage < 0)] = 9
    special_ov = np.where(special_stage == 0, rng.choice([1, 2, 3, 4], n, p=[0.2, 0.4, 0.3, 0.1]),
                          np.where(special_stage == 9, rng.choice([3, 4], n, p=[0.6, 0.4]),
                                   rng.choice([1, 2, 3, 4], n, p=[0.03, 0.15, 0.6, 0.22])))
    kleuter_types = rng.choice([2, 3, 4, 5, 6, 7], n, p=[0.3, 0.15, 0.1, 0.05, 0.1, 0.3])
    lager_types = rng.choice([1, 2, 3, 4, 5, 6, 7], n, p=[0.55, 0.08, 0.15, 0.02, 0.01, 0.04, 0.15])
    special_type = np.where(special_stage == 0, kleuter_types, lager_types).astype(np.int8)
    special_type[special_stage < 0] = 0

    # ---- zorgthuis (residence with a youth-care provider)
    care_start = np.full(n, NO_DAY, dtype=np.int32)
    care_end = np.full(n, NO_DAY, dtype=np.int32)
    cand = np.flatnonzero((by >= 2003) & (by <= 2021) & (dutch_school_year == NEVER)
                          & (nowhere_year == NEVER))
    k_care = quota(0.025 * 19 / 26, 100, n, cap=0.04)
    care = rng.choice(cand, size=min(k_care, len(cand)), replace=False)
    c0 = day(2019, 9, 1) + (rng.random(len(care)) * (day(2026, 6, 1) - day(2019, 9, 1)))
    care_start[care] = c0.astype(np.int32)
    care_end[care] = (c0 + 180 + rng.random(len(care)) * 365 * 4.5).astype(np.int32)
    care_mfc = rng.random(n) < 0.15

    family = rng.choice(len(FAMILY), size=n, p=[0.62, 0.17, 0.1, 0.08, 0.03]).astype(np.int8)

    uniforms = {k: rng.random(n).astype(np.float32)
                for k in ("track", "study2", "study3", "seventh", "duaal", "dbso", "first_b",
                          "absence", "risk")}
    return Population(
        n=n, birth=birth, birth_day=birth_day, birth_year=by.astype(np.int32),
        birthday18=birthday18.astype(np.int32), female=female, group=group.astype(np.int8),
        nationality=nationality, language=language, surname=surname, firstnames=firstnames,
        insz=numbers, bis=bis, ability=ability, mother_low=mother_low,
        allowance_base=allowance_base, neighbourhood_p=neighbourhood_p, family=family,
        pc0=pc0, pc1=pc1, street0=street0, street1=street1, number0=number0, number1=number1,
        move_day=move_day, newcomer=newcomer, arrival_year=arrival_year, arrival_day=arrival_day,
        dutch_school_year=dutch_school_year, nowhere_year=nowhere_year, will_drop=will_drop,
        special_stage=special_stage, special_ov=special_ov.astype(np.int8),
        special_type=special_type, care_start=care_start, care_end=care_end, care_mfc=care_mfc,
        uniforms=uniforms,
    )


def residence_at(pop: Population, days: np.ndarray, child: np.ndarray) -> np.ndarray:
    """The postcode row of each child's residence on the given day numbers."""
    moved = (pop.move_day[child] != NO_DAY) & (days >= pop.move_day[child])
    return np.where(moved, pop.pc1[child], pop.pc0[child])


def compulsory(pop: Population, on_day: int, child: np.ndarray | None = None) -> np.ndarray:
    """Leerplichtig on ``on_day`` (same rule as orchestration.foundations.calendar.leerplicht_period).

    From 1 September of the year the child turns 5 (6 before school year 2020-21) to the 18th
    birthday or 30 June of the year it turns 18, whichever comes first, both days included.
    """
    idx = slice(None) if child is None else child
    by = pop.birth_year[idx]
    start = day(by + 5, 9, 1)
    start = np.where(start < day(2020, 9, 1), day(by + 6, 9, 1), start)
    end = np.minimum(pop.birthday18[idx], day(by + 18, 6, 30))
    return (start <= on_day) & (on_day <= end)


def frame_of_streets(seed: int, size: int = 4000) -> np.ndarray:
    """A pool of Flemish-sounding street names (Faker nl_BE), built once per run."""
    from faker import Faker

    fake = Faker("nl_BE")
    fake.seed_instance(seed)
    return np.array(sorted({fake.street_name() for _ in range(size)}), dtype=object)

