"""School-scoped outputs: one school sees its own figures, other schools only as a benchmark.

antwerpen_okan: "schools, school communities and pedagogical support services see only their own
school(s)". A portrait (school portraits, the early-warning pilot) is made for one school,
selected by its id from the registry of schools by exact match of a six-digit string. Anything
else (empty, a pattern such as '%' or '*', another format, an id not in the registry) yields no
output and one log line that says why, never the value asked for: a malformed request is not
evidence worth keeping and may itself be someone's attempt to read another school.

A portrait holds the school's own figures (small counts still protected) and a benchmark of all
other schools together, protected as a public figure would be (small counts, at least three
schools behind every figure) and carrying no school id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from orchestration.disclosure.counting import Data, count_atoms
from orchestration.disclosure.policy import DisclosureError, DisclosurePolicy
from orchestration.disclosure.publish import PublishedTable, publish
from orchestration.disclosure.tables import TableSpec, atom_columns

log = logging.getLogger(__name__)

SCHOOL_ID = re.compile(r"[0-9]{6}")  # instellingsnummer, zero-padded (DOMAIN.md section 3)
OWN, BENCHMARK = "own_school", "other_schools"


def validate_school_id(candidate: object, school_ids: Collection[str]) -> str | None:
    """The id when it is exactly a six-digit string in the registry; otherwise None, logged
    with the reason only."""
    if not isinstance(candidate, str):
        reason = "not text"
    elif candidate == "":
        reason = "empty"
    elif not SCHOOL_ID.fullmatch(candidate):
        reason = "not six digits (a pattern, padding or another format)"
    elif candidate not in school_ids:
        reason = "not in the registry of schools"
    else:
        return candidate
    log.warning("school-scoped output refused: the requested school id is %s", reason)
    return None


def _registry(school_ids: Collection[str]) -> frozenset[str]:
    ids = frozenset(school_ids)
    bad = sum(1 for i in ids if not isinstance(i, str) or not SCHOOL_ID.fullmatch(i))
    if bad:
        raise DisclosureError(f"the registry of schools holds {bad} ids that are not six-digit "
                              "strings")
    return ids


def _split(data: Data, school_column: str, school_id: str) -> tuple[Data, Data]:
    """Rows of the school (exact equality on the id as text) and rows of every other school."""
    if isinstance(data, pd.DataFrame):
        ids = data[school_column].astype("string")
        return data[ids == school_id], data[ids.notna() & (ids != school_id)]
    if isinstance(data, duckdb.DuckDBPyRelation):
        if not SCHOOL_ID.fullmatch(school_id):  # never reached: validated before
            raise DisclosureError("school id not validated")
        col = f'cast("{school_column}" as varchar)'
        return (data.filter(f"{col} = '{school_id}'"),
                data.filter(f"{col} is not null and {col} <> '{school_id}'"))
    raise DisclosureError(f"expected a pandas DataFrame or a DuckDB relation, got {type(data)}")


@dataclass(frozen=True)
class SchoolPortrait:
    """One school's output: its own figures and the benchmark of all other schools, side by
    side in ``frame`` (school id first), each protected and with its own note."""

    school_id: str
    own: PublishedTable
    benchmark: PublishedTable
    frame: pd.DataFrame


def school_portrait(data: Data, policy: DisclosurePolicy, *, school_id: object,
                    school_ids: Collection[str], school_column: str,
                    dims: Sequence[str | Sequence[str]], pupil_key: str | None = None,
                    count_column: str | None = None, by: Sequence[str] = (),
                    source: str | None = None, release: str = "", measure: str = "pupils",
                    school_id_column: str = "institution_number") -> SchoolPortrait | None:
    """The portrait of one school, or None (logged) when ``school_id`` is not a registered id."""
    if not policy.is_school_scoped:
        raise DisclosureError(f"{policy.output_id} is not a school-scoped output")
    registry = _registry(school_ids)
    sid = validate_school_id(school_id, registry)
    if sid is None:
        return None
    own_data, other_data = _split(data, school_column, sid)
    spec = TableSpec.make(OWN, dims)
    cols = list(atom_columns([spec]))
    categories = count_atoms(data, cols, by=by, pupil_key=pupil_key,
                             count_column=count_column).counts
    common = dict(dims=dims, pupil_key=pupil_key, count_column=count_column, by=by,
                  source=source or policy.source_citation, release=release, measure=measure,
                  categories=categories)
    # the school's own figures: small counts protected; it is one school by definition
    own = publish(own_data, policy.with_overrides(schools_identifiable=True), name=OWN,
                  **common)[OWN]
    # the benchmark: no school can be singled out among the others (the school reading it
    # contributes nothing to it, so subtracting its own pupils gains it nothing)
    bench = publish(other_data, policy.with_overrides(protect_against_school_subtraction=False),
                    name=BENCHMARK, school_column=school_column, **common)[BENCHMARK]
    keys = list(own.key_columns)
    left = own.frame.rename(columns={measure: f"own_{measure}", "suppressed": "own_suppressed"})
    right = bench.frame.rename(columns={measure: f"benchmark_{measure}",
                                        "suppressed": "benchmark_suppressed"})
    frame = left.merge(right, on=keys, how="outer", validate="one_to_one")
    frame.insert(0, school_id_column, sid)
    frame[school_id_column] = frame[school_id_column].astype("string")
    return SchoolPortrait(school_id=sid, own=own, benchmark=bench, frame=frame)


def school_portraits(data: Data, policy: DisclosurePolicy, *, school_ids: Collection[str],
                     school_column: str, **kwargs) -> dict[str, SchoolPortrait]:
    """One portrait per registered school (the batch for all schools of the registry)."""
    out = {}
    for sid in sorted(_registry(school_ids)):
        portrait = school_portrait(data, policy, school_id=sid, school_ids=school_ids,
                                   school_column=school_column, **kwargs)
        if portrait is not None:
            out[sid] = portrait
    return out
