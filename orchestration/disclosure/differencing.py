"""Differencing: overlapping tables and successive releases must not reveal a small count.

Three tools:

- Overlapping tables published together (by municipality, and by municipality without one
  category) are one ``CellSystem`` (``tables.build_system`` with several ``TableSpec``): the
  audit sees that A - B is the excluded category and protects it like any cell.
- A release after an earlier one gets the earlier pattern carried forward (``carried_pattern``):
  a cell hidden last time is hidden again (unless it is now 0), so the pattern stays consistent.
- When the population only grows between releases (cumulative cohorts: this release = last
  release + new pupils), ``nested_system`` links both releases in one system: every atom is
  its part of last release plus a new part (the delta), last release's cells are frozen with
  their published status, and the audit then also protects every delta: no cell of this release
  minus the same cell last time may be a small count.

The earlier release is known through a ``ReleaseRecord``: its true figures and pattern, kept in
the restricted zone (never published) and written by ``publish`` with every release.

``small_differences`` is the plain check on two published tables: subtract matching published
cells and list the differences in 1 .. threshold-1 (what a reader would do by hand).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from orchestration.disclosure.policy import DisclosureError
from orchestration.disclosure.tables import CellSystem, Key, TableSpec, build_system


def key_to_json(key: Key) -> str:
    return json.dumps([list(node) for node in key], ensure_ascii=False)


def key_from_json(text: str) -> Key:
    return tuple(tuple(node) for node in json.loads(text))


@dataclass(frozen=True)
class ReleaseRecord:
    """Restricted: true figures and pattern of one release of one output, to protect the next.

    ``cells``: one row per published cell: the ``by`` columns, ``table``, ``key`` (JSON),
    ``value`` (true count) and ``suppressed``. ``atoms``: the ``by`` columns, the atom columns and
    ``n``. Kept in the restricted zone under the protocol's retention, never delivered.
    """

    protocol_id: str
    output_id: str
    release: str
    by: tuple[str, ...]
    atom_columns: tuple[str, ...]
    cells: pd.DataFrame
    atoms: pd.DataFrame

    def save(self, directory: Path | str) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.cells.to_parquet(d / "cells.parquet", index=False)
        self.atoms.to_parquet(d / "atoms.parquet", index=False)
        meta = {"protocol_id": self.protocol_id, "output_id": self.output_id,
                "release": self.release, "by": list(self.by),
                "atom_columns": list(self.atom_columns)}
        (d / "record.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return d

    @classmethod
    def load(cls, directory: Path | str) -> ReleaseRecord:
        d = Path(directory)
        meta = json.loads((d / "record.json").read_text(encoding="utf-8"))
        return cls(protocol_id=meta["protocol_id"], output_id=meta["output_id"],
                   release=meta["release"], by=tuple(meta["by"]),
                   atom_columns=tuple(meta["atom_columns"]),
                   cells=pd.read_parquet(d / "cells.parquet"),
                   atoms=pd.read_parquet(d / "atoms.parquet"))

    def slice(self, by_values: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The cells and atoms of one slice (one value of the ``by`` columns)."""
        cells, atoms = self.cells, self.atoms
        for col, val in zip(self.by, by_values):
            cells = cells[cells[col] == val]
            atoms = atoms[atoms[col] == val]
        return cells, atoms


def carried_pattern(system: CellSystem, previous_cells: pd.DataFrame) -> np.ndarray:
    """Cells of ``system`` hidden in the previous release (matched by table and key)."""
    forced = np.zeros(system.n_cells, dtype=bool)
    hidden = previous_cells[previous_cells["suppressed"]]
    for table, key in zip(hidden["table"], hidden["key"]):
        cid = system.tables.get(table, {}).get(key_from_json(key))
        if cid is not None:
            forced[cid] = True
    return forced


