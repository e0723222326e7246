"""Test helpers: seeded random tables, and a reader who attacks published tables on her own.

``Reader`` is written apart from the library on purpose (the independent audit the issue asks
for next to ACRO): it starts from the published frames only (their key columns, ``Total`` labels
and ``suppressed`` flags), knows nothing of the library's atoms, relations or components, and
solves every bound as an integer program with ``scipy.optimize.milp`` on dense matrices.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from orchestration.disclosure import TOTAL, DisclosurePolicy

THRESHOLD = 10

# A policy for outputs that only need the small-count rules (no schools involved).
COUNTS_ONLY = DisclosurePolicy(protocol_id="test", output_id="table", audience="processor")


def random_counts(rng: np.random.Generator, sizes: Sequence[int], high: int = 15,
                  names: Sequence[str] | None = None) -> pd.DataFrame:
    """A full table of counts drawn uniformly from 0..high, one row per combination."""
    names = list(names or [f"d{i}" for i in range(len(sizes))])
    combos = list(itertools.product(*[[f"{n}{k}" for k in range(s)]
                                      for n, s in zip(names, sizes)]))
    frame = pd.DataFrame(combos, columns=names)
    frame["n"] = rng.integers(0, high + 1, size=len(frame))
    return frame


def as_microdata(counts: pd.DataFrame, dims: Sequence[str], value: str = "n",
                 start: int = 0) -> pd.DataFrame:
    """One row per pupil (pupil ids start at ``start``) reproducing the counts."""
    reps = counts[value].to_numpy()
    rows = counts.loc[counts.index.repeat(reps), list(dims)].reset_index(drop=True)
    rows.insert(0, "pupil", np.arange(start, start + len(rows)))
    return rows


def matches(row: dict, var: dict, columns: Sequence[str]) -> bool:
    """A published row covers an interior combination when every key column is Total or equal."""
    return all(row[c] == TOTAL or row[c] == var[c] for c in columns)


class Reader:
    """What a reader of the published tables can deduce, by integer programming."""

    def __init__(self, variables: list[dict], lower_bound: int = 1) -> None:
        self.variables = variables
        self.lower_bound = lower_bound
        self.eq: list[tuple[np.ndarray, float]] = []
        self.ge: list[tuple[np.ndarray, float]] = []
        self.hidden: list[tuple[str, dict, np.ndarray]] = []

    def read(self, name: str, frame: pd.DataFrame, key_columns: Sequence[str], value: str,
             flag: str, select: Callable[[dict, dict], bool] | None = None) -> None:
        """Take in one published table. ``select(row, var)``: whether the row counts ``var``
        (default: key columns match, Total as wildcard)."""
        select = select or (lambda row, var: matches(row, var, key_columns))
        for row in frame.to_dict("records"):
            coef = np.array([1.0 if select(row, v) else 0.0 for v in self.variables])
            if bool(row[flag]):
                self.hidden.append((name, {c: row[c] for c in key_columns}, coef))
                self.ge.append((coef, float(self.lower_bound)))
            else:
                self.eq.append((coef, float(row[value])))

    def _constraints(self) -> list[LinearConstraint]:
        out = []
        if self.eq:
            a = np.array([c for c, _ in self.eq])
            b = np.array([v for _, v in self.eq])
            out.append(LinearConstraint(a, b, b))
        if self.ge:
            a = np.array([c for c, _ in self.ge])
            b = np.array([v for _, v in self.ge])
            out.append(LinearConstraint(a, b, np.inf))
        return out

    def bounds(self, coef: np.ndarray, cap: float = 10_000.0) -> tuple[float, float]:
        """Integer min and max of coef.x; a max at ``cap`` means unbounded."""
        cons = self._constraints()
        n = len(self.variables)
        integrality = np.ones(n)
        box = Bounds(np.zeros(n), np.full(n, cap))
        lo = milp(coef, constraints=cons, integrality=integrality, bounds=box)
        hi = milp(-coef, constraints=cons, integrality=integrality, bounds=box)
        assert lo.status == 0 and hi.status == 0, (lo.message, hi.message)
        return round(lo.fun), round(-hi.fun)

    def hidden_bounds(self) -> list[tuple[str, dict, float, float]]:
        return [(name, key, *self.bounds(coef)) for name, key, coef in self.hidden]


def exposures(reader: Reader, truth: Callable[[str, dict], int],
              threshold: int = THRESHOLD) -> list[str]:
    """Every hidden published figure the reader pins, narrows inside 1..threshold-1, or (for a
    true small count) bounds below the threshold. Empty when the tables are safe."""
    found = []
    for name, key, lo, hi in reader.hidden_bounds():
        value = truth(name, key)
        if hi - lo < 1:
            found.append(f"{name} {key}: pinned")
        if lo >= 1 and hi <= threshold - 1:
            found.append(f"{name} {key}: inside 1..{threshold - 1}")
        if 1 <= value <= threshold - 1 and hi < threshold:
            found.append(f"{name} {key}: small count bounded below {threshold}")
    return found


def lines_with_one_hidden(frame: pd.DataFrame, dims: Sequence[str],
                          flag: str = "suppressed") -> list[str]:
    """Rows/columns (any line along one dimension, margins included) with exactly one hidden
    cell: such a cell is the line's total minus the rest."""
    bad = []
    for d in dims:
        others = [c for c in dims if c != d]
        groups = frame.groupby(others, dropna=False) if others else [((), frame)]
        for key, line in groups:
            if int(line[flag].sum()) == 1:
                bad.append(f"line along {d} at {key}")
    return bad


