"""Write-audit-publish: which deliveries the audit holds back, and why.

A delivery is published only when every source it draws on passed the article-7 audit. A source
is *held* when

- one of its blocking rules has an unresolved finding (``quality.findings``), or
- one of its current files had a high share of its rows quarantined at ingestion (more than
  :data:`QUARANTINE_SHARE`, ``PROTOCOL_WAREHOUSE_QUARANTINE_HOLD_SHARE`` overrides it): the
  file is too incomplete to deliver from, although every loaded row is valid.

A protocol is held exactly when a source its deliveries draw on is held; which sources a protocol
draws on is the registry's fact (``draws_on``: its source file types), so other protocols go on. The reasons
name the source, the rule or the file and a count or share: never a value. The delivery writer
asks :func:`reasons_for_protocol` before it writes; the quality step writes the same reasons to
``quality.delivery_holds`` for the steward.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import duckdb

ENV_QUARANTINE_SHARE = "PROTOCOL_WAREHOUSE_QUARANTINE_HOLD_SHARE"
QUARANTINE_SHARE = 0.05  # more than 5 % of a file's rows quarantined holds its source


@dataclass(frozen=True)
class Hold:
    """One reason a source is held (safe for logs: names and counts only)."""

    source: str
    reason: str  # blocking_finding | quarantine_share
    detail: str  # the rule or file, with counts

    def __str__(self) -> str:
        return f"{self.source}: {self.detail}"


def quarantine_share() -> float:
    value = os.environ.get(ENV_QUARANTINE_SHARE)
    return float(value) if value else QUARANTINE_SHARE


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute("select count(*) from duckdb_tables() where database_name = "
                       "current_database() and schema_name = ? and table_name = ?",
                       [schema, table]).fetchone()[0] > 0


def held_sources(con: duckdb.DuckDBPyConnection) -> list[Hold]:
    """Every reason any source is held now (sorted)."""
    holds: list[Hold] = []
    if _exists(con, "quality", "findings"):
        for source, rule_key, n, records in con.execute("""
                select source, rule_key, count(*), sum(affected_records)
                from quality.findings where blocking and status <> 'resolved'
                group by all order by all""").fetchall():
            holds.append(Hold(source, "blocking_finding",
                              f"blocking rule {rule_key} failed ({n} finding(s), "
                              f"{records} record(s))"))
    if _exists(con, "ingest", "files"):
        from orchestration.foundations.sources import BY_FILE_TYPE

        for file_type, file_name, quarantined, received in con.execute("""
                select f.file_type, f.file_name, f.quarantined_rows, f.received_rows
                from ingest.files f
                where f.status = 'loaded' and f.received_rows > 0
                  and f.quarantined_rows > ? * f.received_rows
                order by all""", [quarantine_share()]).fetchall():
            holds.append(Hold(BY_FILE_TYPE[file_type].source, "quarantine_share",
                              f"{file_name}: {quarantined} of {received} rows quarantined "
                              f"(more than {quarantine_share():.0%})"))
    return sorted(holds, key=lambda h: (h.source, h.reason, h.detail))


def sources_of(protocol) -> set[str]:
    """The source systems a protocol's deliveries draw on (registry ``draws_on``)."""
    from orchestration.foundations.sources import BY_FILE_TYPE

    return {BY_FILE_TYPE[file_type].source for file_type in protocol.file_types}


def reasons_for_protocol(con: duckdb.DuckDBPyConnection, protocol) -> list[Hold]:
    """Why a protocol's delivery is held now; empty when it may be published."""
    mine = sources_of(protocol)
    return [h for h in held_sources(con) if h.source in mine]


def write_holds(con: duckdb.DuckDBPyConnection, protocols) -> int:
    """``quality.delivery_holds``: one row per held protocol and reason, for the steward."""
    con.execute("create schema if not exists quality")
    con.execute("""create or replace table quality.delivery_holds (
        protocol_id varchar, source varchar, reason varchar, detail varchar)""")
    holds = held_sources(con)
    rows = [(p.id, h.source, h.reason, h.detail) for p in protocols for h in holds
            if h.source in sources_of(p)]
    if rows:
        con.executemany("insert into quality.delivery_holds values (?, ?, ?, ?)", rows)
    return len(rows)
