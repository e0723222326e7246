"""The one disclosure-control step every aggregated output passes through.

``publish`` takes microdata (one row per pupil and whatever else, with a pupil key) or a table
of counts, the output's ``DisclosurePolicy`` (from the registry) and the tables to build, and
returns the published tables, each with its protection note, plus a restricted ``ReleaseRecord``
that protects the next release. In order:

1. count distinct pupils per atom (``counting``), refusing a pupil in two atoms;
2. build every table as a full cube with margins over the atoms (``tables``); overlapping tables
   published together share one system;
3. link the previous release: carry its pattern forward, and for a growing population
   (``nested=True``) put both releases in one system (``differencing``);
4. primary rules (``primary``): counts 1..threshold-1, zeros if disclosive, rates of 0%/100%,
   figures from fewer than three schools or small after a school subtracts its own pupils;
5. secondary suppression verified by the LP audit (``secondary``, ``attack``);
6. write the tables: hidden figures are NULL with ``suppressed = true``, the same mark for every
   hidden cell whatever the reason (a separate "<10" mark would tell which hidden cells are the
   small ones and undo the secondary suppression); rates only where their counts are shown;
   rows ordered by stratum keys; no school columns in public tables (``public``);
7. attach a note: source, threshold, method, what a hidden cell looks like.

Outputs whose policy says ``suppress_small_counts: false`` (zorgthuis funding counts: internal,
never published) pass through exact, with a note that says so; a public one is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from orchestration.disclosure.counting import MISSING, Data, count_atoms
from orchestration.disclosure.differencing import (ReleaseRecord, carried_pattern, key_to_json,
                                                   nested_system)
from orchestration.disclosure.policy import DisclosureError, DisclosurePolicy
from orchestration.disclosure.primary import SchoolStats, primary_requirements
from orchestration.disclosure.public import check_columns, check_public_frame, is_school_column
from orchestration.disclosure.secondary import protect
from orchestration.disclosure.tables import (TOTAL, CellSystem, Dimension, TableSpec,
                                             as_dimensions, atom_columns, build_system,
                                             complete_atoms, hierarchy_groups, key_sort,
                                             key_to_row)

SUPPRESSED_SYMBOL = "c"  # Eurostat's flag for a confidential figure, used by ``to_display``


@dataclass(frozen=True)
class ProtectionNote:
    """How a published table was protected, in words a reader of the table understands."""

    protocol_id: str
    output_id: str
    table: str
    source: str
    threshold: int
    method: tuple[str, ...]
    cells: int
    hidden: int
    release: str = ""
    created_on: str = field(default_factory=lambda: dt.date.today().isoformat())

    @property
    def text(self) -> str:
        lines = [f"Source: {self.source}." if self.source else "Source: not stated.",
                 *self.method,
                 f"{self.hidden} of {self.cells} figures are not shown."]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"protocol_id": self.protocol_id, "output_id": self.output_id,
                "table": self.table, "source": self.source, "threshold": self.threshold,
                "method": list(self.method), "cells": self.cells, "hidden": self.hidden,
                "release": self.release, "created_on": self.created_on, "text": self.text}


@dataclass(frozen=True)
class PublishedTable:
    name: str
    frame: pd.DataFrame
    note: ProtectionNote
    key_columns: tuple[str, ...]


@dataclass(frozen=True)
class Publication:
    """The published tables (by name) and the restricted record of this release."""

    tables: dict[str, PublishedTable]
    record: ReleaseRecord

    def __getitem__(self, name: str) -> PublishedTable:
        return self.tables[name]


def to_display(frame: pd.DataFrame, symbol: str = SUPPRESSED_SYMBOL) -> pd.DataFrame:
    """The table as text for a report: hidden figures become ``symbol``, flags are dropped."""
    out = frame.copy()
    flags = [c for c in out.columns if c == "suppressed" or c.endswith("_suppressed")]
    for flag in flags:
        target = None
        if flag == "suppressed":
            target = [c for c in out.columns if c not in flags
                      and pd.api.types.is_numeric_dtype(out[c])]
        else:
            base = flag[: -len("_suppressed")]
            target = [base] if base in out.columns else []
        for col in target:
            text = out[col].astype("string")
            out[col] = text.mask(out[flag].astype(bool), symbol)
    return out.drop(columns=flags)


def _method_lines(policy: DisclosurePolicy, *, rates: bool, school_rules: bool, nested: bool,
                  previous: bool, exact: bool) -> tuple[str, ...]:
    t = policy.threshold
    if exact:
        return ("Exact counts of distinct pupils. No disclosure control is applied: this "
                "output is an internal input that is never published.",)
    lines = [
        f"Counts are numbers of distinct pupils. Counts from 1 to {t - 1} are not shown "
        f"(threshold {t}, the minimum frequency of the Eurostat/ESSnet output-checking "
        "guidance).",
        "Further figures are hidden so that no hidden figure can be computed or narrowed to "
        f"1-{t - 1} from totals, other cells or related tables (secondary suppression, checked "
        "by linear programming over everything published).",
        "Zeros are not shown." if policy.zeros_disclosive else "Zeros are shown: they count "
        "nobody.",
    ]
    if rates:
        lines.append(f"Rates are shown only where the pupils behind them and their numerator "
                     f"are shown (so never on fewer than {t} pupils); "
                     + ("rates of 0% and 100% are hidden." if policy.extreme_rates_disclosive
                        else "rates of 0% and 100% are shown."))
    if school_rules:
        lines.append(f"Every figure shown covers at least {policy.min_schools_per_cell} schools"
                     + (" and no school can subtract its own pupils from it and be left with "
                        f"1 to {t - 1} pupils of other schools"
                        if policy.protect_against_school_subtraction else "")
                     + "; no school is named and schools are not ranked.")
    if previous:
        lines.append("Figures hidden in the previous release stay hidden"
                     + (", and no figure minus the same figure of the previous release gives "
                        f"1 to {t - 1} pupils." if nested else "."))
    lines.append(f"Hidden figures are empty, marked as suppressed ('{SUPPRESSED_SYMBOL}'); the "
                 "mark does not say why a figure is hidden.")
    return tuple(lines)


def _school_stats(membership: sparse.csr_matrix, atoms: pd.DataFrame, cols: list[str],
                  school_counts: pd.DataFrame | None) -> SchoolStats | None:
    if school_counts is None:
        return None
    n_cells = membership.shape[0]
    if school_counts.empty:
        z = np.zeros(n_cells, dtype=np.int64)
        return SchoolStats(n_schools=z, largest_school=z)
    index = {tuple(r): i for i, r in enumerate(atoms[cols].itertuples(index=False))}
    rows = np.array([index[tuple(r)] for r in school_counts[cols].itertuples(index=False)])
    schools, s_idx = np.unique(school_counts["school"].to_numpy(), return_inverse=True)
    s = sparse.csr_matrix((school_counts["n"].to_numpy(), (rows, s_idx)),
                          shape=(membership.shape[1], len(schools)))
    per_cell = (membership.astype(np.int64) @ s).tocsr()
    n_schools = np.diff(per_cell.indptr)
    largest = np.asarray(per_cell.max(axis=1).todense()).ravel() if per_cell.shape[1] \
        else np.zeros(n_cells, dtype=np.int64)
    return SchoolStats(n_schools=n_schools.astype(np.int64),
                       largest_school=largest.astype(np.int64))


def _pad(stats: SchoolStats | None, n: int) -> SchoolStats | None:
    if stats is None or len(stats.n_schools) == n:
        return stats
    extra = n - len(stats.n_schools)
    return SchoolStats(np.concatenate([stats.n_schools, np.zeros(extra, np.int64)]),
                       np.concatenate([stats.largest_school, np.zeros(extra, np.int64)]))


def _needs_integer(specs: Sequence[TableSpec], nested: bool) -> bool:
    """Plain two-way tables with margins have integral LP bounds; anything else is solved as an
    integer program as well, as a determined attacker would."""
    if nested or len(specs) > 1:
        return True
    spec = specs[0]
    return bool(spec.include or spec.exclude or len(spec.dims) > 2
                or any(d.depth > 1 for d in spec.dims))


def publish(data: Data, policy: DisclosurePolicy, *,
            tables: Sequence[TableSpec] | None = None,
            dims: Sequence[str | Sequence[str]] | None = None,
            name: str | None = None,
            pupil_key: str | None = None,
            count_column: str | None = None,
            school_column: str | None = None,
            by: Sequence[str] = (),
            rate_outcome: str | None = None,
            positive: object = True,
            previous: ReleaseRecord | None = None,
            nested: bool = False,
            source: str | None = None,
            release: str = "",
            measure: str = "pupils",
            integer: bool | None = None,
            school_ids: Collection[str] | None = None,
            categories: pd.DataFrame | None = None) -> Publication:
    """Protect and publish aggregated figures of ``data`` under ``policy``.

    ``tables``: several ``TableSpec`` published together (overlapping tables), or give ``dims``
    (and ``name``) for one table; a tuple in ``dims`` is a hierarchy (coarse to fine). ``by``:
    columns that split the output into independent slices without a total over them (school
    year, reference date). ``rate_outcome``: publish, per stratum, the pupils, those whose
    ``rate_outcome`` equals ``positive``, and their share. ``previous``: the record of the
    previous release; ``nested``: this release's population contains the previous one.
    ``school_column``: the school of each row, used only to count schools behind each figure.
    ``categories``: a frame with the atom columns whose combinations every table shows (zeros
    where ``data`` has none), so tables built from parts of a population line up.
    """
    if tables is None:
        if dims is None:
            raise DisclosureError("give tables or dims")
        tables = [TableSpec.make(name or policy.output_id, dims)]
    specs = list(tables)
    by = tuple(by)
    exact = not policy.suppress_small_counts
    if exact and policy.audience in ("public", "school_scoped"):
        raise DisclosureError(f"{policy.output_id}: a {policy.audience} output must be protected")
    positive_label = None
    if rate_outcome is not None:
        positive_label = str(positive).lower() if isinstance(positive, bool | np.bool_) \
            else str(positive)
        specs = [TableSpec(s.name, s.dims + (Dimension((rate_outcome,)),), s.include, s.exclude)
                 for s in specs]
    school_rules = policy.school_rules_apply and not exact
    public = policy.is_public
    if public and not policy.publication_allowed:
        raise DisclosureError(f"{policy.protocol_id}/{policy.output_id}: the protocol allows "
                              "no publication")
    if public:
        check_columns(list(by) + [c for s in specs for c in s.dim_columns], policy)
        source = source or policy.source_citation
        if not source:
            raise DisclosureError(f"{policy.output_id}: a publication names its source")
    if school_rules and school_column is None and (
            policy.min_schools_per_cell > 1 or policy.protect_against_school_subtraction):
        raise DisclosureError(f"{policy.output_id}: school rules apply; give school_column so "
                              "the number of schools behind every figure can be checked (for "
                              "figures of pupils without a school, say so in the policy: "
                              "min_schools_per_cell=1, protect_against_school_subtraction=False)")
    if school_column is None:
        school_rules = False
    if previous is not None and (previous.by != by):
        raise DisclosureError("the previous release was split by other columns")
    cols = list(atom_columns(specs))
    if public:
        leaked = [c for c in cols if is_school_column(c, policy.school_columns)]
        if leaked:
            raise DisclosureError(f"{policy.output_id}: a public table cannot break down by "
                                  f"{leaked}")
    counted = count_atoms(data, cols, by=by, pupil_key=pupil_key, count_column=count_column,
                          school_column=school_column if school_rules else None)
    counts = counted.counts
    for c in list(by) + cols:
        if (counts[c] == TOTAL).any():
            raise DisclosureError(f"column {c} has a category named {TOTAL!r}, the margin label")
    groups = hierarchy_groups(specs)
    if categories is None:
        categories = counts
    else:
        categories = pd.concat([counts[cols], categories[cols].astype("string")
                                .fillna(MISSING)], ignore_index=True).drop_duplicates()
        categories["n"] = 0
    if positive_label is not None and not (categories[rate_outcome] == positive_label).any():
        extra = categories.head(1).copy()
        extra[rate_outcome] = positive_label
        extra["n"] = 0
        categories = pd.concat([categories, extra], ignore_index=True)
    if integer is None:
        integer = _needs_integer(specs, nested and previous is not None)

    slices = [()] if not by else sorted(counts[list(by)].drop_duplicates()
                                        .itertuples(index=False, name=None))
    rows: dict[str, list[dict]] = {s.name: [] for s in specs}
    record_cells, record_atoms = [], []
    n_cells = {s.name: 0 for s in specs}
    n_hidden = {s.name: 0 for s in specs}
    for slice_values in slices:
        mask = np.ones(len(counts), dtype=bool)
        for col, val in zip(by, slice_values):
            mask &= (counts[col] == val).to_numpy()
        atoms = complete_atoms(counts.loc[mask, cols + ["n"]], groups,
                               categories=categories[cols + ["n"]], order=cols)
        values = atoms["n"].to_numpy()
        prev_cells = prev_atoms = None
        if previous is not None:
            prev_cells, prev_atoms = previous.slice(tuple(slice_values))
        if nested and previous is not None and len(prev_atoms):
            system, k = nested_system(atoms[cols], values, specs, prev_cells, prev_atoms, cols)
            base_membership = system.membership[:k][:, : len(atoms)]
        else:
            system = build_system(atoms[cols], values, specs)
            k = system.n_cells
            base_membership = system.membership
        stats = None
        if school_rules:
            school_counts = counted.school_counts
            smask = np.ones(len(school_counts), dtype=bool)
            for col, val in zip(by, slice_values):
                smask &= (school_counts[col] == val).to_numpy()
            stats = _pad(_school_stats(base_membership, atoms, cols, school_counts[smask]),
                         system.n_cells)
        if exact:
            pattern = np.zeros(system.n_cells, dtype=bool)
        else:
            sensitive_zeros = None
            if positive_label is not None and policy.extreme_rates_disclosive:
                sensitive_zeros = _extreme_rate_zeros(system, specs)
            req = primary_requirements(system, policy, school_stats=stats,
                                       sensitive_zeros=sensitive_zeros)
            forced = carried_pattern(system, prev_cells) if prev_cells is not None else None
            pattern = protect(system, req, forced=forced, integer=integer).pattern
        slice_row = dict(zip(by, slice_values))
        for spec in specs:
            for key, cid in sorted(system.tables[spec.name].items(),
                                   key=lambda kv: key_sort(kv[0], spec.dims)):
                if cid >= k:
                    continue
                rows[spec.name].append({"_key": key, "_cell": cid, "_slice": slice_values,
                                        "value": int(system.values[cid]),
                                        "hidden": bool(pattern[cid]), **slice_row})
                record_cells.append({**slice_row, "table": spec.name, "key": key_to_json(key),
                                     "value": int(system.values[cid]),
                                     "suppressed": bool(pattern[cid])})
        current = atoms[cols].copy()
        current["n"] = values
        for col, val in zip(by, slice_values):
            current[col] = val
        record_atoms.append(current[list(by) + cols + ["n"]])

    published = {}
    for spec in specs:
        frame, key_columns = (_rate_frame(rows[spec.name], spec, by, rate_outcome,
                                          positive_label, measure)
                              if positive_label is not None else
                              _count_frame(rows[spec.name], spec, by, measure))
        n_cells[spec.name] = len(rows[spec.name])
        n_hidden[spec.name] = sum(r["hidden"] for r in rows[spec.name])
        if public:
            check_public_frame(frame, key_columns, policy, school_ids=school_ids)
        note = ProtectionNote(
            protocol_id=policy.protocol_id, output_id=policy.output_id, table=spec.name,
            source=source or policy.source_citation or "", threshold=policy.threshold,
            method=_method_lines(policy, rates=positive_label is not None,
                                 school_rules=school_rules, nested=nested,
                                 previous=previous is not None, exact=exact),
            cells=n_cells[spec.name], hidden=n_hidden[spec.name], release=release)
        published[spec.name] = PublishedTable(spec.name, frame, note, key_columns)
    record = ReleaseRecord(
        protocol_id=policy.protocol_id, output_id=policy.output_id, release=release, by=by,
        atom_columns=tuple(cols), cells=pd.DataFrame(record_cells),
        atoms=pd.concat(record_atoms, ignore_index=True) if record_atoms else pd.DataFrame())
    return Publication(tables=published, record=record)


def _extreme_rate_zeros(system: CellSystem, specs: Sequence[TableSpec]) -> np.ndarray:
    """Outcome cells that are 0 while their stratum has pupils: a 0% or 100% rate."""
    out = np.zeros(system.n_cells, dtype=bool)
    v = system.values
    for spec in specs:
        index = system.tables[spec.name]
        for key, cid in index.items():
            if key[-1] and v[cid] == 0:
                total = index.get(key[:-1] + ((),))
                if total is not None and v[total] > 0:
                    out[cid] = True
    return out


def _count_frame(rows: list[dict], spec: TableSpec, by: Sequence[str],
                 measure: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    dim_cols = list(spec.dim_columns)
    records = []
    for r in rows:
        rec = {c: r[c] for c in by}
        rec.update(key_to_row(r["_key"], spec.dims))
        rec[measure] = None if r["hidden"] else r["value"]
        rec["suppressed"] = r["hidden"]
        records.append(rec)
    frame = pd.DataFrame(records, columns=list(by) + dim_cols + [measure, "suppressed"])
    frame[measure] = frame[measure].astype("Int64")
    frame["suppressed"] = frame["suppressed"].astype(bool)
    for c in list(by) + dim_cols:
        frame[c] = frame[c].astype("string")
    return frame, tuple(by) + tuple(dim_cols)


def _rate_frame(rows: list[dict], spec: TableSpec, by: Sequence[str], outcome: str,
                positive: str, measure: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    strata_dims = spec.dims[:-1]
    dim_cols = [c for d in strata_dims for c in d.columns]
    by_stratum: dict[tuple, dict] = {}
    order = []
    for r in rows:
        stratum = (r["_slice"], r["_key"][:-1])
        if stratum not in by_stratum:
            by_stratum[stratum] = {"by": {c: r[c] for c in by}}
            order.append(stratum)
        node = r["_key"][-1]
        if node == ():
            by_stratum[stratum]["total"] = r
        elif node == (positive,):
            by_stratum[stratum]["positive"] = r
    n_col, p_col, rate_col = measure, f"{outcome}_{measure}", f"{outcome}_rate"
    records = []
    for stratum in sorted(order, key=lambda s: (s[0], key_sort(s[1], strata_dims))):
        parts = by_stratum[stratum]
        total, pos = parts.get("total"), parts.get("positive")
        rec = dict(parts["by"])
        rec.update(key_to_row(stratum[1], strata_dims))
        t_hidden = total["hidden"] if total else False
        p_hidden = pos["hidden"] if pos else False
        t_val = total["value"] if total else 0
        p_val = pos["value"] if pos else 0
        rec[n_col] = None if t_hidden else t_val
        rec[f"{n_col}_suppressed"] = t_hidden
        rec[p_col] = None if p_hidden else p_val
        rec[f"{p_col}_suppressed"] = p_hidden
        rate_hidden = t_hidden or p_hidden
        rec[rate_col] = None if rate_hidden or t_val == 0 else round(p_val / t_val, 4)
        rec[f"{rate_col}_suppressed"] = rate_hidden
        records.append(rec)
    columns = list(by) + dim_cols + [n_col, f"{n_col}_suppressed", p_col,
                                     f"{p_col}_suppressed", rate_col, f"{rate_col}_suppressed"]
    frame = pd.DataFrame(records, columns=columns)
    for c in (n_col, p_col):
        frame[c] = frame[c].astype("Int64")
    frame[rate_col] = frame[rate_col].astype("Float64")
    for c in (f"{n_col}_suppressed", f"{p_col}_suppressed", f"{rate_col}_suppressed"):
        frame[c] = frame[c].astype(bool)
    for c in list(by) + dim_cols:
        frame[c] = frame[c].astype("string")
    return frame, tuple(by) + tuple(dim_cols)


__all__ = ["MISSING", "Publication", "ProtectionNote", "PublishedTable", "publish",
           "to_display", "as_dimensions"]
