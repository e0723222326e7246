"""The disclosure hook: every aggregated output with small-count suppression passes here.

The registry marks the files whose small counts must not be shown exactly
(``suppress_small_counts``): the antwerpen_okan monitor tables and school portraits, the
naft_evaluation semi-aggregated file and the duo_leerplicht parliamentary figures. The delivery
writer calls :func:`publish` on each such file after it is assembled and before any byte is
written; nothing else in the writer suppresses.

Each of these files has a **microdata** model beside it (``<protocol>__<file>__microdata``: one
row per pupil with the table's dimensions, its outcome and, where schools must stay
unrecognisable, the school) and an aggregated model in the registry's shape (exact counts, the
contract-checked delivery model). ``publish`` hands the microdata to
``orchestration.disclosure.publish`` (distinct pupils per cell, primary rules, secondary
suppression verified by the LP audit, at least three schools behind a public figure, rates only
where their counts are shown) with the policy the registry gives, and maps the published table
back to the registry's columns. Hidden figures are empty.

The release record of each published file (the true figures and the pattern, restricted) is
kept in ``data/restricted/disclosure/<protocol>/<file>/`` once the delivery is made, and passed as
``previous`` the next time, as orchestration/disclosure/README.md asks.

Without a warehouse connection (a file that has no microdata model, or a unit test of one
aggregated table) the fallback here applies **primary suppression only** to the aggregated model (a count of 1 to threshold - 1 becomes empty, and a
rate or share resting on it too) and says so in the result, so the delivery's metadata shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from orchestration import disclosure
from orchestration.deliveries.spec import model_name
from orchestration.protocols.registry import DeliveryFile, Protocol


@dataclass(frozen=True)
class Measures:
    """For the fallback: what is a count, and what rests on which counts."""

    counts: tuple[str, ...] = ()
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Microdata:
    """The microdata model of a protected file and how its table is published."""

    columns: tuple[tuple[str, str, str], ...]  # (name, DuckDB type, description)
    pupil_key: str
    by: tuple[str, ...]
    dims: tuple[Any, ...]  # a column, or a tuple of columns (a hierarchy, coarse to fine)
    rate_outcome: str | None = None
    school_column: str | None = None
    policy_overrides: dict[str, Any] = field(default_factory=dict)
    grain: str = ""


_PUPIL = ("pupil_key", "varchar", "Internal pupil key: counts distinct pupils. Never delivered.")
_SCHOOL = ("school_number", "varchar", "School of the row, only to count the schools behind "
           "every published figure. Never delivered.")

MICRODATA: dict[tuple[str, str], Microdata] = {
    ("antwerpen_okan", "monitor_newcomer_inflow"): Microdata(
        columns=(_PUPIL,
                 ("school_year", "varchar", "School year of the first (OK)AN enrolment."),
                 ("education_level", "varchar", "BASIS or SECUNDAIR, from that enrolment."),
                 ("first_enrolment_in_antwerp", "varchar", "J when that enrolment was in a "
                  "branch in the city of Antwerp, else N."),
                 ("has_school_delay", "boolean", "School delay at that enrolment."),
                 _SCHOOL),
        pupil_key="pupil_key", by=("school_year",),
        dims=("education_level", "first_enrolment_in_antwerp"),
        rate_outcome="has_school_delay", school_column="school_number",
        grain="one row per pupil of the antwerpen_okan population"),
    ("antwerpen_okan", "monitor_early_school_leaving"): Microdata(
        columns=(_PUPIL,
                 ("school_year", "varchar", "School year of leaving: entry into the indicator "
                  "for early leavers, the first secondary qualification for the others."),
                 ("last_enrolment_in_antwerp", "varchar", "J when the last known enrolment was "
                  "in the city of Antwerp, else N."),
                 ("is_early_school_leaver", "boolean", "Left without a qualification."),
                 _SCHOOL),
        pupil_key="pupil_key", by=("school_year",), dims=("last_enrolment_in_antwerp",),
        rate_outcome="is_early_school_leaver", school_column="school_number",
        grain="one row per pupil of the antwerpen_okan population who left secondary education"),
    ("antwerpen_okan", "school_portraits"): Microdata(
        columns=(_PUPIL,
                 ("school_year", "varchar", "School year."),
                 ("institution_number", "varchar", "School in the city of Antwerp where the "
                  "pupil is enrolled on 1 February (the school that receives the row)."),
                 ("attest", "varchar", "A, B, C or NONE: the pupil's attest that school year.")),
        pupil_key="pupil_key", by=("school_year", "institution_number"), dims=("attest",),
        # each school sees its own figures only: the school is known to its reader
        policy_overrides={"schools_identifiable": True},
        grain="one row per pupil of the population enrolled on 1 February in an Antwerp branch, "
              "per school year"),
    ("naft_evaluation", "dov_semi_aggregated"): Microdata(
        columns=(_PUPIL,
                 ("school_year", "varchar", "School year."),
                 ("postcode", "varchar", "Postcode of residence."),
                 ("in_education", "boolean", "Follows education (Flemish enrolment or a linked "
                  "DUO record).")),
        pupil_key="pupil_key", by=("school_year",), dims=("postcode",),
        rate_outcome="in_education",
        grain="one row per school-age young person living in Flanders per school year"),
    ("duo_leerplicht", "parliamentary_figures"): Microdata(
        columns=(("record_key", "varchar", "Internal key of the DUO registration: counts "
                  "distinct pupils. Never delivered."),
                 ("school_year", "varchar", "School year of the reference date."),
                 ("reference_date", "date", "DUO reference date."),
                 ("residence_province", "varchar", "Province of residence."),
                 ("residence_municipality_nis_code", "varchar", "Municipality of residence."),
                 ("birth_year", "integer", "Year of birth."),
                 ("brin_code", "varchar", "The Dutch school, only to count the schools behind "
                  "every published figure. Never delivered.")),
        pupil_key="record_key", by=("school_year", "reference_date"),
        dims=(("residence_province", "residence_municipality_nis_code"), "birth_year"),
        school_column="brin_code",
        grain="one row per DUO registration per reference date"),
}

MEASURES: dict[tuple[str, str], Measures] = {
    ("antwerpen_okan", "monitor_newcomer_inflow"): Measures(
        counts=("newcomer_count", "school_delay_count")),
    ("antwerpen_okan", "monitor_early_school_leaving"): Measures(
        counts=("early_school_leaver_count", "qualified_leaver_count"),
        derived={"early_school_leaving_rate": ("early_school_leaver_count",
                                               "qualified_leaver_count")}),
    ("antwerpen_okan", "school_portraits"): Measures(
        counts=("newcomer_pupils", "a_attest_count", "b_attest_count", "c_attest_count")),
    ("naft_evaluation", "dov_semi_aggregated"): Measures(
        counts=("population_count",),
        derived={"share_in_education": ("population_count",)}),
    ("duo_leerplicht", "parliamentary_figures"): Measures(counts=("pupil_count",)),
}


def microdata_model(protocol_id: str, file_id: str) -> str:
    return f"{model_name(protocol_id, file_id)}__microdata"


@dataclass(frozen=True)
class Publication:
    table: pa.Table | pd.DataFrame
    method: str
    threshold: int
    suppressed_cells: int
    notes: tuple[str, ...] = ()
    record: Any = None  # orchestration.disclosure ReleaseRecord: save it once delivered


def record_folder(restricted: Path, protocol_id: str, file_id: str) -> Path:
    """Where the last release record of a protected file is kept (restricted zone: it holds
    the true figures behind the hidden cells)."""
    return restricted / "disclosure" / protocol_id / file_id


def save_record(publication: Publication, restricted: Path, protocol_id: str,
                file_id: str) -> Path | None:
    if publication.record is None:
        return None
    return publication.record.save(record_folder(restricted, protocol_id, file_id))


class PublicationError(RuntimeError):
    """A file that must be protected but cannot be: refused, never published raw."""


def needs_protection(delivery: DeliveryFile) -> bool:
    return delivery.suppress_small_counts


def publish(table: pa.Table, protocol: Protocol, delivery: DeliveryFile,
            con: duckdb.DuckDBPyConnection | None = None, *, restricted: Path | None = None,
            release: str = "") -> Publication:
    """Protect one aggregated file; the returned table is what may be delivered.

    ``restricted``: the restricted zone, where the previous release record of this file is read
    (its suppression pattern is carried forward, so two releases cannot be subtracted)."""
    key = (protocol.id, delivery.id)
    threshold = protocol.disclosure.small_count_threshold
    if key in MICRODATA and con is not None:
        previous = None
        if restricted is not None:
            folder = record_folder(restricted, protocol.id, delivery.id)
            if (folder / "record.json").exists():
                previous = disclosure.ReleaseRecord.load(folder)
        return _published(disclosure, con, protocol, delivery, MICRODATA[key], previous,
                          release)
    measures = MEASURES.get(key)
    if measures is None:
        raise PublicationError(f"{protocol.id}/{delivery.id} suppresses small counts but declares "
                               "no measures in orchestration/deliveries/publication.py: refused")
    return _primary_suppression(table, measures, threshold)


# ------------------------------------------------------------------------------------ disclosure


def _published(disclosure, con, protocol: Protocol, delivery: DeliveryFile,
               spec: Microdata, previous=None, release: str = "") -> Publication:
    policy = disclosure.policy_from_registry(protocol, delivery)
    if spec.policy_overrides:
        policy = policy.with_overrides(**spec.policy_overrides)
    frame = con.sql(f"select * from deliveries.{microdata_model(protocol.id, delivery.id)}").df()
    kwargs: dict[str, Any] = {"dims": list(spec.dims), "by": list(spec.by),
                              "pupil_key": spec.pupil_key, "name": delivery.id,
                              "previous": previous, "release": release}
    if spec.rate_outcome:
        kwargs.update(rate_outcome=spec.rate_outcome, positive=True)
    if spec.school_column and policy.school_rules_apply:
        kwargs["school_column"] = spec.school_column
    if frame.empty:
        return Publication(pd.DataFrame(columns=delivery.column_names), _METHOD, policy.threshold,
                           0)
    publication = disclosure.publish(frame, policy, **kwargs)
    published = publication[delivery.id]
    out, hidden = _TO_FILE[(protocol.id, delivery.id)](published.frame, disclosure)
    method = _METHOD + ("; pattern of the previous release carried forward" if previous else "")
    return Publication(out[delivery.column_names], method, policy.threshold, hidden,
                       (published.note.text,), publication.record)


_METHOD = ("orchestration.disclosure.publish: distinct pupils per cell, primary and secondary "
           "suppression verified by the LP audit")


def _leaves(frame: pd.DataFrame, columns: list[str], total: str) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for c in columns:
        mask &= frame[c] != total
    return frame[mask].copy()


def _unknown_to_null(series: pd.Series, missing: str) -> pd.Series:
    return series.astype(object).where(series != missing, None)


def _inflow(frame: pd.DataFrame, d) -> tuple[pd.DataFrame, int]:
    t = _leaves(frame, ["education_level", "first_enrolment_in_antwerp"], d.TOTAL)
    out = pd.DataFrame({
        "school_year": t["school_year"], "education_level": t["education_level"],
        "first_enrolment_in_antwerp": t["first_enrolment_in_antwerp"],
        "newcomer_count": t["pupils"], "school_delay_count": t["has_school_delay_pupils"]})
    hidden = int(t["pupils_suppressed"].sum() + t["has_school_delay_pupils_suppressed"].sum())
    return out, hidden


def _early_leaving(frame: pd.DataFrame, d) -> tuple[pd.DataFrame, int]:
    t = _leaves(frame, ["last_enrolment_in_antwerp"], d.TOTAL)
    both = ~t["pupils_suppressed"] & ~t["is_early_school_leaver_pupils_suppressed"]
    qualified = (t["pupils"] - t["is_early_school_leaver_pupils"]).where(both, pd.NA)
    out = pd.DataFrame({
        "school_year": t["school_year"],
        "last_enrolment_in_antwerp": t["last_enrolment_in_antwerp"],
        "early_school_leaver_count": t["is_early_school_leaver_pupils"],
        "qualified_leaver_count": qualified,
        "early_school_leaving_rate": t["is_early_school_leaver_rate"]})
    hidden = int((~both).sum() + t["is_early_school_leaver_rate_suppressed"].sum())
    return out, hidden


def _portraits(frame: pd.DataFrame, d) -> tuple[pd.DataFrame, int]:
    rows = []
    hidden = 0
    for (year, school), group in frame.groupby(["school_year", "institution_number"], sort=True):
        values = {r.attest: (None if r.suppressed else r.pupils) for r in group.itertuples()}
        hidden += int(group.loc[group["attest"].isin([d.TOTAL, "A", "B", "C"]),
                                "suppressed"].sum())
        rows.append({"school_year": year, "institution_number": school,
                     "newcomer_pupils": values.get(d.TOTAL),
                     "a_attest_count": values.get("A", 0),
                     "b_attest_count": values.get("B", 0),
                     "c_attest_count": values.get("C", 0)})
    return pd.DataFrame(rows), hidden


def _semi_aggregated(frame: pd.DataFrame, d) -> tuple[pd.DataFrame, int]:
    t = frame[frame["postcode"] != d.MISSING].copy()
    total = t["postcode"] == d.TOTAL
    out = pd.DataFrame({
        "school_year": t["school_year"],
        "area_level": total.map({True: "TOTAL", False: "POSTCODE"}),
        "postcode": t["postcode"].astype(object).where(~total, None),
        "share_in_education": t["in_education_rate"]})
    return out, int(t["in_education_rate_suppressed"].sum())


def _parliamentary(frame: pd.DataFrame, d) -> tuple[pd.DataFrame, int]:
    t = _leaves(frame, ["residence_province", "residence_municipality_nis_code", "birth_year"],
                d.TOTAL)
    out = pd.DataFrame({
        "school_year": t["school_year"],
        "reference_date": pd.to_datetime(t["reference_date"]).dt.date,
        "residence_province": _unknown_to_null(t["residence_province"], d.MISSING),
        "residence_municipality_nis_code": _unknown_to_null(
            t["residence_municipality_nis_code"], d.MISSING),
        "birth_year": pd.to_numeric(_unknown_to_null(t["birth_year"], d.MISSING)).astype(
            "Int64"),
        "pupil_count": t["pupils"]})
    return out, int(t["suppressed"].sum())


_TO_FILE: dict[tuple[str, str], Callable[[pd.DataFrame, Any], tuple[pd.DataFrame, int]]] = {
    ("antwerpen_okan", "monitor_newcomer_inflow"): _inflow,
    ("antwerpen_okan", "monitor_early_school_leaving"): _early_leaving,
    ("antwerpen_okan", "school_portraits"): _portraits,
    ("naft_evaluation", "dov_semi_aggregated"): _semi_aggregated,
    ("duo_leerplicht", "parliamentary_figures"): _parliamentary,
}


# ------------------------------------------------------------------------------------ fallback


def _primary_suppression(table: pa.Table, measures: Measures, threshold: int) -> Publication:
    small = {}
    suppressed = 0
    for name in measures.counts:
        column = table[name]
        small[name] = pc.fill_null(pc.and_(pc.greater(column, 0), pc.less(column, threshold)),
                                   False)
    for name in measures.counts:
        column = table[name]
        suppressed += pc.sum(pc.cast(small[name], pa.int64())).as_py() or 0
        table = table.set_column(table.column_names.index(name), name,
                                 pc.if_else(small[name], pa.scalar(None, column.type), column))
    for name, basis in measures.derived.items():
        column = table[name]
        hide = small[basis[0]]
        for other in basis[1:]:
            hide = pc.or_(hide, small[other])
        suppressed += pc.sum(pc.cast(pc.and_(hide, pc.is_valid(column)), pa.int64())).as_py() or 0
        table = table.set_column(table.column_names.index(name), name,
                                 pc.if_else(hide, pa.scalar(None, column.type), column))
    return Publication(table, "fallback: primary suppression only (orchestration.disclosure not "
                       "available)", threshold, suppressed)
