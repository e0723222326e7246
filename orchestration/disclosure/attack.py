"""The audit: attack a suppression pattern with linear programming, as a reader could.

The reader knows every published figure and that hidden counts are non-negative (and at least 1
when zeros are always shown). Unknowns are the atoms not published on their own; every
published cell is an equality over them. For every hidden cell, and every hidden atom holding a
small count, the audit computes the feasible minimum and maximum with HiGHS (``highspy``), rounded
inward to integers. Each independent component is one HiGHS model, built once; every figure only
changes its objective, so HiGHS starts from the previous optimal basis instead of from scratch
(scipy's ``linprog`` would rebuild and re-check the whole problem for each of thousands of
LPs). A finding is raised when:

- ``pinned``: a hidden cell's interval is a single value (it can be computed);
- ``inside_small_range``: a hidden cell's interval lies inside [1, threshold-1];
- ``upper_below_threshold``: a small count (hidden cell or atom) provably stays below threshold,
  so it, or a sum of hidden cells containing it, is known to be a small number;
- ``protection_upper`` / ``protection_lower``: the interval is narrower than the primary rule
  asked (figures from too few schools, a school subtracting its own pupils).

For a two-way table with margins the constraint matrix is totally unimodular and the LP bounds
are the integer bounds; for three-way, hierarchical and linked tables the LP is a relaxation, so
``integer=True`` re-solves every finite bound with ``scipy.optimize.milp`` to get the bounds an
attacker with an integer solver gets.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import connected_components

from orchestration.disclosure.policy import DisclosureError
from orchestration.disclosure.primary import Requirements
from orchestration.disclosure.tables import CellSystem

_EPS = 1e-6
# up to this many items in a component, witnesses are updated item by item (a sparse matrix
# costs more to build than it saves)
SMALL_COMPONENT_ITEMS = 16


@dataclass(frozen=True)
class Finding:
    """A hidden figure the reader can narrow too far. Holds no value, only bounds and why."""

    kind: str  # "cell" or "atom"
    index: int
    lo: float
    hi: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Audit:
    findings: tuple[Finding, ...]
    cell_bounds: dict[int, tuple[float, float]]
    atom_bounds: dict[int, tuple[float, float]]

    @property
    def safe(self) -> bool:
        return not self.findings


@dataclass
class _Component:
    atoms: np.ndarray  # local position -> variable-atom index
    a_eq: sparse.csr_matrix | None
    b_eq: np.ndarray | None
    a_ub: sparse.csr_matrix | None
    b_ub: np.ndarray | None
    lp: _LP | None = None  # built on the first solve


class _LP:
    """One component as a HiGHS model (columns >= 0, equality rows, <= rows). Between solves
    only the objective changes, so each solve starts from the last optimal basis."""

    def __init__(self, comp: _Component) -> None:
        n = len(comp.atoms)
        self.highs = highspy._core._Highs()  # the bare solver: no Python callbacks per run
        self.highs.setOptionValue("output_flag", False)
        inf = highspy.kHighsInf
        self.highs.addVars(n, np.zeros(n), np.full(n, inf))
        blocks = [(comp.a_eq, comp.b_eq, comp.b_eq), (comp.a_ub, None, comp.b_ub)]
        for a, lower, upper in blocks:
            if a is None:
                continue
            lower = np.full(a.shape[0], -inf) if lower is None else lower
            self.highs.addRows(a.shape[0], np.asarray(lower, dtype=np.float64),
                               np.asarray(upper, dtype=np.float64), a.nnz,
                               a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32),
                               a.data.astype(np.float64))
        self.cost_pos = np.array([], dtype=np.int32)

    def solve(self, pos: np.ndarray, maximise: bool) -> tuple[highspy.HighsModelStatus, float,
                                                             np.ndarray | None]:
        h = self.highs
        if len(self.cost_pos):
            h.changeColsCost(len(self.cost_pos), self.cost_pos, np.zeros(len(self.cost_pos)))
        self.cost_pos = np.asarray(pos, dtype=np.int32)
        h.changeColsCost(len(self.cost_pos), self.cost_pos, np.ones(len(self.cost_pos)))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize if maximise
                               else highspy.ObjSense.kMinimize)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kUnboundedOrInfeasible:
            # presolve could not tell which: solve without it, as a fresh simplex does
            h.setOptionValue("presolve", "off")
            h.clearSolver()
            h.run()
            h.setOptionValue("presolve", "choose")
            status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            return status, math.nan, None
        return status, h.getInfo().objective_function_value, np.asarray(
            h.getSolution().col_value)


def _solve(comp: _Component, pos: np.ndarray, maximise: bool,
           integer: bool) -> tuple[float, np.ndarray | None]:
    """Optimum of the sum of the atoms at ``pos`` over one component, and an optimal point
    (None when unbounded)."""
    if comp.a_eq is None and comp.a_ub is None:
        return (math.inf, None) if maximise else (0.0, np.zeros(len(comp.atoms)))
    if comp.lp is None:
        comp.lp = _LP(comp)
    status, value, point = comp.lp.solve(pos, maximise)
    if status == highspy.HighsModelStatus.kUnbounded:
        return math.inf, None
    if point is None:
        raise DisclosureError(f"audit LP failed ({status.name}); the published figures do not "
                              "fit the true ones, which is a bug in building the system")
    # an integral optimal vertex is integer-feasible, so it is the integer optimum as well
    if integer and not np.allclose(point, np.round(point), atol=1e-7):
        sign = -1.0 if maximise else 1.0
        c = np.zeros(len(comp.atoms))
        c[pos] = 1.0
        constraints = []
        if comp.a_eq is not None:
            constraints.append(LinearConstraint(comp.a_eq, comp.b_eq, comp.b_eq))
        if comp.a_ub is not None:
            constraints.append(LinearConstraint(comp.a_ub, -np.inf, comp.b_ub))
        r = milp(sign * c, constraints=constraints, integrality=np.ones(len(c)),
                 bounds=Bounds(0, np.inf), options={"time_limit": 30})
        if r.status == 0:
            value, point = sign * r.fun, r.x
        # else keep the LP bound: never tighter than the integer one, so nothing is missed
    return value, point


@dataclass
class _Item:
    parts: dict[int, np.ndarray]  # component label -> local positions of the item's atoms
    constant: float  # published atoms inside the item
    truth: float
    hi_target: float | None = None  # stop maximising once a feasible point reaches it
    lo_target: float | None = None  # stop minimising once a feasible point reaches it
    hi: float = math.nan
    lo: float = -math.inf


class _Model:
    """The reader's knowledge as a linear system over the atoms not published on their own,
    split into independent components."""

    def __init__(self, system: CellSystem, pattern: np.ndarray, lower_bound: int,
                 integer: bool) -> None:
        m, values = system.membership, system.values
        self.integer = integer
        published = ~pattern
        sing_cells = np.flatnonzero(published & (system.atom_count == 1))
        sing_atoms = m.indices[m.indptr[sing_cells]]
        self.known = np.zeros(system.n_atoms, dtype=bool)
        self.known_val = np.zeros(system.n_atoms)
        self.known[sing_atoms] = True
        self.known_val[sing_atoms] = values[sing_cells]
        var_idx = np.flatnonzero(~self.known)
        self.local = np.full(system.n_atoms, -1)
        self.local[var_idx] = np.arange(len(var_idx))
        self.mv = m[:, var_idx].tocsr().astype(np.float64)
        self.kc = m @ self.known_val
        has_var = np.diff(self.mv.indptr) > 0
        eq_rows = np.flatnonzero(published & has_var)
        ub_rows = np.flatnonzero(pattern & has_var) if lower_bound > 0 else np.array([], int)
        n_v = len(var_idx)
        self.a_all = (sparse.vstack([self.mv[eq_rows], self.mv[ub_rows]]).tocsr()
                      if len(eq_rows) + len(ub_rows) else sparse.csr_matrix((0, n_v)))
        self.n_eq = len(eq_rows)
        self.b_all = np.concatenate([values[eq_rows] - self.kc[eq_rows],
                                     self.kc[ub_rows] - lower_bound])
        n_r = self.a_all.shape[0]
        coo = self.a_all.tocoo()
        graph = sparse.coo_matrix((np.ones(len(coo.data)), (coo.col, n_v + coo.row)),
                                  shape=(n_v + n_r, n_v + n_r))
        _, label = connected_components(graph, directed=False)
        self.atom_label, self.row_label = label[:n_v], label[n_v:]
        self._components: dict[int, _Component] = {}
        truth = system.atom_values.astype(float)
        self.truth_var = truth[var_idx]

    def component(self, lab: int) -> _Component:
        if lab not in self._components:
            atoms_l = np.flatnonzero(self.atom_label == lab)
            rows = np.flatnonzero(self.row_label == lab)
            eq, ub = rows[rows < self.n_eq], rows[rows >= self.n_eq]
            sub = self.a_all[:, atoms_l]  # kept sparse: HiGHS and milp take it as it is
            self._components[lab] = _Component(
                atoms=atoms_l,
                a_eq=sub[eq] if len(eq) else None, b_eq=self.b_all[eq] if len(eq) else None,
                a_ub=-sub[ub] if len(ub) else None, b_ub=self.b_all[ub] if len(ub) else None)
        return self._components[lab]

    def item(self, var_atoms: np.ndarray, constant: float) -> _Item:
        parts: dict[int, list[int]] = defaultdict(list)
        for a in var_atoms:
            parts[int(self.atom_label[a])].append(int(a))
        local_parts = {}
        for lab, members in parts.items():
            comp = self.component(lab)
            local_parts[lab] = np.searchsorted(comp.atoms, members)
        truth = constant + float(self.truth_var[var_atoms].sum())
        return _Item(parts=local_parts, constant=constant, truth=truth)

    def optimise(self, items: list[_Item], maximise: bool) -> None:
        """Set ``hi`` (or ``lo``) of every item. An item with a target stops as soon as some
        feasible point reaches it (the optimum is at least that good); optima of one item's
        LP serve as feasible points for the other items of its component."""
        witness = np.array([it.truth for it in items], dtype=float)
        by_comp: dict[int, list[int]] = defaultdict(list)
        for i, it in enumerate(items):
            if len(it.parts) == 1:
                by_comp[next(iter(it.parts))].append(i)
        # per component with many one-component items, those items as rows of a 0/1 matrix
        # over its atoms (built on its first optimum): an optimal point's value for all of them
        # is one product, not a Python sum per item
        sums: dict[int, tuple[np.ndarray, sparse.csr_matrix, np.ndarray]] = {}

        def item_sums(lab: int) -> tuple[np.ndarray, sparse.csr_matrix, np.ndarray]:
            if lab not in sums:
                members = by_comp[lab]
                positions = [items[j].parts[lab] for j in members]
                rows = np.repeat(np.arange(len(members)), [len(x) for x in positions])
                matrix = sparse.csr_matrix(
                    (np.ones(len(rows)), (rows, np.concatenate(positions))),
                    shape=(len(members), len(self.component(lab).atoms)))
                sums[lab] = (np.array(members), matrix,
                             np.array([items[j].constant for j in members]))
            return sums[lab]

        better = (lambda a, b: a >= b) if maximise else (lambda a, b: a <= b)
        keep = np.maximum if maximise else np.minimum
        for i, it in enumerate(items):
            target = it.hi_target if maximise else it.lo_target
            if target is not None and better(witness[i], target):
                value = float(witness[i])
            else:
                value = it.constant
                for lab, pos in it.parts.items():
                    opt, point = _solve(self.component(lab), pos, maximise, self.integer)
                    value += opt
                    if point is not None and len(it.parts) == 1:
                        if len(by_comp[lab]) > SMALL_COMPONENT_ITEMS:
                            index, matrix, constants = item_sums(lab)
                            witness[index] = keep(witness[index], constants + matrix @ point)
                        else:
                            for j in by_comp[lab]:
                                other = items[j]
                                w = other.constant + float(point[other.parts[lab]].sum())
                                if better(w, witness[j]):
                                    witness[j] = w
                if maximise:
                    value = float(math.floor(value + _EPS)) if math.isfinite(value) else math.inf
                else:
                    value = float(math.ceil(value - _EPS))
            if maximise:
                it.hi = value
            else:
                it.lo = value


def feasible_bounds(system: CellSystem, pattern: np.ndarray, lower_bound: int,
                    cells: np.ndarray, atoms: np.ndarray, *, integer: bool = False,
                    ) -> tuple[dict[int, tuple[float, float]], dict[int, tuple[float, float]]]:
    """Exact integer-rounded feasible [min, max] of the given hidden cells and atoms."""
    model = _Model(system, np.asarray(pattern, dtype=bool), lower_bound, integer)
    cell_items = [model.item(model.mv.indices[model.mv.indptr[c]:model.mv.indptr[c + 1]],
                             float(model.kc[c])) for c in cells]
    atom_items = [model.item(np.array([model.local[a]]), 0.0) for a in atoms]
    model.optimise(cell_items + atom_items, maximise=True)
    model.optimise(cell_items + atom_items, maximise=False)
    return ({int(c): (it.lo, it.hi) for c, it in zip(cells, cell_items)},
            {int(a): (it.lo, it.hi) for a, it in zip(atoms, atom_items)})


def exposure(lo: float, hi: float, *, hidden_cell: bool, small: bool, need_lo: float,
             need_hi: float, threshold: int) -> tuple[str, ...]:
    """Why an interval [lo, hi] discloses too much (empty: it does not)."""
    reasons = []
    if hidden_cell and hi - lo < 1:
        reasons.append("pinned")
    if hidden_cell and lo >= 1 and hi <= threshold - 1:
        reasons.append("inside_small_range")
    if small and hi < threshold:
        reasons.append("upper_below_threshold")
    if not math.isnan(need_hi) and hi < need_hi:
        reasons.append("protection_upper")
    if not math.isnan(need_lo) and lo > need_lo:
        reasons.append("protection_lower")
    return tuple(reasons)


def audit(system: CellSystem, pattern: np.ndarray, req: Requirements, *,
          integer: bool = False, full: bool = False) -> Audit:
    """Attack ``pattern`` (True = hidden) and list every hidden figure it fails to protect.

    ``full``: report exact minima and maxima of every hidden figure (for reports and tests).
    Otherwise an optimisation stops once a feasible point shows the figure is safe on that side,
    and a minimum is computed only when the maximum leaves the exposure open; the reported bound
    is then the witness (the true bound is at least as wide), which is all the findings need.
    """
    pattern = np.asarray(pattern, dtype=bool)
    t = req.threshold
    v = system.values
    m = system.membership
    hidden_cells = np.flatnonzero(pattern & (system.atom_count > 0))
    # hidden small atoms, unless a cell of exactly that atom is hidden (checked as a cell) or shown
    single = system.atom_count == 1
    covered = np.zeros(system.n_atoms, dtype=bool)
    covered[m.indices[m.indptr[np.flatnonzero(single)]]] = True
    atoms = np.flatnonzero(req.sensitive_atoms & ~covered)
    if full:
        cell_bounds, atom_bounds = feasible_bounds(system, pattern, req.lower_bound,
                                                   hidden_cells, atoms, integer=integer)
    else:
        model = _Model(system, pattern, req.lower_bound, integer)
        cell_items = []
        for c in hidden_cells:
            it = model.item(model.mv.indices[model.mv.indptr[c]:model.mv.indptr[c + 1]],
                            float(model.kc[c]))
            need = req.need_hi[c]
            it.hi_target = max(v[c] + 1, t, need if not math.isnan(need) else 0)
            cell_items.append(it)
        atom_items = []
        for a in atoms:
            it = model.item(np.array([model.local[a]]), 0.0)
            it.hi_target = t
            atom_items.append(it)
        model.optimise(cell_items + atom_items, maximise=True)
        lo_items = []
        for c, it in zip(hidden_cells, cell_items):
            targets = []
            if it.hi < v[c] + 1:
                targets.append(v[c] - 1)
            if it.hi <= t - 1:
                targets.append(0)
            if not math.isnan(req.need_lo[c]):
                targets.append(req.need_lo[c])
            if targets:
                it.lo_target = min(targets)
                lo_items.append(it)
        model.optimise(lo_items, maximise=False)
        cell_bounds = {int(c): (it.lo, it.hi) for c, it in zip(hidden_cells, cell_items)}
        atom_bounds = {int(a): (it.lo, it.hi) for a, it in zip(atoms, atom_items)}
    findings = []
    for c, (lo, hi) in cell_bounds.items():
        reasons = exposure(lo, hi, hidden_cell=True, small=1 <= v[c] <= t - 1,
                           need_lo=req.need_lo[c], need_hi=req.need_hi[c], threshold=t)
        if reasons:
            findings.append(Finding("cell", c, lo, hi, reasons))
    for a, (lo, hi) in atom_bounds.items():
        reasons = exposure(lo, hi, hidden_cell=False, small=True, need_lo=math.nan,
                           need_hi=math.nan, threshold=t)
        if reasons:
            findings.append(Finding("atom", a, lo, hi, reasons))
    return Audit(tuple(findings), cell_bounds, atom_bounds)
