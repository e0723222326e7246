"""Published tables as sums of atoms: the one model the other modules work on.

Why atoms: a margin, a table filtered to some categories, the same table of last year and a
school's benchmark are all sums of the same finest cells of the microdata (the atoms: one per
combination of every column any of the tables uses). Writing each published cell as a 0/1 row
over atoms lets one linear program see every relation between the published figures, so
secondary suppression, differencing between overlapping tables and release-to-release checks are
one problem, not three.

A table is a full cube: every dimension gets a ``Total`` level, a hierarchical dimension (for
example province -> municipality) gets a level per column, and every combination of levels is a
cell. Cells of different tables with the same atoms are the same cell, so they always carry the
same suppression status (consistent patterns come for free).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from orchestration.disclosure.policy import DisclosureError

TOTAL = "Total"

Node = tuple[str, ...]  # a path in one dimension: () is the total, ("P",) a province, ...
Key = tuple[Node, ...]  # one node per dimension of the table


@dataclass(frozen=True)
class Dimension:
    """One published dimension: a column, or a hierarchy of columns from coarse to fine."""

    columns: tuple[str, ...]

    @property
    def depth(self) -> int:
        return len(self.columns)


def as_dimensions(dims: Iterable[str | Sequence[str] | Dimension]) -> tuple[Dimension, ...]:
    """``["gender", ("province", "municipality")]`` -> dimensions (a tuple is a hierarchy)."""
    out = []
    for d in dims:
        if isinstance(d, Dimension):
            out.append(d)
        elif isinstance(d, str):
            out.append(Dimension((d,)))
        else:
            out.append(Dimension(tuple(d)))
    columns = [c for d in out for c in d.columns]
    if len(columns) != len(set(columns)):
        raise DisclosureError(f"a column appears in two dimensions: {columns}")
    return tuple(out)


@dataclass(frozen=True)
class TableSpec:
    """One table to publish: its dimensions and, for a table over part of the population,
    which categories of a column it keeps (``include``) or leaves out (``exclude``)."""

    name: str
    dims: tuple[Dimension, ...]
    include: tuple[tuple[str, frozenset[str]], ...] = ()
    exclude: tuple[tuple[str, frozenset[str]], ...] = ()

    @classmethod
    def make(cls, name: str, dims, include: Mapping[str, Iterable] | None = None,
             exclude: Mapping[str, Iterable] | None = None) -> TableSpec:
        def norm(m):
            return tuple(sorted((c, frozenset(str(v) for v in vs)) for c, vs in (m or {}).items()))
        return cls(name, as_dimensions(dims), norm(include), norm(exclude))

    @property
    def dim_columns(self) -> tuple[str, ...]:
        return tuple(c for d in self.dims for c in d.columns)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the table needs: its dimensions and its filters."""
        filt = [c for c, _ in self.include + self.exclude]
        return tuple(dict.fromkeys(self.dim_columns + tuple(filt)))

    def keeps(self, atoms: pd.DataFrame) -> np.ndarray:
        mask = np.ones(len(atoms), dtype=bool)
        for col, values in self.include:
            mask &= atoms[col].isin(values).to_numpy()
        for col, values in self.exclude:
            mask &= ~atoms[col].isin(values).to_numpy()
        return mask


def atom_columns(specs: Sequence[TableSpec]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for s in specs for c in s.columns))


def hierarchy_groups(specs: Sequence[TableSpec]) -> list[tuple[str, ...]]:
    """Columns that must be completed together: those in one hierarchy (their observed
    combinations, not the cross product); every other column on its own."""
    cols = atom_columns(specs)
    parent = {c: c for c in cols}

    def find(c):
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for s in specs:
        for d in s.dims:
            for a, b in itertools.pairwise(d.columns):
                parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for c in cols:
        groups.setdefault(find(c), []).append(c)
    return [tuple(g) for g in groups.values()]


def complete_atoms(counts: pd.DataFrame, groups: Sequence[tuple[str, ...]],
                   categories: pd.DataFrame | None = None, value: str = "n",
                   order: Sequence[str] | None = None) -> pd.DataFrame:
    """All atoms of the cube with their counts, zeros included (an empty combination is a
    published 0, as in ACRO and pandas.crosstab with dropna=False). ``categories`` (default
    ``counts``) gives the categories, so slices and releases share the same cells. Rows are
    sorted by ``order`` (default: the groups' columns), which fixes the atoms' numbering."""
    source = counts if categories is None else categories
    frame = None
    for g in groups:
        combos = source[list(g)].drop_duplicates().reset_index(drop=True)
        frame = combos if frame is None else frame.merge(combos, how="cross")
    cols = [c for g in groups for c in g]
    if frame is None:
        return pd.DataFrame({value: [int(counts[value].sum())]})
    merged = frame.merge(counts[cols + [value]], on=cols, how="left")
    merged[value] = merged[value].fillna(0).astype("int64")
    return merged.sort_values(list(order or cols), kind="stable").reset_index(drop=True)


