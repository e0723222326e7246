"""Scanners that look for national numbers where they must never be.

Used by the privacy tests: every table of the warehouse file (everything outside the vault) and
every text file produced outside the restricted zone is searched for values that are valid INSZ
numbers (NN or BIS, per python-stdnum), in plain or formatted form.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
from stdnum.be import ssn

# 11 digits, optionally formatted as YY.MM.DD-XXX.CC, not part of a longer token (hex keys!).
INSZ_TOKEN = re.compile(rb"(?<![0-9A-Za-z])(\d{2}\.?\d{2}\.?\d{2}[-. ]?\d{3}\.?\d{2})(?![0-9A-Za-z])")


def insz_in_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, int]:
    """{'schema.table.column': count of distinct valid INSZ values} for every text column."""
    columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = ? and data_type in ('VARCHAR', 'BIGINT', 'HUGEINT', 'INTEGER')",
        [catalog]).fetchall()
    found: dict[str, int] = {}
    for schema, table, column in columns:
        candidates = [r[0] for r in con.execute(
            f'select distinct regexp_replace("{column}"::varchar, \'[^0-9]\', \'\', \'g\') '
            f'from "{catalog}"."{schema}"."{table}" '
            f'where regexp_full_match(trim("{column}"::varchar), '
            f"'\\d{{2}}\\.?\\d{{2}}\\.?\\d{{2}}[-. ]?\\d{{3}}\\.?\\d{{2}}')").fetchall()]
        hits = sum(ssn.is_valid(c) for c in candidates)
        if hits:
            found[f"{schema}.{table}.{column}"] = hits
    return found


def insz_in_files(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, int]:
    """{'relative/path': count of valid INSZ tokens} for every file below root, except skip."""
    found: dict[str, int] = {}
    for path in root.rglob("*"):
        if not path.is_file() or any(path.is_relative_to(s) for s in skip):
            continue
        data = path.read_bytes()
        hits = {m.group(1) for m in INSZ_TOKEN.finditer(data)}
        valid = sum(ssn.is_valid(re.sub(rb"\D", b"", h).decode()) for h in hits)
        if valid:
            found[str(path.relative_to(root))] = valid
    return found
