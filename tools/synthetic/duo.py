"""DUO extracts: pupils living in Belgium at a Dutch school, without INSZ, realistically noisy.

Why noisy: AGODI must link DUO records to the Rijksregister on name, birth date and address,
because DUO sends no INSZ. DUO registers names its own way, so the synthetic DUO data differ from
the Rijksregister as real data would (rates per pupil, stable across files): about 5 % lost
diacritics, 3 % a one-character typo in the surname, 3 % a missing, extra or swapped first name,
3 % a different address (moved), and a few surnames with a Dutch-style prefix ("van den Broeck" or
"Van Den Broeck" for "Van den Broeck"). The ground truth (fictitious number -> INSZ per reference
date) is written outside the source folders for the linkage test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tools.synthetic import names
from tools.synthetic.population import NEVER, Population, compulsory, residence_at

DUO_YEARS = (2023, 2024, 2025)
_PREFIX = re.compile(r"^(Van der |Van den |Van de |Van |De |Vanden |Vander |Ver )")


@dataclass
class DuoPupils:
    """One row per DUO pupil with DUO's own (noisy) version of the identity."""

    frame: pd.DataFrame  # child, fictief, surname, firstnames, street, number, moved, noise


def _typo(value: str, rng: np.random.Generator) -> str:
    if len(value) < 3:
        return value + "e"
    i = int(rng.integers(1, len(value) - 1))
    op = int(rng.integers(0, 3))
    if op == 0:  # substitution by a neighbouring letter
        c = value[i]
        repl = "e" if c != "e" else "a"
        return value[:i] + repl + value[i + 1:]
    if op == 1:  # deletion
        return value[:i] + value[i + 1:]
    return value[:i - 1] + value[i] + value[i - 1] + value[i + 1:]  # transposition


def _dutch_prefix(value: str, capitalised: bool) -> str:
    m = _PREFIX.match(value)
    if not m:
        return value
    prefix = m.group(1)
    new = prefix.title() if capitalised else prefix.lower()
    return new + value[len(prefix):]


def pupils(pop: Population, street_pool: np.ndarray, pools: dict, seed: int) -> DuoPupils:
    """The DUO identities of every child that attends a Dutch school at some point."""
    rng = np.random.default_rng([seed, 30])
    child = np.flatnonzero(pop.dutch_school_year != NEVER)
    k = len(child)
    surname = pd.Series(pop.surname[child], dtype=object)
    firsts = pd.Series(pop.firstnames[child], dtype=object)
    noise = np.full(k, "", dtype=object)

    # diacritics dropped: ~5 % of all DUO pupils, taken from those whose name has diacritics
    accented = np.flatnonzero(names.has_diacritics(surname + " " + firsts))
    n_acc = min(len(accented), max(1, round(0.05 * k)))
    drop = rng.choice(accented, size=n_acc, replace=False) if n_acc and len(accented) else []
    surname.iloc[drop] = names.strip_diacritics(surname.iloc[drop]).to_numpy()
    firsts.iloc[drop] = names.strip_diacritics(firsts.iloc[drop]).to_numpy()
    noise[drop] = noise[drop] + "diacritics;"

    u = rng.random((k, 4))
    for i in np.flatnonzero(u[:, 0] < 0.03):
        surname.iat[i] = _typo(surname.iat[i], rng)
        noise[i] += "typo;"
    fem = pop.female[child]
    for i in np.flatnonzero(u[:, 1] < 0.03):
        parts = firsts.iat[i].split(" ")
        if len(parts) > 1 and rng.random() < 0.5:
            parts = parts[:-1] if rng.random() < 0.6 else [parts[1], parts[0], *parts[2:]]
        else:
            pool = pools["BE"].first_f if fem[i] else pools["BE"].first_m
            parts = [*parts, str(pool[rng.integers(len(pool))])]
        firsts.iat[i] = " ".join(parts)
        noise[i] += "first_names;"
    prefixed = u[:, 2] < 0.4
    for i in np.flatnonzero(prefixed):
        new = _dutch_prefix(surname.iat[i], capitalised=rng.random() < 0.4)
        if new != surname.iat[i]:
            surname.iat[i] = new
            noise[i] += "prefix;"
    moved = u[:, 3] < 0.03
    street = np.where(moved, rng.integers(0, len(street_pool), k), -1)
    number = np.where(moved, rng.integers(1, 200, k).astype(str), "")
    noise[moved] = noise[moved] + "moved;"
    fictief = 100_000_000 + rng.choice(900_000_000, size=k, replace=False)
    frame = pd.DataFrame({"child": child, "fictief": fictief.astype(str), "surname": surname.to_numpy(),
                          "firstnames": firsts.to_numpy(), "moved_street": street,
                          "moved_number": number, "noise": noise})
    return DuoPupils(frame)


def rows_on(pop: Population, duo: DuoPupils, dutch_schools: pd.DataFrame, geo, street_pool,
            ref_day: int, start_year: int) -> pd.DataFrame:
    """The DUO rows on one reference date: compulsory-age pupils at a Dutch school then."""
    f = duo.frame
    child = f["child"].to_numpy()
    keep = (pop.dutch_school_year[child] <= start_year) & compulsory(pop, ref_day, child)
    f = f[keep]
    child = f["child"].to_numpy()
    pc = residence_at(pop, np.full(len(child), ref_day), child)
    postcodes = geo.postcodes
    muni = postcodes["muni"].to_numpy()[pc]
    east = geo.municipalities["province_code"].to_numpy()[muni] == "70000"
    secondary = start_year >= pop.birth_year[child] + 12
    out = []
    for is_east in (False, True):
        for vo in (False, True):
            sel = (east == is_east) & (secondary == vo)
            cands = dutch_schools[(dutch_schools["east"] == is_east)
                                  & (dutch_schools["level"] == ("VO" if vo else "PO"))]
            idx = (child[sel] * 2654435761 % 2**32) % len(cands)  # stable school per pupil
            out.append(pd.DataFrame({"row": np.flatnonzero(sel),
                                     "brin": cands["brin"].to_numpy()[idx],
                                     "school": cands["name"].to_numpy()[idx]}))
    school = pd.concat(out).sort_values("row")
    base_street = np.where(_moved_at(pop, child, ref_day), pop.street1[child], pop.street0[child])
    base_number = np.where(_moved_at(pop, child, ref_day), pop.number1[child], pop.number0[child])
    moved = f["moved_street"].to_numpy() >= 0
    return pd.DataFrame({
        "fictief": f["fictief"].to_numpy(), "child": child,
        "surname": f["surname"].to_numpy(), "firstnames": f["firstnames"].to_numpy(),
        "birth": pop.birth_day[child],
        "street": street_pool[np.where(moved, f["moved_street"].to_numpy(), base_street)],
        "number": np.where(moved, f["moved_number"].to_numpy(), base_number),
        "postcode": postcodes["postcode"].to_numpy()[pc],
        "town": geo.municipalities["name"].to_numpy()[muni],
        "brin": school["brin"].to_numpy(), "school": school["school"].to_numpy(),
        "insz": pop.insz[child],
    }).sort_values("fictief", ignore_index=True)


def _moved_at(pop: Population, child: np.ndarray, ref_day: int) -> np.ndarray:
    return (pop.move_day[child] >= 0) & (ref_day >= pop.move_day[child])

