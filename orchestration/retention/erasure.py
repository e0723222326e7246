"""Applying a retention plan: rows deleted, files deleted, DuckDB files rebuilt, bytes verified.

Erasure must be real, so every step is physical:

1. **Rows.** An expired file's rows go from ``raw``, the vault's identity table and quarantine,
   ``ingest.quarantine`` and ``ingest.row_findings``; its ``ingest.files`` record stays (file
   name, hash, counts: no personal value) with status ``erased``. Rows past ``birth + term`` go
   the same way, row by row. Identity rows left without their raw row are removed.
2. **Derived rows.** Every key (``pupil_key``, ``record_key``) of an erased row is deleted from the
   derived tables built from that file type (dbt tables downstream of it in the dbt manifest;
   without a manifest every table of dbt's table schemas; the Python-built ``linkage`` tables).
   Derived tables are rebuilt by the next warehouse run, so erring on the wide side only costs a
   rebuild. The run reports the raw partitions it changed so Dagster marks what is downstream as
   stale. Logs of their own (``audit.delivered_records``) keep their rows until step 3.
3. **Persons.** A pupil key that no raw table holds any more, of a person whose INSZ is in no
   quarantined row either, is no longer needed: the person is
   forgotten everywhere (every table of the warehouse and the vault with a ``pupil_key``, the
   vault's ``insz_register`` entry with the INSZ), and so is a record key that left ``raw``.
   Before that, the deliveries that reached a recipient about them are counted per protocol
   (``recipients_to_inform``, GDPR art. 19) from ``audit.delivered_records``.
   Their protocol pseudonyms go from the delivery tables (``erase_delivery_pseudonyms``, with the
   deliveries' own derivation), and from wherever a function registered with
   ``register_pseudonym_eraser`` looks.
4. **Bytes.** DuckDB keeps deleted values in its file even after ``CHECKPOINT`` (seen here with
   DuckDB 2.0: a deleted, checkpointed name is still in the file's bytes). So every DuckDB file
   that lost rows is rebuilt: ``COPY FROM DATABASE`` into a fresh file that replaces it (fsync,
   atomic rename). The INSZ and keys of the forgotten persons, held only in memory, are then
   searched for in the bytes of the new files and their WAL; a hit fails the run.
5. **Files.** Landing files, quarantined and refused copies and delivered files whose term ended
   are deleted; so is every copy at rest (landing file under any name, quarantine or refused
   copy) of a file that lost rows in this run, even while the file's other rows stay, and the
   scratch copies and DuckDB spill files a dead run left behind.

Every action is written to the audit trail as counts (never values). Rerunning after a crash is
safe: each step is idempotent and the plan is recomputed from what is left.

Rebuilding copies the whole file, so it needs free disk space of the file's size while it runs.
What a filesystem keeps of unlinked blocks is outside reach here; the data folders belong on an
encrypted volume (the protocols' "encrypted at rest").
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.deliveries.pseudonyms import key_periods, register_pseudonym_macros, scheme_of
from orchestration.deliveries.spec import model_name
from orchestration.foundations import audit
from orchestration.retention.inventory import (birth_expr, quarantine_birth_expr, table_exists,
                                                warehouse_catalog)
from orchestration.retention.plan import BIRTH_DATE_HEADER, Action, RetentionPlan
from orchestration.foundations.settings import Paths, duckdb_config, fsync_path
from orchestration.foundations.sources import BY_FILE_TYPE, SourceFile
from orchestration.foundations.warehouse import connect

log = logging.getLogger(__name__)

KEY_COLUMNS = ("pupil_key", "record_key")
_INSZ_SQL = r"\d{2}\.?\d{2}\.?\d{2}[-. ]?\d{3}\.?\d{2}"  # plain or formatted national number
# Schemas of tables that Python assets rebuild from raw (not dbt): cleaned by affected key too.
RECOMPUTED_OUTSIDE_DBT = ("linkage",)
# Without a dbt manifest: the schemas dbt builds tables in (dbt_project.yml).
DBT_TABLE_SCHEMAS = ("intermediate", "marts", "deliveries")
# The deliveries' log of delivered pupil keys (GDPR art. 19): counted per protocol before a
# person is forgotten, so the recipients to inform are known.
DELIVERED_RECORDS = ("audit", "delivered_records")

# Erasers of protocol pseudonyms for forgotten persons: fn(con, forgotten_table) -> rows deleted.
# ``forgotten_table`` is a temp table (insz, pupil_key) of the persons being forgotten, while the
# vault is still attached. Deliveries register theirs once their pseudonym derivation exists.
PseudonymEraser = Callable[[duckdb.DuckDBPyConnection, str], int]
_PSEUDONYM_ERASERS: list[PseudonymEraser] = []  # erase_delivery_pseudonyms is added below


def register_pseudonym_eraser(fn: PseudonymEraser) -> PseudonymEraser:
    """Register a function that deletes the protocol pseudonyms of forgotten persons."""
    if fn not in _PSEUDONYM_ERASERS:
        _PSEUDONYM_ERASERS.append(fn)
    return fn


def erase_delivery_pseudonyms(con: duckdb.DuckDBPyConnection, forgotten: str) -> int:
    """Rows of the ``deliveries.<protocol>__<file>`` tables whose keyed pseudonym is that of a
    forgotten person (the deliveries' own derivation: ``pseudonym_<protocol>`` macros over the
    pupil key; every school year's key for ``per_school_year`` schemes)."""
    from orchestration.protocols import load_registry

    registry, wh, deleted = load_registry(), warehouse_catalog(con), 0
    if not _count(con, f"select count(*) from {forgotten}"):
        return 0
    register_pseudonym_macros(con, registry)
    for protocol in registry.protocols.values():
        scheme = scheme_of(protocol)
        if scheme is None:
            continue
        hashed = {g.id for g in protocol.pseudonym.link_groups if g.key_scope == scheme.key_scope}
        if scheme.per_school_year:
            years = ", ".join(f"('{y}')" for y in key_periods(scheme))
            codes = (f"select {scheme.macro}(y.school_year, f.pupil_key) from {forgotten} f "
                     f"cross join (values {years}) y(school_year)")
        else:
            codes = f"select {scheme.macro}(pupil_key) from {forgotten}"
        for f in protocol.delivery_files:
            table = model_name(protocol.id, f.id)
            if not table_exists(con, wh, "deliveries", table):
                continue
            columns = _columns(con, wh, "deliveries", table)
            for v in f.identifier_columns:
                if v.link_group in hashed and v.name in columns:
                    deleted += _count(con, f"delete from {_q(wh, 'deliveries', table)} "
                                           f"where {v.name} in ({codes})")
    return deleted


@dataclass
class ErasureReport:
    today: dt.date
    per_action: list[tuple[Action, dict[str, int]]] = field(default_factory=list)
    identity_rows_orphaned: int = 0
    persons_forgotten: int = 0
    records_forgotten: int = 0
    derived_rows: int = 0
    pseudonym_rows: int = 0
    recipients_to_inform: dict[str, int] = field(default_factory=dict)  # protocol -> persons
    files_deleted: int = 0
    # (file type, SHA-256) of received files that lost rows: their copies at rest must go too
    files_with_erased_rows: set[tuple[str, str]] = field(default_factory=set)
    copies_deleted: int = 0  # landing, quarantine and scratch copies deleted for that
    rebuilt: list[str] = field(default_factory=list)
    touched_partitions: set[tuple[str, str]] = field(default_factory=set)  # (file type, year)
    bytes_verified: bool = True

    def totals(self) -> dict[str, int]:
        sums: dict[str, int] = defaultdict(int)
        for _, counts in self.per_action:
            for k, v in counts.items():
                sums[k] += v
        return {**sums, "identity_rows_orphaned": self.identity_rows_orphaned,
                "persons_forgotten": self.persons_forgotten,
                "records_forgotten": self.records_forgotten, "derived_rows": self.derived_rows,
                "pseudonym_rows": self.pseudonym_rows, "files_deleted": self.files_deleted,
                "copies_deleted": self.copies_deleted}


register_pseudonym_eraser(erase_delivery_pseudonyms)


# ------------------------------------------------------------------------------------ helpers

def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row else 0


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> set[str]:
    return {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_catalog = ? and "
        "table_schema = ? and table_name = ?", [catalog, schema, table]).fetchall()}


