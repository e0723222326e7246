"""Count distinct pupils per atom, in DuckDB, from microdata or from a counts table.

Why distinct pupils: microdata often holds several rows per pupil (enrolments on three counting
dates, several attests); a published figure counts people, so the threshold applies to distinct
pupils. Why one atom per pupil: a margin must equal the sum of its parts for the audit's linear
program to describe what a reader can compute; a pupil counted in two atoms breaks that, so it is
refused and the model upstream must pick one (for example the enrolment on 1 October).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from orchestration.disclosure.policy import DisclosureError

MISSING = "Unknown"  # label of a missing category (a NULL dimension value)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Data = pd.DataFrame | duckdb.DuckDBPyRelation


def _q(column: str) -> str:
    if not _IDENT.match(column):
        raise DisclosureError(f"column name {column!r} is not a plain identifier")
    return f'"{column}"'


def _run(data: Data, sql: str) -> pd.DataFrame:
    """Run ``sql`` against ``data`` registered as ``microdata``."""
    if isinstance(data, duckdb.DuckDBPyRelation):
        return data.query("microdata", sql).df()
    if isinstance(data, pd.DataFrame):
        with duckdb.connect() as con:
            con.register("microdata", data)
            return con.sql(sql).df()
    raise DisclosureError(f"expected a pandas DataFrame or a DuckDB relation, got {type(data)}")


def columns_of(data: Data) -> list[str]:
    return list(data.columns)


@dataclass(frozen=True)
class AtomCounts:
    """Distinct pupils per atom (``n``) and, when a school column is given, per atom and school
    (``school_n``, for the rules on the number and weight of schools behind a figure)."""

    counts: pd.DataFrame
    school_counts: pd.DataFrame | None


def count_atoms(data: Data, columns: Sequence[str], *, by: Sequence[str] = (),
                pupil_key: str | None = None, count_column: str | None = None,
                school_column: str | None = None) -> AtomCounts:
    """Distinct pupils per combination of ``by`` + ``columns``; dimension values become text,
    NULL becomes ``Unknown``. Give ``pupil_key`` for microdata or ``count_column`` for a table of
    counts (then the counts must already be of distinct pupils)."""
    if (pupil_key is None) == (count_column is None):
        raise DisclosureError("give exactly one of pupil_key (microdata) or count_column (counts)")
    present = set(columns_of(data))
    needed = list(by) + list(columns) + [c for c in (pupil_key, count_column, school_column) if c]
    missing = [c for c in needed if c not in present]
    if missing:
        raise DisclosureError(f"input lacks columns {missing}")
    keys = list(by) + list(columns)
    select = ", ".join(f"coalesce(cast({_q(c)} as varchar), '{MISSING}') as {_q(c)}" for c in keys)
    group = ", ".join(str(i + 1) for i in range(len(keys)))
    group_by = f"group by {group}" if keys else ""
    if pupil_key is not None:
        pk = _q(pupil_key)
        nulls = _run(data, f"select count(*) as n from microdata where {pk} is null")["n"].iat[0]
        if nulls:
            raise DisclosureError(f"{nulls} microdata rows have no pupil key: they cannot be "
                                  "counted as distinct pupils")
        if columns:
            tup = "row(" + ", ".join(f"coalesce(cast({_q(c)} as varchar), '{MISSING}')"
                                     for c in columns) + ")"
            by_sel = "".join(f"{_q(c)}, " for c in by)
            split = _run(data, f"select count(*) as n from (select {by_sel}{pk} from microdata "
                               f"group by all having count(distinct {tup}) > 1)")["n"].iat[0]
            if split:
                raise DisclosureError(
                    f"{split} pupils fall in more than one cell of the finest breakdown; a "
                    "margin would not be the sum of its cells. Keep one row per pupil "
                    "(and per value of the 'by' columns) before publishing")
        measure = f"count(distinct {pk})"
    else:
        cc = _q(count_column)
        bad = _run(data, f"select count(*) as n from microdata where {cc} is null or {cc} < 0 "
                         f"or {cc} <> floor({cc})")["n"].iat[0]
        if bad:
            raise DisclosureError(f"{bad} rows of {count_column} are not non-negative integers")
        measure = f"sum({cc})"
    sep = ", " if keys else ""
    counts = _run(data, f"select {select}{sep}cast({measure} as bigint) as n "
                        f"from microdata {group_by}")
    school_counts = None
    if school_column is not None:
        sc = _q(school_column)
        s_group = ", ".join(str(i + 1) for i in range(len(keys) + 1))
        school_counts = _run(data, f"select {select}{sep}cast({sc} as varchar) as school, "
                                   f"cast({measure} as bigint) as n from microdata "
                                   f"where {sc} is not null group by {s_group}")
    return AtomCounts(counts=counts, school_counts=school_counts)
