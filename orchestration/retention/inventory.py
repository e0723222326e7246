"""What the warehouse, the vault and the data folders hold, for the retention planner.

Reads only: ``ingest.files`` (every file ingestion took in, with its receipt time), the number of
rows each file still has in ``raw`` and in the vault's quarantine, birth dates of the
birth-governed file types (counted per date, never listed per person), and the files on disk in
the landing area, the restricted zone and the outbox. Needs a connection with the vault attached
(``warehouse.connect(p, vault=True)``, read-only is enough).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import duckdb

from orchestration.foundations import audit
from orchestration.foundations.hashing import sha256_of
from orchestration.retention.plan import (BIRTH_DATE_HEADER, Holdings, IngestedFile,
                                                StoredFile, TypeRule, type_rule)
from orchestration.protocols.registry import Registry
from orchestration.foundations.settings import Paths
from orchestration.foundations.sources import BY_FILE_TYPE, SOURCE_FILES, SOURCES, SourceFile

_BIRTH = BIRTH_DATE_HEADER.lower()
# The folder of processor hand-offs, in the outbox (sent) and the inbox (answers); the
# deliveries slice writes and reads them (its hand_off module), retention only lists them.
PROCESSORS = "processors"


def table_exists(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_catalog = ? and "
        "table_schema = ? and table_name = ?", [catalog, schema, table]).fetchone()[0] > 0


def warehouse_catalog(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select current_database()").fetchone()[0]


def birth_expr(spec: SourceFile, column: str) -> str:
    return f"try_strptime(nullif(trim({column}), ''), '{spec.date_format}')::date"


def quarantine_birth_expr(spec: SourceFile) -> str:
    """Birth date of a quarantined row: its JSON record (rows that broke a rule) holds the
    header as key; a malformed line (not JSON) has none that can be read."""
    return (f"case when json_valid(raw_record) then try_strptime(nullif(trim(json_extract_string("
            f"raw_record, '$.{BIRTH_DATE_HEADER}')), ''), '{spec.date_format}')::date end")


def ingested_files(con: duckdb.DuckDBPyConnection, rules: dict[str, TypeRule]
                   ) -> list[IngestedFile]:
    wh = warehouse_catalog(con)
    if not table_exists(con, wh, "ingest", "files"):
        return []
    rows = con.execute("""
        select sha256, file_type, arg_max(file_name, ingested_at), arg_max(status, ingested_at),
               coalesce(min(ingested_at) filter (where status <> 'erased'), min(ingested_at)),
               arg_max(school_year, ingested_at)
        from ingest.files where sha256 is not null and file_type <> 'unknown'
          and status not in ('duplicate', 'released')  -- copies and releases of a file's record
        group by sha256, file_type""").fetchall()
    held = _rows_per_file(con, wh)
    youngest = _youngest_births(con, wh, rules)
    return [IngestedFile(sha, ft, name, status, received.date(), year,
                         held.get((sha, ft), 0), *youngest.get((sha, ft), (None, 0)))
            for sha, ft, name, status, received, year in rows]


def _rows_per_file(con: duckdb.DuckDBPyConnection, wh: str) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for spec in SOURCE_FILES:
        if table_exists(con, wh, "raw", spec.file_type):
            for sha, n in con.execute(
                    f"select _source_file_sha256, count(*) from raw.{spec.file_type} group by 1"
            ).fetchall():
                counts[(sha, spec.file_type)] += n
    if table_exists(con, "vault", "main", "quarantine_rows"):
        for sha, ft, n in con.execute(
                "select sha256, file_type, count(*) from vault.quarantine_rows group by all"
        ).fetchall():
            counts[(sha, ft)] += n
    return counts


def _birth_sources(con: duckdb.DuckDBPyConnection, wh: str, spec: SourceFile) -> list[str]:
    """SQL selects of (sha, birth) over the raw rows and quarantined rows of a file type."""
    parts = []
    if table_exists(con, wh, "raw", spec.file_type):
        parts.append(f"select _source_file_sha256 as sha, {birth_expr(spec, _BIRTH)} as born "
                     f"from raw.{spec.file_type}")
    if table_exists(con, "vault", "main", "quarantine_rows"):
        parts.append(f"select sha256 as sha, {quarantine_birth_expr(spec)} as born "
                     f"from vault.quarantine_rows where file_type = '{spec.file_type}'")
    return parts


def _youngest_births(con, wh: str, rules: dict[str, TypeRule]
                     ) -> dict[tuple[str, str], tuple[dt.date | None, int]]:
    """(sha, file type) -> (youngest readable birth date, rows without a readable one)."""
    found: dict[tuple[str, str], tuple[dt.date | None, int]] = {}
    for ft, rule in rules.items():
        if rule.kind != "birth":
            continue
        parts = _birth_sources(con, wh, BY_FILE_TYPE[ft])
        if parts:
            for sha, born, unreadable in con.execute(
                    f"select sha, max(born), count(*) filter (where born is null) "
                    f"from ({' union all '.join(parts)}) group by sha").fetchall():
                found[(sha, ft)] = (born, unreadable)
    return found


def births(con: duckdb.DuckDBPyConnection, rules: dict[str, TypeRule]
           ) -> dict[str, list[tuple[dt.date, int]]]:
    """Rows per birth date of every birth-governed file type (counts, never persons)."""
    wh = warehouse_catalog(con)
    out: dict[str, list[tuple[dt.date, int]]] = {}
    for ft, rule in rules.items():
        if rule.kind != "birth":
            continue
        parts = _birth_sources(con, wh, BY_FILE_TYPE[ft])
        if parts:
            out[ft] = [(b, n) for b, n in con.execute(
                f"select born, count(*) from ({' union all '.join(parts)}) where born is not null "
                "group by born order by born").fetchall()]
    return out


# ------------------------------------------------------------------------------------ files

def _modified_on(path: Path) -> dt.date:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date()


def stored_files(p: Paths, registry: Registry) -> list[StoredFile]:
    """Files in the landing area, the restricted zone's file folders and the protocol outboxes."""
    found: list[StoredFile] = []

    def add(path: Path, area: str, owner: str, sha: str | None) -> None:
        found.append(StoredFile(path.relative_to(p.data).as_posix(), area, owner,
                                _modified_on(path), path.stat().st_size, sha))

    for source in SOURCES:
        for folder, area in ((p.inbox_of(source), "inbox"),
                             (p.quarantine_files / source, "quarantine"),
                             (p.refused_of(source), "refused")):
            if not folder.exists():
                continue
            for f in sorted(folder.iterdir()):
                if not f.is_file() or (area == "inbox" and f.name.startswith(".")):
                    continue
                sha = sha256_of(f) if area == "inbox" else f.name.split("_", 1)[0]
                add(f, area, source, sha)
    for protocol_id in registry.ids:
        # the protocol's deliveries; what it handed its processors and what they answered
        # (processors/<name>/<id> in the outbox and the inbox)
        folders = [(p.outbox / protocol_id, "outbox")] + [
            (folder, "processor") for root in (p.outbox, p.inbox)
            for folder in sorted((root / PROCESSORS).glob(f"*/{protocol_id}"))]
        for folder, area in folders:
            if not folder.exists():
                continue
            for f in sorted(folder.rglob("*")):
                if f.is_file():
                    add(f, area, protocol_id, None)
    return found


def delivered_files(p: Paths) -> dict[str, str]:
    """Outbox path -> registry delivery file id, from the audit trail's ``delivery`` entries
    (their ``files`` items may carry ``path``, relative to the data folder, and
    ``delivery_file``)."""
    out: dict[str, str] = {}
    try:
        for e in audit.entries(audit.log_path(p)):
            if e.event != "delivery":
                continue
            for item in e.fields.get("files") or []:
                if isinstance(item, dict) and item.get("path") and item.get("delivery_file"):
                    out[str(item["path"])] = str(item["delivery_file"])
    except (ValueError, KeyError):
        pass  # a damaged log is reported by the audit asset; fall back to file names
    return out


def holdings(con: duckdb.DuckDBPyConnection | None, p: Paths, registry: Registry) -> Holdings:
    """Everything the planner needs. ``con`` None: no warehouse yet (files on disk only)."""
    rules = {s.file_type: type_rule(s, registry) for s in SOURCE_FILES}
    if con is None:
        return Holdings([], {}, stored_files(p, registry), delivered_files(p))
    return Holdings(ingested_files(con, rules), births(con, rules), stored_files(p, registry),
                    delivered_files(p))
