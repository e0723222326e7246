"""Primary suppression: which figures may not be shown exactly, and how uncertain they must stay.

A rule here does not only mark a cell; it says what a reader must still be unable to rule out
once everything published is combined (the audit in ``attack.py`` checks exactly that):

- a count of 1 .. threshold-1 distinct pupils: the reader must not be able to exclude that it is
  threshold or more (so it is not "a small number", and no sum of hidden cells that contains it is
  a small number either);
- a zero, when zeros are disclosive (ACRO's default; here only on request or for 0%/100% rates):
  the same;
- a figure from fewer than ``min_schools_per_cell`` schools (public outputs): it is one or two
  schools' figure, so it must stay uncertain by max(threshold, ratio x value) both ways;
- a figure that a school can subtract its own pupils from and keep a small count of other
  schools' pupils (public outputs): a reader who knows the largest school's share must not be
  able to exclude that the others count threshold or more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.disclosure.policy import DisclosurePolicy
from orchestration.disclosure.tables import CellSystem


@dataclass(frozen=True)
class SchoolStats:
    """Per cell: the number of schools with pupils in it and the largest school's count."""

    n_schools: np.ndarray
    largest_school: np.ndarray


@dataclass(frozen=True)
class Requirements:
    """What the published pattern must guarantee. Arrays run over the cells of a system.

    ``need_hi``/``need_lo``: the audit's feasible interval of the cell must reach at least /
    at most this (NaN: no requirement). ``sensitive_atoms``: hidden atoms holding a small count,
    which must not become derivable either. ``lower_bound``: what any reader knows of a hidden
    cell (1 when zeros are always shown, since then a hidden cell is never 0).
    """

    primary: np.ndarray
    need_hi: np.ndarray
    need_lo: np.ndarray
    sensitive_atoms: np.ndarray
    lower_bound: int
    threshold: int


def primary_requirements(system: CellSystem, policy: DisclosurePolicy, *,
                         school_stats: SchoolStats | None = None,
                         sensitive_zeros: np.ndarray | None = None) -> Requirements:
    """Mark the cells that may not be shown and record their protection requirement."""
    t = policy.threshold
    v = system.values
    n = system.n_cells
    need_hi = np.full(n, np.nan)
    need_lo = np.full(n, np.nan)
    primary = np.zeros(n, dtype=bool)

    small = (v >= 1) & (v <= t - 1)
    zeros = np.zeros(n, dtype=bool)
    if policy.zeros_disclosive:
        zeros |= v == 0
    if sensitive_zeros is not None:
        zeros |= sensitive_zeros & (v == 0)
    lower_bound = 0 if zeros.any() or policy.zeros_disclosive else 1
    for mask in (small, zeros):
        primary |= mask
        need_hi[mask] = np.fmax(need_hi[mask], t)

    if school_stats is not None and policy.school_rules_apply:
        ns, big = school_stats.n_schools, school_stats.largest_school
        few = (v > 0) & (ns < policy.min_schools_per_cell)
        for c in np.flatnonzero(few):
            m = policy.school_margin(int(v[c]))
            need_hi[c] = np.fmax(need_hi[c], v[c] + m)
            if v[c] - m >= lower_bound:
                need_lo[c] = v[c] - m
        primary |= few
        if policy.protect_against_school_subtraction:
            rest = v - big
            sub = (big > 0) & (rest >= 1) & (rest <= t - 1)
            need_hi[sub] = np.fmax(need_hi[sub], big[sub] + t)
            primary |= sub

    frozen = system.frozen
    primary &= ~frozen
    need_hi[frozen] = np.nan
    need_lo[frozen] = np.nan
    a = system.atom_values
    sensitive_atoms = (a >= 1) & (a <= t - 1)
    return Requirements(primary=primary, need_hi=need_hi, need_lo=need_lo,
                        sensitive_atoms=sensitive_atoms, lower_bound=lower_bound, threshold=t)