def keyed_tables(con: duckdb.DuckDBPyConnection, catalog: str, column: str
                 ) -> list[tuple[str, str]]:
    """(schema, table) of every base table of ``catalog`` with a column named ``column``."""
    return [(s, t) for s, t in con.execute("""
        select c.table_schema, c.table_name from information_schema.columns c
        join information_schema.tables t using (table_catalog, table_schema, table_name)
        where c.table_catalog = ? and c.column_name = ? and t.table_type = 'BASE TABLE'
        order by all""", [catalog, column]).fetchall()]


def _q(*parts: str) -> str:
    return ".".join(f'"{p}"' for p in parts)


# ------------------------------------------------------------------------------------ lineage

def downstream_relations(file_types: Iterable[str], manifest_path: Path | None = None
                         ) -> set[tuple[str, str]] | None:
    """(schema, table) of every dbt table built from the raw tables of ``file_types``, from the
    dbt manifest; None when there is no manifest (then every derived table counts)."""
    if manifest_path is None:
        from orchestration.platform.dbt_project import warehouse_dbt_project
        manifest_path = Path(warehouse_dbt_project.manifest_path)
    if not manifest_path.exists():
        return None
    manifest = json.loads(manifest_path.read_text())
    children: dict[str, list[str]] = manifest.get("child_map", {})
    wanted = set(file_types)
    start = [uid for uid, s in manifest.get("sources", {}).items()
             if s.get("schema") == "raw" and (s.get("identifier") or s.get("name")) in wanted]
    seen: set[str] = set()
    stack = list(start)
    while stack:
        uid = stack.pop()
        for child in children.get(uid, []):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    relations = set()
    for uid in seen:
        node = manifest.get("nodes", {}).get(uid)
        if node and node.get("resource_type") in ("model", "snapshot", "seed"):
            relations.add((node["schema"], node.get("alias") or node["name"]))
    return relations


