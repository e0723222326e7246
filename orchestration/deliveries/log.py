"""What was delivered: the delivery log and the delivered pupils, in the warehouse.

- ``deliveries_log.deliveries``: one row per delivery (id, protocol, when, the reason when it was
  forced, the files with their hashes as JSON, the request it answered, the folder, a content
  fingerprint). It decides once-only refusals, answered requests and "unchanged" re-runs.
- ``audit.delivered_records (delivery_id, protocol_id, file_id, pupil_key, delivered_at)``: every
  pupil key delivered in a person-level file, for GDPR art. 19 (telling recipients about a
  rectification or erasure). Pupil keys only: never an INSZ or a protocol pseudonym.

The audit trail (``orchestration.foundations.audit``) gets the events: delivery, vault use,
forced second delivery, refusal. :func:`audit_event` records into it and never lets a logging
problem pass silently.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import duckdb

logger = logging.getLogger(__name__)

DDL = """
create schema if not exists deliveries_log;
create table if not exists deliveries_log.deliveries (
    delivery_id varchar primary key,
    protocol_id varchar not null,
    delivered_at timestamp not null,
    delivery_date date not null,
    recipient varchar,
    forced_reason varchar,
    request_id varchar,
    key_version integer,
    code_version varchar,
    fingerprint varchar not null,
    folder varchar not null,
    files json not null
);
create schema if not exists audit;
create table if not exists audit.delivered_records (
    delivery_id varchar not null,
    protocol_id varchar not null,
    file_id varchar not null,
    pupil_key varchar not null,
    delivered_at timestamp not null
);
"""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


@dataclass(frozen=True)
class PreviousDelivery:
    delivery_id: str
    delivered_at: Any
    fingerprint: str
    forced_reason: str | None


def previous_deliveries(con: duckdb.DuckDBPyConnection, protocol_id: str,
                        request_id: str | None = None) -> list[PreviousDelivery]:
    """Earlier deliveries of a protocol (of one request, when given), oldest first."""
    ensure_tables(con)
    sql = ("select delivery_id, delivered_at, fingerprint, forced_reason "
           "from deliveries_log.deliveries where protocol_id = ?")
    params: list[Any] = [protocol_id]
    if request_id is not None:
        sql += " and request_id = ?"
        params.append(request_id)
    rows = con.execute(sql + " order by delivered_at, delivery_id", params).fetchall()
    return [PreviousDelivery(*row) for row in rows]


def audited_deliveries(p, protocol_id: str) -> list[PreviousDelivery]:
    """Deliveries of a protocol in the audit trail: it outlives a rebuilt warehouse, so a
    once-only protocol stays delivered even when ``deliveries_log`` was lost."""
    import datetime as dt

    from orchestration.foundations import audit

    path = audit.log_path(p)
    if not path.exists():
        return []
    found = []
    for entry in audit.entries(path):
        if entry.event == "delivery" and entry.fields.get("protocol") == protocol_id:
            at = dt.datetime.fromisoformat(entry.at).replace(tzinfo=None)
            found.append(PreviousDelivery(str(entry.fields.get("delivery_id", f"#{entry.seq}")),
                                          at, "", entry.fields.get("forced_reason")))
    return found


def answered_requests(con: duckdb.DuckDBPyConnection, protocol_id: str) -> set[str]:
    ensure_tables(con)
    return {r[0] for r in con.execute(
        "select distinct request_id from deliveries_log.deliveries "
        "where protocol_id = ? and request_id is not null", [protocol_id]).fetchall()}


def record_delivery(con: duckdb.DuckDBPyConnection, *, delivery_id: str, protocol_id: str,
                    delivered_at, delivery_date, recipient: str, forced_reason: str | None,
                    request_id: str | None, key_version: int | None, code_version: str,
                    fingerprint: str, folder: str, files: list[dict[str, Any]],
                    delivered_keys_table: str | None) -> int:
    """Insert the delivery and its delivered pupil keys (inside the caller's transaction)."""
    con.execute(
        "insert into deliveries_log.deliveries values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [delivery_id, protocol_id, delivered_at, delivery_date, recipient, forced_reason,
         request_id, key_version, code_version, fingerprint, folder, json.dumps(files)])
    if delivered_keys_table is None:
        return 0
    con.execute(
        f"insert into audit.delivered_records "
        f"select distinct ?, ?, file_id, pupil_key, ? from {delivered_keys_table} "
        f"where pupil_key is not null",
        [delivery_id, protocol_id, delivered_at])
    return con.execute(f"select count(*) from (select distinct file_id, pupil_key from "
                       f"{delivered_keys_table} where pupil_key is not null)").fetchone()[0]


def audit_event(event_type: str, p=None, **fields: Any) -> bool:
    """Record an event in the audit trail of the data folder ``p`` (default: the current one);
    False (and a warning) when the type is unknown there.

    The audit log is a foundation (orchestration.foundations.audit); an event type it does not know is logged to the
    Python log instead and reported by the caller.
    """
    from orchestration.foundations import audit

    if event_type not in audit.EVENT_TYPES:
        logger.warning("audit event type %r is not known to orchestration.foundations.audit; "
                       "logged here only: %s", event_type, fields)
        return False
    audit.record(event_type, path=audit.log_path(p) if p is not None else None, **fields)
    return True
