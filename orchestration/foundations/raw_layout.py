"""What a source file becomes in ``raw``, derived from its contract: the raw table's columns
(INSZ replaced by the pupil key, vault columns left out, a ``record_key`` where the source's own
key is personal, provenance added), each with its description, and the file's slot (file type +
the file name's groups), school year and reference date.

Ingestion writes by it; quality and admission read by it; the dbt source ``raw``
(``dbt_project/models/staging/_sources.yml``) is generated from it
(``python -m orchestration.ingestion.dbt_yaml``); so it lives below all of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from orchestration.foundations import school_year as sy
from orchestration.foundations.sources import Column, ColumnType, SourceFile


@dataclass(frozen=True)
class RawColumn:
    """One column of a raw table as ingestion writes it."""

    name: str
    type: str  # DuckDB type
    description: str
    doc: str | None = None  # dbt docs block explaining it (dbt_project/models/staging/_docs.md)


RAW_SCHEMA_DESCRIPTION = ("Source extracts as loaded by the governed ingestion; current version "
                          "of each delivered file slot.")
PUPIL_KEY = RawColumn("pupil_key", "varchar", "keyed internal pseudonym of the INSZ", "pupil_key")
RECORD_KEY = RawColumn("record_key", "varchar",
                       "keyed hash of the source's own record key where that key is personal",
                       "record_key")
PROVENANCE: tuple[RawColumn, ...] = (
    RawColumn("_source_file", "varchar", "name of the delivered file", "source_file"),
    RawColumn("_source_file_sha256", "varchar", "SHA-256 of the delivered file",
              "source_file_sha256"),
    RawColumn("_source_row", "bigint", "1-based data row number in the file", "source_row"),
    RawColumn("_loaded_at", "timestamp", "when ingestion loaded the file", "loaded_at"),
    RawColumn("_school_year", "varchar", "school year of the delivered file slot",
              "file_school_year"),
)

# How raw holds a value of each type (raw keeps text); text needs no note.
RAW_TYPE_NOTES: dict[ColumnType, str] = {
    "int": "integer as text",
    "date": "date as text, {date_format}",
    "flag": "J/N flag",
    "school_year": "school year YYYY-YYYY",
}


def readable_date_format(date_format: str) -> str:
    """``%d/%m/%Y`` -> ``dd/mm/yyyy``: the date format as the agencies' specs write it."""
    return date_format.replace("%d", "dd").replace("%m", "mm").replace("%Y", "yyyy")


def column_description(column: Column, date_format: str) -> str:
    """Header, meaning and how raw holds the value, e.g. ``Begindatum: start of the
    enrolment (date as text, dd/mm/yyyy)``."""
    text = f"{column.header}: {column.description}" if column.description else column.header
    note = RAW_TYPE_NOTES.get(column.type)
    if note:
        text += f" ({note.format(date_format=readable_date_format(date_format))})"
    return text


def raw_table(spec: SourceFile) -> tuple[RawColumn, ...]:
    """The raw table's columns in order, described: plain columns as text, the INSZ replaced by
    ``pupil_key``, vault columns left out, ``record_key`` where the source's own key is
    personal, then the provenance columns."""
    columns: list[RawColumn] = []
    for c in spec.columns:
        if c.sensitivity == "insz":
            columns.append(PUPIL_KEY)
        elif c.sensitivity == "plain":
            columns.append(RawColumn(c.name, "varchar", column_description(c, spec.date_format)))
    if has_personal_record_key(spec):
        columns.append(RECORD_KEY)
    return (*columns, *PROVENANCE)


def raw_columns(spec: SourceFile) -> list[tuple[str, str]]:
    """The raw table's columns as (name, DuckDB type)."""
    return [(c.name, c.type) for c in raw_table(spec)]


def has_personal_record_key(spec: SourceFile) -> bool:
    """Whether the source's own record key is a vault column (raw then keeps its keyed hash)."""
    vault_cols = {c.name for c in spec.columns if c.sensitivity == "vault"}
    return any(k in vault_cols for k in spec.key_columns)


def slot_of(spec: SourceFile, groups: dict[str, str]) -> tuple[str, str, dt.date | None]:
    """(slot, school year, reference date) from the file name's named groups."""
    ref = dt.date.fromisoformat(groups["reference_date"]) if "reference_date" in groups else None
    school_year = sy.key(sy.start_year(groups["school_year"])) if "school_year" in groups \
        else sy.of_date(ref)
    parts = [spec.file_type] + [groups[k] for k in sorted(groups)]
    return "/".join(parts), school_year, ref