def dbt_relations(manifest_path: Path | None = None) -> set[tuple[str, str]] | None:
    if manifest_path is None:
        from orchestration.platform.dbt_project import warehouse_dbt_project
        manifest_path = Path(warehouse_dbt_project.manifest_path)
    if not manifest_path.exists():
        return None
    nodes = json.loads(manifest_path.read_text()).get("nodes", {})
    return {(n["schema"], n.get("alias") or n["name"]) for n in nodes.values()
            if n.get("resource_type") in ("model", "snapshot", "seed")}


# ------------------------------------------------------------------------------------ row steps

def _collect_keys(con, source_sql: str, params: list, cols: set[str]) -> None:
    for key in KEY_COLUMNS:
        if key in cols:
            con.execute(f"insert into _affected select '{key}', {key} from ({source_sql}) "
                        f"where {key} is not null", params)


def erase_file(con: duckdb.DuckDBPyConnection, action: Action, report: ErasureReport
               ) -> dict[str, int]:
    """Every row of one received file, in the vault and the warehouse; its record -> erased."""
    spec = BY_FILE_TYPE[action.file_type]
    ft, sha, wh = spec.file_type, action.sha256, warehouse_catalog(con)
    counts = {"raw_rows": 0, "identity_rows": 0, "quarantined_rows": 0, "finding_rows": 0}
    if table_exists(con, wh, "raw", ft):
        cols = _columns(con, wh, "raw", ft)
        _collect_keys(con, f"select * from raw.{ft} where _source_file_sha256 = ?", [sha], cols)
        for (year,) in con.execute(f"select distinct _school_year from raw.{ft} "
                                   "where _source_file_sha256 = ?", [sha]).fetchall():
            report.touched_partitions.add((ft, year))
    if table_exists(con, wh, "ingest", "row_findings"):
        _collect_keys(con, "select pupil_key from ingest.row_findings where sha256 = ? "
                           "and file_type = ?", [sha, ft], {"pupil_key"})
    # vault first, then the warehouse, the record last: a crash leaves a file to redo
    if table_exists(con, "vault", "main", f"identity_{ft}"):
        counts["identity_rows"] = _count(con, f"delete from vault.identity_{ft} "
                                              "where _source_file_sha256 = ?", [sha])
    if table_exists(con, "vault", "main", "quarantine_rows"):
        counts["quarantined_rows"] = _count(con, "delete from vault.quarantine_rows "
                                                 "where sha256 = ? and file_type = ?", [sha, ft])
    if table_exists(con, wh, "raw", ft):
        counts["raw_rows"] = _count(con, f"delete from raw.{ft} where _source_file_sha256 = ?",
                                    [sha])
    if table_exists(con, wh, "ingest", "quarantine"):
        _count(con, "delete from ingest.quarantine where sha256 = ? and file_type = ?", [sha, ft])
    if table_exists(con, wh, "ingest", "row_findings"):
        counts["finding_rows"] = _count(con, "delete from ingest.row_findings where sha256 = ? "
                                             "and file_type = ?", [sha, ft])
    con.execute("update ingest.files set status = 'erased', message = ? where sha256 = ? and "
                "file_type = ?", [f"erased on {report.today.isoformat()}: {action.rule}"[:2000],
                                  sha, ft])
    return counts