def truth_lookup(counts: pd.DataFrame, dims: Sequence[str], value: str = "n"):
    """True value of any published cell of a cube over ``counts`` (Total = all)."""
    cube: dict[tuple, int] = {}
    for row in counts[list(dims) + [value]].itertuples(index=False):
        *key, n = row
        for mask in itertools.product((False, True), repeat=len(dims)):
            k = tuple(TOTAL if m else str(v) for v, m in zip(key, mask))
            cube[k] = cube.get(k, 0) + int(n)

    def lookup(_name: str, key: dict) -> int:
        return cube.get(tuple(str(key[c]) for c in dims), 0)
    return lookup


def interior_variables(counts: pd.DataFrame, dims: Sequence[str]) -> list[dict]:
    return counts[list(dims)].to_dict("records")


def library_attack(counts: pd.DataFrame, dims: Sequence[str], frame: pd.DataFrame,
                   policy: DisclosurePolicy = COUNTS_ONLY, value: str = "n"):
    """The library's own LP attack (scipy linprog) on a published flat table: rebuild the cell
    system from the true counts, read the pattern from the published flags, audit in full."""
    from orchestration.disclosure import TableSpec, audit, build_system, primary_requirements

    spec = TableSpec.make("t", dims)
    system = build_system(counts[list(dims)].astype(str), counts[value].to_numpy(), [spec])
    pattern = np.zeros(system.n_cells, dtype=bool)
    for row in frame.to_dict("records"):
        key = tuple(() if row[d] == TOTAL else (row[d],) for d in dims)
        pattern[system.tables["t"][key]] = bool(row["suppressed"])
    req = primary_requirements(system, policy)
    return audit(system, pattern, req, full=True), system, pattern, req


def school_microdata(rng: np.random.Generator, n_pupils: int = 2500) -> pd.DataFrame:
    """Pupils in schools in districts. District ``d5`` has only two schools, and in ``d4`` one
    big school holds nearly every pupil of the special level, so the school rules have work."""
    schools = []
    sid = 100001
    for d in range(6):
        for _ in range(2 if d == 5 else 5):
            schools.append((f"{sid:06d}", f"d{d}"))
            sid += 1
    school_ids = np.array([s for s, _ in schools])
    district_of = dict(schools)
    weights = rng.random(len(schools)) + 0.3
    pick = rng.choice(len(schools), size=n_pupils, p=weights / weights.sum())
    frame = pd.DataFrame({
        "pupil": np.arange(n_pupils),
        "institution_number": school_ids[pick],
        "level": rng.choice(["primary", "secondary", "special"], n_pupils, p=[.5, .42, .08]),
        "leaver": rng.random(n_pupils) < 0.12,
        "school_name": [f"School {s}" for s in school_ids[pick]],
        "street": "Schoolstraat 1",
    })
    frame["district"] = frame["institution_number"].map(district_of)
    d4 = frame.index[(frame["district"] == "d4") & (frame["level"] == "special")]
    frame.loc[d4[:-3], "institution_number"] = school_ids[[i for i, (_, d) in enumerate(schools)
                                                           if d == "d4"][0]]
    return frame
