"""What a source file becomes in ``raw``, derived from its contract: the raw table's columns
(INSZ replaced by the pupil key, vault columns left out, provenance added) and the file's slot
(file type + the file name's groups), school year and reference date.

Ingestion writes by it; quality and admission read by it; so it lives below both.
"""

from __future__ import annotations

import datetime as dt

from orchestration.foundations import school_year as sy
from orchestration.foundations.sources import SourceFile

PROVENANCE = (("_source_file", "varchar"), ("_source_file_sha256", "varchar"),
              ("_source_row", "bigint"), ("_loaded_at", "timestamp"), ("_school_year", "varchar"))


def raw_columns(spec: SourceFile) -> list[tuple[str, str]]:
    """The raw table's columns: plain columns as text, the INSZ replaced by ``pupil_key``,
    vault columns left out, a ``record_key`` where the source's own key is personal, and a
    ``_vault_digest`` where the file has vault columns: a keyed hash of those values, so two rows
    that differ only in a name or an address are told apart from an exact copy without the
    values ever reaching the warehouse."""
    cols: list[tuple[str, str]] = []
    for c in spec.columns:
        if c.sensitivity == "insz":
            cols.append(("pupil_key", "varchar"))
        elif c.sensitivity == "plain":
            cols.append((c.name, "varchar"))
    if has_personal_record_key(spec):
        cols.append(("record_key", "varchar"))
    if has_vault_columns(spec):
        cols.append(("_vault_digest", "varchar"))
    return cols + list(PROVENANCE)


def has_vault_columns(spec: SourceFile) -> bool:
    return any(c.sensitivity == "vault" for c in spec.columns)


def has_personal_record_key(spec: SourceFile) -> bool:
    vault_cols = {c.name for c in spec.columns if c.sensitivity == "vault"}
    return any(k in vault_cols for k in spec.key_columns)


def slot_of(spec: SourceFile, groups: dict[str, str]) -> tuple[str, str, dt.date | None]:
    """(slot, school year, reference date) from the file name's named groups."""
    ref = dt.date.fromisoformat(groups["reference_date"]) if "reference_date" in groups else None
    school_year = sy.key(sy.start_year(groups["school_year"])) if "school_year" in groups \
        else sy.of_date(ref)
    parts = [spec.file_type] + [groups[k] for k in sorted(groups)]
    return "/".join(parts), school_year, ref