def erase_born_before(con: duckdb.DuckDBPyConnection, action: Action, report: ErasureReport
                      ) -> dict[str, int]:
    """Rows (raw and quarantined) of one file type whose birth date is before the cutoff."""
    spec = BY_FILE_TYPE[action.file_type]
    ft, wh, cutoff = spec.file_type, warehouse_catalog(con), action.born_before
    counts = {"raw_rows": 0, "identity_rows": 0, "quarantined_rows": 0, "finding_rows": 0}
    if table_exists(con, wh, "raw", ft):
        cols = _columns(con, wh, "raw", ft)
        keys = ", ".join(k for k in KEY_COLUMNS if k in cols)
        con.execute(f"""
            create or replace temp table _doomed as
            select _source_file_sha256 as sha, _source_row as source_row, _school_year
                   {', ' + keys if keys else ''}
            from raw.{ft} where {birth_expr(spec, BIRTH_DATE_HEADER.lower())} < ?""", [cutoff])
        _collect_keys(con, "select * from _doomed", [], cols)
        report.files_with_erased_rows.update(
            (ft, sha) for (sha,) in con.execute("select distinct sha from _doomed").fetchall())
        for (year,) in con.execute("select distinct _school_year from _doomed").fetchall():
            report.touched_partitions.add((ft, year))
        if table_exists(con, "vault", "main", f"identity_{ft}"):
            counts["identity_rows"] = _count(con, f"""
                delete from vault.identity_{ft} i using _doomed d
                where i._source_file_sha256 = d.sha and i._source_row = d.source_row""")
        if table_exists(con, wh, "ingest", "row_findings"):
            counts["finding_rows"] = _count(con, """
                delete from ingest.row_findings f using _doomed d
                where f.sha256 = d.sha and f.source_row = d.source_row and f.file_type = ?""",
                                            [ft])
        counts["raw_rows"] = _count(con, f"""
            delete from raw.{ft} r using _doomed d
            where r._source_file_sha256 = d.sha and r._source_row = d.source_row""")
        con.execute("drop table _doomed")
    if table_exists(con, "vault", "main", "quarantine_rows"):
        con.execute(f"""
            create or replace temp table _doomed_q as
            select sha256 as sha, source_row from vault.quarantine_rows
            where file_type = ? and {quarantine_birth_expr(spec)} < ?""", [ft, cutoff])
        report.files_with_erased_rows.update(
            (ft, sha) for (sha,) in con.execute("select distinct sha from _doomed_q").fetchall())
        counts["quarantined_rows"] = _count(con, """
            delete from vault.quarantine_rows q using _doomed_q d
            where q.sha256 = d.sha and q.source_row = d.source_row and q.file_type = ?""", [ft])
        if table_exists(con, wh, "ingest", "quarantine"):
            _count(con, """delete from ingest.quarantine q using _doomed_q d
                           where q.sha256 = d.sha and q.source_row = d.source_row
                             and q.file_type = ?""", [ft])
        con.execute("drop table _doomed_q")
    return counts


def remove_orphaned_identities(con: duckdb.DuckDBPyConnection) -> int:
    """Vault identity rows whose raw row is gone (the invariant: one identity per raw row)."""
    wh, removed = warehouse_catalog(con), 0
    for (table,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'vault' "
            "and table_name like 'identity_%' order by 1").fetchall():
        ft = table.removeprefix("identity_")
        if not table_exists(con, wh, "raw", ft):
            continue
        removed += _count(con, f"""
            delete from vault.{table} i where not exists (
                select 1 from raw.{ft} r where r._source_file_sha256 = i._source_file_sha256
                and r._source_row = i._source_row)""")
    return removed