def nested_system(atoms: pd.DataFrame, values: np.ndarray, specs: Sequence[TableSpec],
                  previous_cells: pd.DataFrame, previous_atoms: pd.DataFrame,
                  atom_columns: Sequence[str]) -> tuple[CellSystem, int]:
    """One system for this release and the previous one of a growing population.

    Returns the joint system and the number of cells of this release (they come first, with
    the same ids as ``build_system`` gives them). Refuses when an atom shrank: the population
    is then not nested and the deltas would not be counts of pupils.
    """
    cols = list(atom_columns)
    cur = atoms[cols].copy()
    cur["n_new"] = np.asarray(values, dtype=np.int64)
    old = previous_atoms[cols + ["n"]].rename(columns={"n": "n_old"})
    union = cur.merge(old, on=cols, how="outer")
    union[["n_new", "n_old"]] = union[["n_new", "n_old"]].fillna(0).astype("int64")
    union = union.sort_values(cols, kind="stable").reset_index(drop=True)
    shrank = int((union["n_new"] < union["n_old"]).sum())
    if shrank:
        raise DisclosureError(f"{shrank} cells of the finest breakdown shrank since the previous "
                              "release: the populations are not nested; publish it as an "
                              "independent release (pattern carried forward only)")
    if len(union) != len(cur):
        raise DisclosureError("the previous release has atoms this release lacks; complete "
                              "both releases over the same categories")
    base = build_system(union[cols], union["n_new"].to_numpy(), specs)
    m = base.membership
    k = base.n_cells
    old_values = m @ union["n_old"].to_numpy()
    old_rows: dict[int, bool] = {}
    for table, key, value, hidden in previous_cells[["table", "key", "value",
                                                     "suppressed"]].itertuples(index=False):
        cid = base.tables.get(table, {}).get(key_from_json(key))
        if cid is None:
            raise DisclosureError(f"a cell of the previous release of table {table!r} has no "
                                  "counterpart in this release")
        if int(old_values[cid]) != int(value):
            raise DisclosureError("the previous release record does not match its atoms")
        old_rows[cid] = old_rows.get(cid, False) or bool(hidden)
    old_ids = sorted(old_rows)
    zero = sparse.csr_matrix(m.shape, dtype=np.int8)
    joint = sparse.vstack([sparse.hstack([m, m]), sparse.hstack([m[old_ids], zero[old_ids]])])
    atom_values = np.concatenate([union["n_old"].to_numpy(),
                                  (union["n_new"] - union["n_old"]).to_numpy()])
    n_total = k + len(old_ids)
    frozen = np.zeros(n_total, dtype=bool)
    frozen[k:] = True
    frozen_pattern = np.zeros(n_total, dtype=bool)
    frozen_pattern[k:] = [old_rows[c] for c in old_ids]
    labels = [("previous",) + tuple(r) for r in union[cols].itertuples(index=False)] + \
             [("new",) + tuple(r) for r in union[cols].itertuples(index=False)]
    system = CellSystem(atom_values=atom_values, membership=joint.tocsr(),
                        relations=base.relations, tables=base.tables, frozen=frozen,
                        frozen_pattern=frozen_pattern, atom_labels=labels)
    return system, k


def small_differences(a: pd.DataFrame, b: pd.DataFrame, on: Sequence[str], value: str,
                      threshold: int, suppressed: str = "suppressed") -> pd.DataFrame:
    """Matching cells published in both tables whose difference is a count 1..threshold-1.

    This is the reader's attack by hand (this release minus last, a table minus its subset).
    The result holds the keys and how many such cells there are, never the values.
    """
    left = a[list(on) + [value, suppressed]]
    right = b[list(on) + [value, suppressed]]
    both = left.merge(right, on=list(on), suffixes=("_a", "_b"))
    shown = ~both[f"{suppressed}_a"].astype(bool) & ~both[f"{suppressed}_b"].astype(bool)
    diff = (both[f"{value}_a"] - both[f"{value}_b"]).abs()
    hit = shown & (diff >= 1) & (diff <= threshold - 1)
    return both.loc[hit, list(on)].reset_index(drop=True)
