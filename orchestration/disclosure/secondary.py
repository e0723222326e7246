"""Secondary suppression: hide enough further cells that no hidden figure can be worked out.

Two steps, repeated until the audit finds nothing:

1. Lines (fast, local). For every additive line of every table (a total and its parts: a row, a
   column, a level of a hierarchy): a line with exactly one hidden cell gets a second one; a line
   whose total is shown gets more hidden parts until the hidden parts together are large enough
   for the protection each needs (a hidden 3 beside a hidden 4 under a shown total would be a
   known 7). The cell chosen is the smallest non-zero shown part that closes the gap, else the
   smallest (least information lost); a total only when no part is left.
2. Audit (global, exact). ``attack.audit`` solves the linear programs over everything shown,
   across tables and releases. For every finding the smallest shown non-zero cell that shares a
   line or atoms with the exposed figure is hidden too, then step 1 runs again.

Zeros are never hidden as complements (a hidden 0 protects nothing) and, unless the policy says
zeros are disclosive, never hidden at all, so a reader knows every hidden cell is at least 1 and
the audit assumes exactly that. Hiding a cell only widens every interval, so the loop ends: in
the worst case everything non-zero of this release is hidden. Cells of an earlier release
(``frozen``) keep their status.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from orchestration.disclosure.attack import Audit, audit
from orchestration.disclosure.policy import DisclosureError
from orchestration.disclosure.primary import Requirements
from orchestration.disclosure.tables import CellSystem


@dataclass(frozen=True)
class Protection:
    """The final pattern (True = hidden), the cells hidden by primary rules, and the audit that
    found nothing (kept for the protection note and for tests)."""

    pattern: np.ndarray
    primary: np.ndarray
    rounds: int
    audit: Audit


def _cheapest(cands, values, atom_count, gap: float, avoid: int | None = None) -> int | None:
    if not cands:
        return None
    return min(cands, key=lambda c: (c == avoid, values[c] < gap, values[c], atom_count[c], c))


def close_lines(system: CellSystem, req: Requirements, pattern: np.ndarray,
                eligible: np.ndarray) -> np.ndarray:
    """Step 1: make every line of every table safe on its own (returns a new pattern)."""
    pattern = pattern.copy()
    v, n_atoms = system.values, system.atom_count
    lb = req.lower_bound
    changed = True
    while changed:
        changed = False
        for total, comps in system.relations:
            line = (total,) + comps
            hidden = [c for c in line if pattern[c]]
            if not hidden:
                continue
            cands = [c for c in line if not pattern[c] and eligible[c]]
            pick = None
            if len(hidden) == 1:
                s = hidden[0]
                need = req.need_hi[s]
                gap = need - v[s] + lb if not math.isnan(need) else 1
                pick = _cheapest(cands, v, n_atoms, gap, avoid=total)
            elif not pattern[total]:
                hidden_parts = [c for c in comps if pattern[c]]
                slack = int(v[hidden_parts].sum()) - lb * (len(hidden_parts) - 1)
                needs = [req.need_hi[c] for c in hidden_parts if not math.isnan(req.need_hi[c])]
                need = max(needs, default=0)
                if slack < need:
                    parts = [c for c in cands if c != total]
                    pick = _cheapest(parts, v, n_atoms, need - slack)
            if pick is not None:
                pattern[pick] = True
                changed = True
    return pattern


def _complements(system: CellSystem, req: Requirements, pattern: np.ndarray,
                 eligible: np.ndarray, result: Audit,
                 lines_of: dict[int, list[int]]) -> list[int]:
    """Step 2: for every finding, one more cell to hide."""
    v, n_atoms = system.values, system.atom_count
    csc = system.membership.tocsc()
    picks = set()
    for f in result.findings:
        if f.kind == "cell":
            item_cells = [f.index]
            item_atoms = system.atoms_of(f.index)
        else:
            item_atoms = np.array([f.index])
            item_cells = list(csc.indices[csc.indptr[f.index]:csc.indptr[f.index + 1]])
        related = set()
        for c in item_cells:
            for r in lines_of.get(c, ()):
                total, comps = system.relations[r]
                related.update((total,) + comps)
        for a in item_atoms:
            related.update(csc.indices[csc.indptr[a]:csc.indptr[a + 1]].tolist())
        need = req.need_hi[f.index] if f.kind == "cell" else math.nan
        gap = (need - f.hi) if not math.isnan(need) and math.isfinite(f.hi) else 1
        cands = [c for c in related if not pattern[c] and eligible[c] and c not in picks]
        pick = _cheapest(cands, v, n_atoms, gap)
        if pick is None:  # widen: anything sharing atoms with the related cells
            wider = set()
            for c in related:
                for a in system.atoms_of(c):
                    wider.update(csc.indices[csc.indptr[a]:csc.indptr[a + 1]].tolist())
            cands = [c for c in wider if not pattern[c] and eligible[c] and c not in picks]
            pick = _cheapest(cands, v, n_atoms, gap)
        if pick is None:
            cands = [int(c) for c in np.flatnonzero(~pattern & eligible) if c not in picks]
            pick = _cheapest(cands, v, n_atoms, gap)
        if pick is not None:
            picks.add(pick)
    return sorted(picks)


def protect(system: CellSystem, req: Requirements, *, forced: np.ndarray | None = None,
            integer: bool = False, max_rounds: int = 500) -> Protection:
    """Primary + secondary suppression, verified by the audit. ``forced`` cells are hidden
    whatever their value (a pattern carried from an earlier release)."""
    n = system.n_cells
    v = system.values
    eligible = ~system.frozen & (v > 0)
    start = req.primary.copy()
    if forced is not None:
        start |= forced & eligible
    if req.lower_bound > 0 and (start & (v == 0)).any():
        raise DisclosureError("a zero is hidden while the audit assumes zeros are shown")
    pattern = np.where(system.frozen, system.frozen_pattern, start)
    lines_of: dict[int, list[int]] = defaultdict(list)
    for r, (total, comps) in enumerate(system.relations):
        for c in (total,) + comps:
            lines_of[c].append(r)
    for rounds in range(1, max_rounds + 1):
        pattern = close_lines(system, req, pattern, eligible)
        result = audit(system, pattern, req, integer=integer)
        if result.safe:
            return Protection(pattern=pattern, primary=req.primary & ~system.frozen,
                              rounds=rounds, audit=result)
        picks = _complements(system, req, pattern, eligible, result, lines_of)
        if not picks:
            raise DisclosureError(
                f"{len(result.findings)} figures stay exposed and no cell of this release is "
                "left to hide: the exposure comes from earlier releases alone")
        pattern = pattern.copy()
        pattern[picks] = True
    raise DisclosureError(f"no safe pattern after {max_rounds} rounds over {n} cells")