def forget_orphans(con: duckdb.DuckDBPyConnection, report: ErasureReport, tokens: set[str]) -> None:
    """Persons (pupil keys) and records (record keys) that no raw table holds any more."""
    wh = warehouse_catalog(con)
    raw_pupils = [t for s, t in keyed_tables(con, wh, "pupil_key") if s == "raw"]
    union = " union all ".join(f"select pupil_key from raw.{t}" for t in raw_pupils) or \
        "select null::varchar as pupil_key where false"
    # INSZ numbers still held in quarantined rows (JSON records or malformed lines) belong to
    # data kept under their file's term: those persons are not forgotten yet.
    held = "select null::varchar as insz where false"
    if table_exists(con, "vault", "main", "quarantine_rows"):
        held = (f"select regexp_replace(unnest(regexp_extract_all(raw_record, "
                f"'{_INSZ_SQL}')), '\\D', '', 'g') as insz from vault.quarantine_rows")
    if table_exists(con, "vault", "main", "insz_register"):
        con.execute(f"""
            create or replace temp table _forgotten as
            select insz, pupil_key from vault.insz_register r
            where not exists (select 1 from ({union}) u where u.pupil_key = r.pupil_key)
              and not exists (select 1 from ({held}) q where q.insz = r.insz)""")
    else:
        con.execute("create or replace temp table _forgotten (insz varchar, pupil_key varchar)")
    forgotten = con.execute("select insz, pupil_key from _forgotten").fetchall()
    report.persons_forgotten = len(forgotten)
    for insz, key in forgotten:  # kept in memory only, to check the rebuilt files' bytes
        tokens.update((insz, key))

    raw_records = [t for s, t in keyed_tables(con, wh, "record_key") if s == "raw"]
    union_r = " union all ".join(f"select record_key from raw.{t}" for t in raw_records) or \
        "select null::varchar as record_key where false"
    con.execute(f"""
        create or replace temp table _forgotten_records as
        select distinct key as record_key from _affected a where kind = 'record_key'
        and not exists (select 1 from ({union_r}) u where u.record_key = a.key)""")
    records = [r[0] for r in con.execute("select record_key from _forgotten_records").fetchall()]
    report.records_forgotten = len(records)
    tokens.update(records)

    if table_exists(con, wh, *DELIVERED_RECORDS):
        report.recipients_to_inform = dict(con.execute(f"""
            select protocol_id, count(distinct pupil_key) from {_q(wh, *DELIVERED_RECORDS)}
            where pupil_key in (select pupil_key from _forgotten)
            group by 1 order by 1""").fetchall())
    for fn in _PSEUDONYM_ERASERS:
        report.pseudonym_rows += int(fn(con, "_forgotten") or 0)
    for catalog in (wh, "vault"):
        for schema, table in keyed_tables(con, catalog, "pupil_key"):
            if (catalog, table) == ("vault", "insz_register"):
                continue
            report.derived_rows += _count(
                con, f"delete from {_q(catalog, schema, table)} "
                     "where pupil_key in (select pupil_key from _forgotten)")
        for schema, table in keyed_tables(con, catalog, "record_key"):
            report.derived_rows += _count(
                con, f"delete from {_q(catalog, schema, table)} "
                     "where record_key in (select record_key from _forgotten_records)")
    if table_exists(con, "vault", "main", "insz_register"):
        con.execute("delete from vault.insz_register where pupil_key in "
                    "(select pupil_key from _forgotten)")


def is_derived(schema: str, table: str, built_by_dbt: set[tuple[str, str]] | None,
               downstream: set[tuple[str, str]] | None) -> bool:
    """Whether a table is rebuilt from raw (so rows of an erased file may go from it at once).

    dbt tables count when they are downstream of the erased file types (all of them without a
    manifest); tables of the Python-built schemas always. Anything else (``raw``, ``ingest``,
    delivery logs) is a record of its own and only loses the rows of forgotten persons.
    """
    if schema in RECOMPUTED_OUTSIDE_DBT:
        return True
    if built_by_dbt is None:
        return schema in DBT_TABLE_SCHEMAS
    return (schema, table) in built_by_dbt and (downstream is None or (schema, table) in downstream)


def erase_derived(con: duckdb.DuckDBPyConnection, file_types: set[str], report: ErasureReport,
                  manifest_path: Path | None = None) -> None:
    """Rows keyed by an affected key in the derived tables built from ``file_types``."""
    if not file_types:
        return
    wh = warehouse_catalog(con)
    built_by_dbt = dbt_relations(manifest_path)
    downstream = downstream_relations(file_types, manifest_path) if built_by_dbt else None
    for key in KEY_COLUMNS:
        for schema, table in keyed_tables(con, wh, key):
            if not is_derived(schema, table, built_by_dbt, downstream):
                continue
            report.derived_rows += _count(con, f"""
                delete from {_q(wh, schema, table)} where {key} in
                (select key from _affected where kind = '{key}')""")