@dataclass
class CellSystem:
    """Every published cell of a set of related tables as a sum of atoms.

    ``membership[c, a] == 1`` when atom ``a`` is part of cell ``c``. ``values`` are the true
    counts (restricted: never published as such). ``relations`` are the additive lines
    (total, components) of every table, used by the secondary-suppression heuristic; the audit
    uses the membership matrix and needs no relations. ``frozen`` cells belong to an earlier
    release: their status is ``frozen_pattern`` and cannot change.
    """

    atom_values: np.ndarray
    membership: sparse.csr_matrix
    relations: tuple[tuple[int, tuple[int, ...]], ...]
    tables: dict[str, dict[Key, int]]
    frozen: np.ndarray
    frozen_pattern: np.ndarray
    atom_labels: list[tuple] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.membership = sparse.csr_matrix(self.membership, dtype=np.int8)
        self.values = np.asarray(self.membership @ self.atom_values, dtype=np.int64)
        self.atom_count = np.diff(self.membership.indptr)

    @property
    def n_cells(self) -> int:
        return self.membership.shape[0]

    @property
    def n_atoms(self) -> int:
        return self.membership.shape[1]

    def atoms_of(self, cell: int) -> np.ndarray:
        m = self.membership
        return m.indices[m.indptr[cell]:m.indptr[cell + 1]]

    def cells_of_atoms(self) -> sparse.csc_matrix:
        return self.membership.tocsc()


def _cube(atoms: pd.DataFrame, spec: TableSpec) -> tuple[dict[Key, list[int]],
                                                          list[tuple[Key, tuple[Key, ...]]]]:
    """The cells of one table (key -> atom indices) and its additive lines."""
    kept = np.flatnonzero(spec.keeps(atoms))
    paths_per_dim = [list(zip(*(atoms[c].to_numpy()[kept] for c in d.columns)))
                     for d in spec.dims]
    cells: dict[Key, list[int]] = {}
    for i, atom in enumerate(kept):
        ancestors = [[p[:k] for k in range(len(p) + 1)] for p in (pd_[i] for pd_ in paths_per_dim)]
        for key in itertools.product(*ancestors):
            cells.setdefault(key, []).append(int(atom))
    children: list[dict[Node, list[Node]]] = []
    for d_i, _ in enumerate(spec.dims):
        ch: dict[Node, set[Node]] = {}
        for key in cells:
            node = key[d_i]
            if node:
                ch.setdefault(node[:-1], set()).add(node)
        children.append({k: sorted(v) for k, v in ch.items()})
    lines = []
    for key in cells:
        for d_i, d in enumerate(spec.dims):
            node = key[d_i]
            if len(node) < d.depth:
                comps = tuple(key[:d_i] + (child,) + key[d_i + 1:]
                              for child in children[d_i].get(node, []))
                comps = tuple(k for k in comps if k in cells)
                if comps:
                    lines.append((key, comps))
    return cells, lines


def build_system(atoms: pd.DataFrame, values: np.ndarray, specs: Sequence[TableSpec],
                 atom_labels: list[tuple] | None = None) -> CellSystem:
    """The cell system of ``specs`` over ``atoms`` (one row per atom, string columns)."""
    names = [s.name for s in specs]
    if len(names) != len(set(names)):
        raise DisclosureError(f"table names must be unique: {names}")
    by_atoms: dict[frozenset[int], int] = {}
    rows: list[list[int]] = []
    tables: dict[str, dict[Key, int]] = {}
    relations: set[tuple[int, tuple[int, ...]]] = set()
    for spec in specs:
        cells, lines = _cube(atoms, spec)
        index: dict[Key, int] = {}
        for key, atom_list in cells.items():
            fs = frozenset(atom_list)
            if fs not in by_atoms:
                by_atoms[fs] = len(rows)
                rows.append(sorted(fs))
            index[key] = by_atoms[fs]
        tables[spec.name] = index
        for total, comps in lines:
            t_id = index[total]
            c_ids = tuple(sorted({index[k] for k in comps}))
            if c_ids != (t_id,):
                relations.add((t_id, c_ids))
    membership = _rows_to_csr(rows, len(atoms))
    n = len(rows)
    return CellSystem(atom_values=np.asarray(values, dtype=np.int64), membership=membership,
                      relations=tuple(sorted(relations)), tables=tables,
                      frozen=np.zeros(n, dtype=bool), frozen_pattern=np.zeros(n, dtype=bool),
                      atom_labels=atom_labels or [tuple(r) for r in atoms.itertuples(index=False)])


def _rows_to_csr(rows: list[list[int]], n_cols: int) -> sparse.csr_matrix:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64,
                          count=int(indptr[-1]))
    data = np.ones(len(indices), dtype=np.int8)
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), n_cols))


def key_sort(key: Key, dims: Sequence[Dimension]) -> tuple:
    """Order of published rows: by stratum keys only, each level's categories before its
    total. Never by a figure: an order by outcome would rank schools or areas."""
    return tuple((level >= len(node), node[level] if level < len(node) else "")
                 for node, d in zip(key, dims) for level in range(d.depth))


def key_to_row(key: Key, dims: Sequence[Dimension], total: str = TOTAL) -> dict[str, str]:
    """A cell key as the dimension columns of a published row (``Total`` for a margin)."""
    row: dict[str, str] = {}
    for node, d in zip(key, dims):
        for level, col in enumerate(d.columns):
            row[col] = node[level] if level < len(node) else total
    return row