# ------------------------------------------------------------------------------------ bytes

def rebuild(path: Path, p: Paths) -> None:
    """Replace a DuckDB file by a fresh copy of its live contents (deleted bytes left behind)."""
    alias = path.stem
    target = path.with_name(path.name + ".rebuild")
    for leftover in (target, Path(f"{target}.wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(config=duckdb_config(p))
    try:
        con.execute(f"attach '{path}' as \"{alias}\" (read_only)")
        con.execute(f"attach '{target}' as rebuild_target")
        con.execute(f"copy from database \"{alias}\" to rebuild_target")
        con.execute("detach rebuild_target")
        con.execute(f"detach \"{alias}\"")
    finally:
        con.close()
    fsync_path(target)
    os.replace(target, path)
    Path(f"{path}.wal").unlink(missing_ok=True)
    fsync_path(path.parent)


def tokens_in_bytes(files: Iterable[Path], tokens: set[str]) -> dict[str, int]:
    """{file: hits} for files whose bytes contain any of ``tokens`` (never returns the tokens)."""
    usable = sorted({t for t in tokens if t and len(t) >= 8}, key=len, reverse=True)
    if not usable:
        return {}
    pattern = re.compile(b"|".join(re.escape(t.encode()) for t in usable))
    overlap = max(len(t) for t in usable)
    found: dict[str, int] = {}
    for path in files:
        if not path.exists():
            continue
        hits, tail = 0, b""
        with path.open("rb") as f:
            while chunk := f.read(8 * 1024 * 1024):
                data = tail + chunk
                hits += len(pattern.findall(data))
                tail = data[-overlap:]
                # a hit inside the overlap would count twice; presence is what matters
        if hits:
            found[str(path)] = hits
    return found


# ------------------------------------------------------------------------------------ apply

def apply_plan(p: Paths, plan: RetentionPlan, actions: list[Action],
               manifest_path: Path | None = None) -> ErasureReport:
    """Carry out ``actions`` (a subset of ``plan.actions``); see the module docstring."""
    report = ErasureReport(plan.today)
    row_actions = [a for a in actions if a.kind in ("erase_file", "erase_born_before")]
    tokens: set[str] = set()
    databases_changed = False
    if p.warehouse.exists() and p.vault.exists():  # ingestion creates both; never create one
        with connect(p, vault=True) as con:
            con.execute("create or replace temp table _affected (kind varchar, key varchar)")
            for a in row_actions:
                fn = erase_file if a.kind == "erase_file" else erase_born_before
                report.per_action.append((a, fn(con, a, report)))
            report.identity_rows_orphaned = remove_orphaned_identities(con)
            erase_derived(con, {a.file_type for a in row_actions if a.file_type}, report,
                          manifest_path)
            forget_orphans(con, report, tokens)
            databases_changed = bool(row_actions or report.identity_rows_orphaned
                                     or report.persons_forgotten or report.records_forgotten
                                     or report.derived_rows)
            con.execute("checkpoint")
            con.execute("checkpoint vault")
    report.files_with_erased_rows.update((a.file_type, a.sha256) for a in row_actions
                                         if a.kind == "erase_file")
    if report.files_with_erased_rows:
        report.copies_deleted = delete_resting_copies(p, report.files_with_erased_rows)
    report.copies_deleted += delete_stale_scratch(p, plan.today)
    for a in actions:
        if a.kind == "delete_stored_file":
            target = p.data / a.path
            if target.exists():
                target.unlink()
                report.files_deleted += 1
            report.per_action.append((a, {"files_deleted": 1}))
    if databases_changed:
        for path in (p.warehouse, p.vault):
            if path.exists():
                rebuild(path, p)
                report.rebuilt.append(path.name)
        leaks = tokens_in_bytes([p.warehouse, p.vault, Path(f"{p.warehouse}.wal"),
                                 Path(f"{p.vault}.wal")], tokens)
        report.bytes_verified = not leaks
        if leaks:
            raise RuntimeError("erasure incomplete: values of forgotten persons are still in the "
                               f"bytes of {sorted(leaks)}; the files were rebuilt, look for a "
                               "table the erasure does not know")
    tokens.clear()
    return report


def resting_copies(p: Paths, files: set[tuple[str, str]]) -> list[Path]:
    """Every copy on disk of the received files ``(file type, SHA-256)``: the landing file
    under any name it was received by (``ingest.files``; checked by hash), the quarantine copy
    of a file set aside whole, the refused copy."""
    if not files or not p.warehouse.exists():
        return []
    con = duckdb.connect(str(p.warehouse), read_only=True, config=duckdb_config(p))
    try:
        if not table_exists(con, warehouse_catalog(con), "ingest", "files"):
            return []
        names = con.execute(
            "select distinct file_type, sha256, file_name from ingest.files "
            "where list_contains(?::varchar[], file_type || '/' || sha256)",
            [sorted(f"{ft}/{sha}" for ft, sha in files)]).fetchall()
    finally:
        con.close()
    found: list[Path] = []
    for file_type, sha, name in names:
        source = BY_FILE_TYPE[file_type].source
        landing = p.inbox_of(source) / name
        if landing.is_file() and _sha256(landing) == sha:
            found.append(landing)
        for folder in (p.quarantine_files / source, p.refused_of(source)):
            candidate = folder / f"{sha[:12]}_{name}"
            if candidate.is_file():
                found.append(candidate)
    return found


def delete_resting_copies(p: Paths, files: set[tuple[str, str]]) -> int:
    """Delete the copies at rest of files that lost rows to erasure: once a person's rows are
    erased, no landing file or kept copy may still hold them (the warehouse keeps the rows of
    the others; the copies are not needed to read them)."""
    deleted = 0
    for path in resting_copies(p, files):
        path.unlink(missing_ok=True)
        deleted += 1
    return deleted


SCRATCH_TERM = dt.timedelta(days=1)


def delete_stale_scratch(p: Paths, today: dt.date) -> int:
    """Scratch copies (normalised line endings) and DuckDB spill files left by a run that died:
    a live run deletes its own within the hour, so anything a day old is a leftover."""
    deleted = 0
    cutoff = dt.datetime.combine(today, dt.time()).timestamp() - SCRATCH_TERM.total_seconds()
    for folder in (p.scratch, p.tmp / "duckdb"):
        if not folder.exists():
            continue
        for path in folder.rglob("*"):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                deleted += 1
    return deleted


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(8 * 1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def audit_report(report: ErasureReport, dry_run: bool = False) -> None:
    """One ``erasure`` entry per applied action, one for the persons forgotten: counts only."""
    for a, counts in report.per_action:
        extra = {"sha256": a.sha256} if a.sha256 else {}
        audit.record("erasure", rule=a.rule, action=a.kind, target=_audit_target(a),
                     protocols=list(a.protocols), counts=counts,
                     effective_date=report.today.isoformat(), **extra)
    if report.copies_deleted:
        audit.record("erasure", rule="copies at rest of files that lost rows to erasure, and "
                                     "stale scratch copies", action="delete_resting_copies",
                     counts={"copies_deleted": report.copies_deleted,
                             "files_with_erased_rows": len(report.files_with_erased_rows)},
                     effective_date=report.today.isoformat())
    if report.persons_forgotten or report.records_forgotten or report.derived_rows \
            or report.identity_rows_orphaned:
        audit.record("erasure", rule="persons and records no longer held in any raw table",
                     action="forget", counts={
                         "persons_forgotten": report.persons_forgotten,
                         "records_forgotten": report.records_forgotten,
                         "derived_rows": report.derived_rows,
                         "pseudonym_rows": report.pseudonym_rows,
                         "identity_rows_orphaned": report.identity_rows_orphaned},
                     recipients_to_inform=report.recipients_to_inform,
                     databases_rebuilt=report.rebuilt, bytes_verified=report.bytes_verified,
                     effective_date=report.today.isoformat())


def _audit_target(a: Action) -> str:
    if a.kind == "erase_file":
        spec: SourceFile = BY_FILE_TYPE[a.file_type]
        return f"{spec.source}/{a.target.split(' (', 1)[0]}"
    if a.kind == "erase_born_before":
        return f"{a.file_type}: rows born before {a.born_before.isoformat()}"
    return a.path or a.target


# ------------------------------------------------------------------------------------ the run

@dataclass
class RetentionOutcome:
    plan: RetentionPlan
    dry_run: bool
    persons_to_forget: int = 0  # estimate before erasing (dry run) or count after it
    report: ErasureReport | None = None


def _inventory_connection(p: Paths) -> duckdb.DuckDBPyConnection | None:
    """A read-only connection with the vault attached when it exists; None without a warehouse."""
    if not p.warehouse.exists():
        return None
    (p.tmp / "duckdb").mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(p.warehouse), read_only=True, config=duckdb_config(p))
    if p.vault.exists():
        con.execute(f"attach '{p.vault}' as vault (read_only)")
    return con


def estimate_forgotten(con: duckdb.DuckDBPyConnection, actions: list[Action]) -> int:
    """How many persons the actions would leave in no raw table (their vault entry goes)."""
    if not table_exists(con, "vault", "main", "insz_register"):
        return 0
    wh = warehouse_catalog(con)
    shas: dict[str, list[str]] = defaultdict(list)
    cutoffs: dict[str, dt.date] = {}
    for a in actions:
        if a.kind == "erase_file":
            shas[a.file_type].append(a.sha256)
        elif a.kind == "erase_born_before":
            cutoffs[a.file_type] = a.born_before
    parts, params = [], []
    for schema, table in keyed_tables(con, wh, "pupil_key"):
        if schema != "raw":
            continue
        cond = ["pupil_key is not null"]
        if shas.get(table):
            cond.append("not list_contains(?::varchar[], _source_file_sha256)")
            params.append(shas[table])
        if table in cutoffs and table in BY_FILE_TYPE:
            born = birth_expr(BY_FILE_TYPE[table], BIRTH_DATE_HEADER.lower())
            cond.append(f"coalesce({born} >= ?, true)")
            params.append(cutoffs[table])
        parts.append(f"select pupil_key from raw.{table} where {' and '.join(cond)}")
    survivors = " union all ".join(parts) or "select null::varchar as pupil_key where false"
    held = "select null::varchar as insz where false"
    if table_exists(con, "vault", "main", "quarantine_rows"):
        doomed_files = [a.sha256 for a in actions if a.kind == "erase_file"]
        held = (f"select regexp_replace(unnest(regexp_extract_all(raw_record, '{_INSZ_SQL}')), "
                f"'\\D', '', 'g') as insz from vault.quarantine_rows "
                f"where not list_contains(?::varchar[], sha256)")
        params.append(doomed_files)
    return _count(con, f"select count(*) from vault.insz_register r where not exists "
                       f"(select 1 from ({survivors}) s where s.pupil_key = r.pupil_key) "
                       f"and not exists (select 1 from ({held}) q where q.insz = r.insz)", params)


def run_retention(p: Paths | None = None, today: dt.date | None = None, dry_run: bool = True,
                  confirm_placeholder_dates: bool = False, reason: str = "",
                  registry=None, manifest_path: Path | None = None) -> RetentionOutcome:
    """Plan retention for ``today`` and, unless ``dry_run``, apply it and audit it.

    ``confirm_placeholder_dates`` also applies actions held because their date is a registry
    placeholder; it needs a ``reason`` and is recorded as a forced action.
    """
    from orchestration.foundations import settings
    from orchestration.retention import inventory
    from orchestration.retention.plan import plan as make_plan
    from orchestration.protocols import load_registry

    p = p or settings.paths()
    today = today or dt.date.today()
    registry = registry or load_registry()
    con = _inventory_connection(p)
    try:
        held = inventory.holdings(con, p, registry)
        the_plan = make_plan(registry, held, today)
        actions = the_plan.to_apply(confirm_placeholder_dates)
        estimate = estimate_forgotten(con, actions) if con is not None else 0
    finally:
        if con is not None:
            con.close()
    outcome = RetentionOutcome(the_plan, dry_run, estimate)
    if dry_run:
        return outcome
    forced = [a for a in actions if a.is_held]
    if forced:
        if not reason.strip():
            raise ValueError("confirm_placeholder_dates needs a reason (it is a forced action)")
        audit.record("forced_action", action="retention: apply actions held for a placeholder "
                                             "date", reason=reason.strip(),
                     targets=[_audit_target(a) for a in forced],
                     protocols=sorted({pid for a in forced for pid in a.protocols}),
                     effective_date=today.isoformat())
    outcome.report = apply_plan(p, the_plan, actions, manifest_path)
    outcome.persons_to_forget = outcome.report.persons_forgotten
    audit_report(outcome.report)
    return outcome
