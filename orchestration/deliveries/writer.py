"""The delivery writer: from the ``deliveries`` models to ``data/outbox/<protocol>/<delivery>/``.

For one protocol (and, for on-request protocols, one request file) :func:`deliver`

1. **refuses** when the protocol is not valid today (registry ``is_valid_on``, renewals
   included; ``today`` is injectable) or when a once-only protocol was delivered before and no
   ``force_reason`` is given; every refusal is an audit event (``delivery_refused``: protocol
   and reason, no personal value). A ``force_reason`` never overrides the validity period; it
   allows a second delivery of a once-only protocol, or re-sending files identical to the last
   delivery, and is then logged (``deliveries_log``, a ``forced_action`` audit event); when
   nothing needed forcing it is ignored, and the outcome says so;
2. **assembles** each file from what its delivery model holds, in registry order. The whitelist
   has one gate before this step: the model's enforced dbt contract and the blocking Dagster
   check ``columns_match_registry``, so the writer neither checks nor casts the model's columns
   again. Columns the registry declares ``filled_at_delivery`` are taken from the vault at this
   moment (identification the protocol allows), or from the request file (request answers,
   joined as the registry's ``request_answers`` says), so no INSZ or name ever sits in the
   warehouse; aggregated files with small-count suppression pass through the disclosure hook
   (``publication.publish``);
3. **writes** every file as Parquet and as CSV (semicolon, UTF-8), split as the protocol states
   (one file per school year, per reference date, or one per delivery), plus a Frictionless
   ``datapackage.json``, into a folder in the restricted zone (``staging``) that is renamed into
   the outbox only when complete and recorded: a recipient never sees half a delivery. A
   school-scoped file (audience ``school_scoped``: each school sees only its own school) is not
   in that package: it is written as one package per school, ``schools/<school id>/``, holding
   only that school's rows (the school ids checked by ``disclosure.school_scoped``). A published
   file names its source and carries its protection note in the package metadata;
4. **records** the delivery (``deliveries_log.deliveries``), the delivered pupil keys
   (``audit.delivered_records``) and the audit events (delivery, vault use, forced delivery).

Order, so a crash at any point is recovered by the next delivery
(:func:`recover_staged_deliveries`): write the staged folder -> commit the log row and seal the
folder under its delivery id -> audit -> rename into the outbox. A sealed folder the log
recorded is audited (what is missing) and published; one it did not record is removed.

A re-run whose files are byte-identical to the protocol's last delivery delivers nothing
(status ``unchanged``), so running the main job twice does not deliver twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb

from orchestration import disclosure
from orchestration.foundations import school_year as sy
from orchestration.deliveries import (datapackage, exchanges, hand_off, log, package_docs,
                                      publication, requests, staging, synthetic_twin)
from orchestration.deliveries.pseudonyms import scheme_of
from orchestration.deliveries.spec import fills_of, link_columns, model_name
from orchestration.quality import holds
from orchestration.protocols import load_registry
from orchestration.protocols.registry import DeliveryFile, Protocol, Registry
from orchestration.foundations.settings import PROJECT_ROOT, Paths, paths
from orchestration.foundations.warehouse import connect

logger = logging.getLogger(__name__)

Status = Literal["delivered", "refused", "unchanged", "no_request"]

# Where each kind of delivery-time fill comes from (the registry's ``Fill.source``): the alias
# and join of its vault table, and the model's link columns the join uses.
VAULT_JOINS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "insz_register": ("ir", "left join vault.insz_register as ir on ir.pupil_key = m.pupil_key",
                      ()),
    "rijksregister_identity": (
        "rr", "left join vault.identity_rijksregister_children as rr "
        "on rr._source_file_sha256 = m.rijksregister_file_sha256 "
        "and rr._source_row = m.rijksregister_source_row",
        ("rijksregister_file_sha256", "rijksregister_source_row")),
    "duo_identity": (
        "duo", "left join (select record_key, min(fictief_nummer) as fictief_nummer "
        "from vault.identity_duo_registrations group by record_key) as duo "
        "on duo.record_key = m.duo_record_key", ("duo_record_key",)),
}
PERIOD_DATE_COLUMNS = ("counting_date", "reference_date")
# The Dagster op of a delivery asset is named after its key ``delivery/<protocol_id>``.
FORCE_OP_PREFIX = "delivery__"


class DeliveryError(RuntimeError):
    """A delivery that must not go out as it is (the message says why, never a value)."""


@dataclass(frozen=True)
class PartSummary:
    file_id: str
    name: str
    rows: int
    csv_sha256: str
    parquet_sha256: str


@dataclass
class Outcome:
    protocol_id: str
    status: Status
    message: str
    delivery_id: str | None = None
    folder: Path | None = None
    request_id: str | None = None
    forced_reason: str | None = None
    parts: list[PartSummary] = field(default_factory=list)
    disclosure: dict[str, str] = field(default_factory=dict)
    vault_columns: list[str] = field(default_factory=list)
    delivered_pupils: int = 0
    forced_action: str | None = None  # what the force reason allowed, when it allowed anything
    notes: list[str] = field(default_factory=list)
    refusal: Refusal | None = None  # reason and remedy, when refused

    @property
    def delivered(self) -> bool:
        return self.status == "delivered"


# ------------------------------------------------------------------------------------ rules


@dataclass(frozen=True)
class Refusal:
    """Why a protocol may not deliver (no personal value) and what the steward can do."""

    reason: str
    remedy: str

    @property
    def message(self) -> str:
        return f"refused: {self.reason}; {self.remedy}"


def validity_refusal(protocol: Protocol, today: dt.date) -> Refusal | None:
    """Why the protocol may not deliver on ``today``; None when it may."""
    if protocol.is_valid_on(today):
        return None
    definition = f"orchestration/protocols/definitions/{protocol.id}.yaml"
    if today < protocol.validity.valid_from:
        return Refusal(
            f"{protocol.id} is valid only from {protocol.validity.valid_from.isoformat()} "
            f"(today is {today.isoformat()})",
            f"wait until {protocol.validity.valid_from.isoformat()}, or correct "
            f"validity.valid_from in {definition} if the protocol was signed earlier")
    ended = termination_note(protocol)
    if ended and today >= protocol.validity.ends_by_notice_on:
        return Refusal(f"{protocol.id} {ended}; today is {today.isoformat()}",
                       "nothing is delivered after a termination; a new protocol is needed to "
                       "deliver again")
    until = protocol.valid_until.isoformat() if protocol.valid_until else "?"
    return Refusal(
        f"{protocol.id} expired on {until} (valid until {until}; today is {today.isoformat()})",
        f"register a renewal under validity.renewals in {definition} to deliver again")


def termination_note(protocol: Protocol) -> str | None:
    """How a notice ends the protocol (registry ``validity.notice``), or None."""
    v = protocol.validity
    if v.notice is None or v.ends_by_notice_on is None:
        return None
    return (f"was terminated: notice given on {v.notice.given_on.isoformat()} by "
            f"{v.notice.given_by} ({v.notice.reference}), notice period {v.notice_period}, so "
            f"it ends on {v.ends_by_notice_on.isoformat()} and delivers nothing from that day")


def sharing_refusal(protocol: Protocol, today: dt.date) -> Refusal | None:
    """Further sharing (registry ``disclosure.further_sharing``): a file for a third party
    (audience ``third_party`` or ``public``) goes out only once every party the text names has
    given its consent, or been notified, for that file."""
    sharing = protocol.disclosure.further_sharing
    if sharing is None:
        return None
    missing = {f.id: sharing.missing(f.id, today) for f in protocol.delivery_files
               if f.audience in ("third_party", "public")}
    missing = {file_id: parties for file_id, parties in missing.items() if parties}
    if not missing:
        return None
    what = "consent" if sharing.requires == "consent" else "prior notice"
    listed = "; ".join(f"{file_id}: no {what} of {', '.join(parties)}"
                       for file_id, parties in sorted(missing.items()))
    return Refusal(
        f"{protocol.id} shares with a third party only after the {what} its text asks "
        f"(\"{' '.join(sharing.protocol_wording.split())[:160]}\"): {listed}",
        f"record each {what} under disclosure.further_sharing.permissions in "
        f"orchestration/protocols/definitions/{protocol.id}.yaml (party, kind, given_on, file, "
        "reference)")


def hold_refusal(protocol: Protocol, held: list[holds.Hold]) -> str:
    """Write-audit-publish: why the audit holds this protocol's delivery back (no values)."""
    return (f"held: {protocol.id} draws on {', '.join(sorted({h.source for h in held}))}, which "
            f"failed the article-7 audit: " + "; ".join(str(h) for h in held)
            + " (quality.delivery_holds; the source's report in data/outbox/quality/). It "
            "delivers once the source's corrected file passes")


def once_only_refusal(protocol: Protocol, previous: list[log.PreviousDelivery],
                      force_reason: str | None) -> Refusal | None:
    if not protocol.periodicity.once_only or not previous:
        return None
    if force_reason and force_reason.strip():
        return None
    last = previous[-1]
    return Refusal(
        f"{protocol.id} allows one delivery only and delivered {last.delivery_id} "
        f"on {last.delivered_at:%Y-%m-%d}",
        f"a second delivery needs a force reason, which is logged (launch job "
        f"deliver_{protocol.id} with run config ops: {FORCE_OP_PREFIX}{protocol.id}: config: "
        f"force_reason: \"<why>\")")


def check_force_reason(force_reason: str | None) -> str | None:
    """The reason stripped, None when empty; refuses a reason the audit log could not take
    (one that holds an INSZ or a pseudonym-shaped token): it is logged verbatim."""
    from orchestration.foundations import audit

    reason = (force_reason or "").strip() or None
    if reason is not None:
        try:
            audit.check_fields({"reason": reason})
        except audit.AuditRefused as exc:
            raise DeliveryError(f"the force reason cannot be logged: {exc}; describe the reason "
                                "without personal values") from None
    return reason


def code_version() -> str:
    """``git describe`` of the project, else the installed package version."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"],
                             cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return f"git {out.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        from importlib.metadata import version
        return f"protocol-warehouse {version('protocol-warehouse')}"
    except Exception:  # noqa: BLE001 - not installed: say so rather than fail a delivery
        return "unknown"


def part_periods(delivery: DeliveryFile, present: list[Any]) -> list[Any]:
    """The periods to write a file for: every school year of a bounded period (empty files
    included), else the periods present in the data."""
    period = delivery.period
    if period.one_file_per == "school_year" and period.school_year_from and \
            period.school_year_to:
        first, last = sy.start_year(period.school_year_from), sy.start_year(period.school_year_to)
        return [sy.key(y) for y in range(first, last + 1)]
    return sorted(p for p in present if p is not None)


def _period_column(delivery: DeliveryFile) -> str | None:
    kind = delivery.period.one_file_per
    if kind == "school_year":
        return "school_year"
    if kind == "reference_date":
        for name in PERIOD_DATE_COLUMNS:
            if name in delivery.column_names:
                return name
        raise DeliveryError(f"{delivery.id}: one file per reference date, but no "
                            f"{' or '.join(PERIOD_DATE_COLUMNS)} column")
    return None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


# ------------------------------------------------------------------------------------ assembly


def _ensure_vault(con: duckdb.DuckDBPyConnection, p: Paths) -> None:
    attached = con.execute("select count(*) from duckdb_databases() "
                           "where database_name = 'vault'").fetchone()[0]
    if not attached:
        if not p.vault.exists():
            raise DeliveryError(f"the vault {p.vault} does not exist: identification cannot be "
                                "filled")
        con.execute(f"attach '{_sql_path(p.vault)}' as vault (read_only)")


def _load_request(con: duckdb.DuckDBPyConnection, request: requests.Request) -> None:
    """The request lines as a temp table, each resolved to a pupil key through the vault."""
    con.execute("create or replace temp table __request (line integer, reference varchar, "
                "insz varchar, valid boolean)")
    con.executemany("insert into __request values (?, ?, ?, ?)",
                    [(line.line, line.reference, line.insz, line.valid)
                     for line in request.lines])
    con.execute("""
        create or replace temp table __request_keys as
        select r.line, r.reference, r.insz, k.pupil_key
        from __request as r
        left join vault.insz_register as k on r.valid and k.insz = r.insz""")
    con.execute("drop table __request")


def _literal(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def assemble(con: duckdb.DuckDBPyConnection, protocol: Protocol, delivery: DeliveryFile,
             table: str, request: requests.Request | None = None) -> None:
    """Create temp table ``table``: the delivered columns in registry order, plus
    ``__pupil_key`` (person-level files) and any disclosure-support column.

    A model column is taken as the model holds it (its contract types it); only the columns the
    registry fills at delivery time are cast, to the registry's type."""
    model = model_name(protocol.id, delivery.id)
    fills = {f.column: f for f in fills_of(delivery)}
    base = f"deliveries.{_q(model)} as m"
    defaults: dict[str, str | int | bool] = {}
    if request is not None:
        answers = protocol.request_answers
        if answers is None:
            raise DeliveryError(f"{protocol.id} declares no request_answers in the registry")
        defaults = answers.defaults
        base = (f"__request_keys as r {answers.join} join "
                f"deliveries.{_q(model)} as m on m.pupil_key = r.pupil_key")
    sources = {f.source for f in fills.values()}
    joins = [VAULT_JOINS[source][1] for source in VAULT_JOINS if source in sources]
    if "processor_answer" in sources:  # loaded by hand_off.load_answers just before
        joins.append(f"left join {hand_off.ANSWERS_TABLE} as pa "
                     f"on pa.key = m.{_q(delivery.processor_hand_off.key)}")
    selects = []
    for v in delivery.variables:
        if v.name in fills:
            fill = fills[v.name]
            if fill.source == "request":
                column = "reference" if fill.source_column == "request_id" else fill.source_column
                expression = f"r.{_q(column)}"
            elif fill.source == "processor_answer":
                expression = f"pa.{_q(fill.source_column)}"
            else:
                expression = f"{VAULT_JOINS[fill.source][0]}.{_q(fill.source_column)}"
            expression = f"cast({expression} as {v.type})"
        else:
            expression = f"m.{_q(v.name)}"
        if v.name in defaults:
            expression = f"coalesce({expression}, {_literal(defaults[v.name])})"
        selects.append(f"{expression} as {_q(v.name)}")
    if delivery.person_level:
        key = "r.pupil_key" if request is not None else "m.pupil_key"
        selects.append(f"{key} as __pupil_key")
    lookups = {c for _, _, columns in VAULT_JOINS.values() for c in columns}
    support = [c.name for c in link_columns(delivery)
               if c.name != "pupil_key" and c.name not in lookups]
    selects += [f"m.{_q(name)} as {_q(name)}" for name in support]
    order = "order by r.line" if request is not None else ""
    con.execute(f"create or replace temp table {table} as select {', '.join(selects)} "
                f"from {base} {' '.join(joins)} {order}")


def withhold_before_start(con: duckdb.DuckDBPyConnection, protocol: Protocol,
                          delivery: DeliveryFile, table: str) -> list[str]:
    """Remove from ``table`` the lists whose exchange moment (registry exchanges, art. 5 of
    zorgthuis) fell before the protocol took effect, unless the registry quotes the arrangement
    that covered them (``validity.covered_before_start``). Returns what was withheld, e.g.
    ``2022-10-03 provisional``; the counting date alone never decides."""
    columns = set(delivery.column_names)
    if not protocol.periodicity.exchanges or "counting_date" not in columns:
        return []
    years = [r[0] for r in con.execute(
        f"select distinct school_year from {table} where school_year is not null").fetchall()] \
        if "school_year" in columns else []
    early = exchanges.exchanged_before_start(protocol, sorted(years))
    value_of = {(x.counting_date, x.list_kind): x.list_value
                for x in protocol.periodicity.exchanges}
    withheld = []
    for e in early:
        value = value_of.get((e.counting_date_name, e.list_kind))
        condition = "counting_date = ?"
        params: list[Any] = [e.counting_date]
        if value is not None and "list_kind" in columns:
            condition += " and list_kind = ?"
            params.append(value)
        removed = con.execute(f"delete from {table} where {condition}", params).fetchone()[0]
        if removed:
            withheld.append(f"{e.counting_date.isoformat()} {e.list_kind} (exchange "
                            f"{e.exchange_day.isoformat()}, {removed} row(s))")
    return withheld


def protect(con: duckdb.DuckDBPyConnection, protocol: Protocol, delivery: DeliveryFile,
            table: str, p: Paths | None = None, release: str = "") -> publication.Publication:
    """Pass an aggregated file through the disclosure hook, replacing the temp table by what may
    be delivered (the registry's columns, typed as the registry types them: the published table
    comes back through pandas, which does not keep DuckDB's types)."""
    arrow = con.sql(f"select * from {table}").to_arrow_table()
    result = publication.publish(arrow, protocol, delivery, con,
                                 restricted=p.restricted if p else None, release=release)
    con.register("__protected", result.table)
    try:
        casts = ", ".join(f"cast({_q(v.name)} as {v.type}) as {_q(v.name)}"
                          for v in delivery.variables)
        con.execute(f"create or replace temp table {table} as select {casts} from __protected")
    finally:
        con.unregister("__protected")
    return result


# ------------------------------------------------------------------------------------ writing


def _write_parts(con: duckdb.DuckDBPyConnection, delivery: DeliveryFile, table: str,
                 folder: Path, name_suffix: str = "") -> list[datapackage.WrittenPart]:
    columns = ", ".join(_q(c) for c in delivery.column_names)
    period_column = _period_column(delivery)
    if period_column is None:
        slices: list[tuple[str, str]] = [(delivery.id + name_suffix, "true")]
    else:
        present = [r[0] for r in con.execute(
            f"select distinct {_q(period_column)} from {table}").fetchall()]
        slices = []
        for period in part_periods(delivery, present):
            label = period.isoformat() if isinstance(period, dt.date) else str(period)
            literal = f"date '{label}'" if isinstance(period, dt.date) else f"'{label}'"
            slices.append((f"{delivery.id}_{label}", f"{_q(period_column)} = {literal}"))
    parts = []
    for name, condition in slices:
        csv_path, parquet_path = folder / f"{name}.csv", folder / f"{name}.parquet"
        rows = datapackage.write_sorted(con, f"select {columns} from {table} where {condition}",
                            csv_path, parquet_path)
        parts.append(datapackage.WrittenPart(delivery, name, rows, csv_path, parquet_path))
    return parts


def _hand_off(con: duckdb.DuckDBPyConnection, protocol: Protocol, delivery: DeliveryFile,
              p: Paths, outcome: Outcome) -> None:
    """The processor's part of a file: hand it the current keys with what it needs, and load
    the answers it sent back (``hand_off``); audited with names, counts and hashes only."""
    spec = delivery.processor_hand_off
    model = f"deliveries.{_q(model_name(protocol.id, delivery.id))}"
    files = hand_off.hand_off(con, protocol, delivery, model, p)
    answers = hand_off.load_answers(con, protocol, delivery, p)
    log.audit_event("processor_hand_off", p=p, protocol=protocol.id, processor=spec.processor,
                    files=files, columns=["key", *spec.sends], answered_keys=answers.keys,
                    answer_files=[{"file": a.file, "status": a.status, "received": a.received,
                                   "accepted": a.accepted, "rejected": a.rejected,
                                   "rules": sorted({rule for _, rule, _ in a.errors})}
                                  for a in answers.files])
    outcome.notes.append(f"hand-off to {spec.processor}: {sum(f['rows'] for f in files)} "
                         f"row(s) in {len(files)} file(s); {answers.keys} key(s) answered")
    outcome.notes.extend(f"answer of {spec.processor} {a.message()}"
                         for a in answers.files if a.errors)


SCHOOLS_FOLDER = "schools"


def _school_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The registry of schools: every school number of the school register."""
    return {r[0] for r in con.execute(
        "select distinct cast(school_number as varchar) "
        "from staging.stg_school_register_branches").fetchall()}


def _write_school_packages(con: duckdb.DuckDBPyConnection, delivery: DeliveryFile, table: str,
                           folder: Path) -> dict[str, list[datapackage.WrittenPart]]:
    """A school-scoped file as one folder per school (``schools/<id>/``), each holding only
    the rows of that school: "Scholen [...] hebben enkel toegang tot de gegevens van de eigen
    school" (antwerpen_okan art. 4). Refused when a row names no registered school."""
    column = delivery.school_column
    if column is None:  # the registry requires it for school_scoped files
        raise DeliveryError(f"{delivery.id}: a school-scoped file names no school_column")
    registry = _school_ids(con)
    present = [r[0] for r in con.execute(
        f"select distinct cast({_q(column)} as varchar) from {table} order by 1").fetchall()]
    schools = [disclosure.validate_school_id(sid, registry) for sid in present]
    if any(sid is None for sid in schools):
        raise DeliveryError(f"{delivery.id}: {schools.count(None)} school id(s) in column "
                            f"{column} are not registered schools: no school package is sent")
    out = {}
    for sid in schools:
        target = folder / SCHOOLS_FOLDER / sid
        target.mkdir(parents=True, exist_ok=True)
        con.execute(f"create or replace temp table __school_rows as select * from {table} "
                    f"where cast({_q(column)} as varchar) = ?", [sid])
        out[sid] = _write_parts(con, delivery, "__school_rows", target)
    con.execute("drop table if exists __school_rows")
    return out


def _fingerprint(parts: list[PartSummary], key_version: int | None) -> str:
    body = json.dumps({"key_version": key_version,
                       "files": sorted((p.name, p.csv_sha256) for p in parts)})
    return hashlib.sha256(body.encode()).hexdigest()


def _new_delivery_id(outbox: Path, now: dt.datetime, request_id: str | None,
                     con: duckdb.DuckDBPyConnection) -> str:
    base = now.strftime("%Y%m%dT%H%M%SZ") + (f"-{request_id}" if request_id else "")
    candidate, n = base, 1
    while (outbox / candidate).exists() or con.execute(
            "select 1 from deliveries_log.deliveries where delivery_id = ?",
            [candidate]).fetchone():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _recipient(protocol: Protocol) -> dict[str, Any]:
    recipient = protocol.parties.recipient
    out: dict[str, Any] = {"recipient": recipient.name}
    processors = [x.name for x in protocol.parties.processors if x.acts_for in
                  (recipient.short_name, recipient.name)]
    if processors:
        out["delivered_to_processor"] = processors
    return out


# ------------------------------------------------------------------------------------ API


def deliver(protocol_id: str, *, p: Paths | None = None, registry: Registry | None = None,
            today: dt.date | None = None, now: dt.datetime | None = None,
            force_reason: str | None = None, request: requests.Request | None = None,
            con: duckdb.DuckDBPyConnection | None = None) -> Outcome:
    """Deliver one protocol (one request, for on-request protocols). Never raises for a
    refusal: the outcome says ``refused`` and why. Raises :class:`DeliveryError` when a
    delivery must be stopped (an invalid package, a file that cannot be protected). The
    models' columns are not checked here: the blocking check ``columns_match_registry`` and
    the models' enforced contracts stop a delivery whose model differs from the registry."""
    p = p or paths()
    registry = registry or load_registry()
    protocol = registry.protocol(protocol_id)
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    today = today or now.date()
    force_reason = check_force_reason(force_reason)
    if con is None:
        with connect(p) as own:
            return deliver(protocol_id, p=p, registry=registry, today=today, now=now,
                           force_reason=force_reason, request=request, con=own)

    # first what a killed delivery left (before the refusals: a recorded once-only delivery
    # that never reached the outbox is published, not refused)
    recover_staged_deliveries(con, p, registry)
    forced_action: str | None = None
    refusal = validity_refusal(protocol, today)
    kind = "validity"
    if refusal is None:
        refusal, kind = sharing_refusal(protocol, today), "further_sharing"
    if refusal is None and protocol.periodicity.once_only:
        kind = "once_only"
        earlier = {d.delivery_id: d for d in log.audited_deliveries(p, protocol.id)}
        earlier.update({d.delivery_id: d for d in log.previous_deliveries(con, protocol.id)})
        ordered = sorted(earlier.values(), key=lambda d: d.delivered_at)
        refusal = once_only_refusal(protocol, ordered, force_reason)
        if refusal is None and ordered:
            forced_action = (f"second delivery of once-only protocol {protocol.id} (first: "
                             f"{ordered[0].delivery_id})")
    if refusal is not None:
        refuse(protocol, refusal.message, p, today, kind=kind, request=request)
        return Outcome(protocol.id, "refused", refusal.message, refusal=refusal,
                       request_id=request.request_id if request else None)
    if protocol.pseudonym.scheme == "request_by_insz" and request is None:
        raise DeliveryError(f"{protocol.id} answers request files only: pass a request")

    log.ensure_tables(con)
    scheme = scheme_of(protocol)
    key_version = scheme.key_version if scheme else None
    needs_vault = request is not None or any(fills_of(f) for f in protocol.delivery_files)
    if needs_vault:
        _ensure_vault(con, p)
    if request is not None:
        _load_request(con, request)

    outbox = p.outbox / protocol.id
    outbox.mkdir(parents=True, exist_ok=True)
    tmp = staging.new_partial(p, protocol.id)
    try:
        outcome = Outcome(protocol.id, "delivered", "", request_id=request.request_id
                          if request else None)
        written: list[datapackage.WrittenPart] = []
        by_school: dict[str, list[datapackage.WrittenPart]] = {}
        published: dict[str, publication.Publication] = {}
        notes: dict[str, datapackage.PublishedNote] = {}
        con.execute("create or replace temp table __delivered (file_id varchar, "
                    "pupil_key varchar)")
        for delivery in protocol.delivery_files:
            table = f"__file_{delivery.id}"
            if delivery.processor_hand_off is not None:
                _hand_off(con, protocol, delivery, p, outcome)
            assemble(con, protocol, delivery, table, request)
            early = withhold_before_start(con, protocol, delivery, table)
            if early:
                outcome.notes.append(
                    f"{delivery.id}: withheld, exchanged before {protocol.id} took effect on "
                    f"{protocol.validity.valid_from.isoformat()} and covered by no arrangement "
                    f"in the registry: {', '.join(early)}")
            if publication.needs_protection(delivery):
                result = protect(con, protocol, delivery, table, p, today.isoformat())
                published[delivery.id] = result
                notes[delivery.id] = publication.published_note(protocol, result)
                outcome.disclosure[delivery.id] = (f"{result.method}; threshold "
                                                   f"{result.threshold}; "
                                                   f"{result.suppressed_cells} cells suppressed")
            if delivery.person_level:
                con.execute(f"insert into __delivered select distinct '{delivery.id}', "
                            f"__pupil_key from {table}")
            if delivery.audience == "school_scoped":
                for sid, parts in _write_school_packages(con, delivery, table, tmp).items():
                    by_school.setdefault(sid, []).extend(parts)
            else:
                written += _write_parts(con, delivery, table, tmp)
            con.execute(f"drop table {table}")
        outcome.parts = [PartSummary(w.delivery.id, w.name, w.rows,
                                     datapackage.sha256_of(w.csv),
                                     datapackage.sha256_of(w.parquet)) for w in written]
        outcome.parts += [PartSummary(w.delivery.id, f"{SCHOOLS_FOLDER}/{sid}/{w.name}", w.rows,
                                      datapackage.sha256_of(w.csv),
                                      datapackage.sha256_of(w.parquet))
                          for sid, parts in sorted(by_school.items()) for w in parts]
        fingerprint = _fingerprint(outcome.parts, key_version)
        previous = log.previous_deliveries(con, protocol.id,
                                           request.request_id if request else None)
        if previous and previous[-1].fingerprint == fingerprint:
            if not force_reason:
                shutil.rmtree(tmp)
                outcome.status = "unchanged"
                outcome.message = (f"unchanged: the files equal delivery "
                                   f"{previous[-1].delivery_id}; nothing delivered")
                outcome.delivery_id = previous[-1].delivery_id
                outcome.parts = []
                return outcome
            forced_action = forced_action or (f"re-delivery of files identical to delivery "
                                              f"{previous[-1].delivery_id} of {protocol.id}")
        if force_reason and forced_action is None:
            note = ("force_reason ignored: nothing needed forcing (not a second delivery of a "
                    "once-only protocol, files not identical to the last delivery)")
            logger.info(note)
            outcome.notes.append(note)
            force_reason = None
        outcome.forced_reason = force_reason
        outcome.forced_action = forced_action

        delivery_id = _new_delivery_id(outbox, now, request.request_id if request else None,
                                       con)
        final = outbox / delivery_id
        vault_columns = sorted({f.column for d in protocol.delivery_files
                                for f in fills_of(d) if f.source != "processor_answer"})
        properties = {
            "title": f"{protocol.title} - delivery {delivery_id}",
            "protocol_id": protocol.id,
            "delivery_id": delivery_id,
            "delivery_date": today.isoformat(),
            **_recipient(protocol),
            "key_version": key_version,
            "pseudonym_scheme": protocol.pseudonym.scheme,
            "code_version": code_version(),
            "text_reference": f"shared/{protocol.text_reference.file}",
            "request_id": request.request_id if request else None,
            "forced_reason": force_reason,
            "disclosure": outcome.disclosure or None,
            **package_docs.package_properties(protocol),
        }
        if by_school:
            properties["school_packages"] = [f"{SCHOOLS_FOLDER}/{sid}/datapackage.json"
                                             for sid in sorted(by_school)]
        packages = [datapackage.write(written, tmp, properties=properties, published=notes)]
        package_docs.write(protocol, [(w.name, w.rows, w.delivery) for w in written], tmp,
                           properties)
        for sid, parts in sorted(by_school.items()):
            school_properties = {k: v for k, v in properties.items() if k != "school_packages"}
            school_properties.update(
                title=f"{protocol.title} - delivery {delivery_id}, school {sid}",
                delivery_id=f"{delivery_id}-school-{sid}", school=sid,
                audience="school_scoped: this school's own figures only")
            packages.append(datapackage.write(parts, tmp / SCHOOLS_FOLDER / sid,
                                              properties=school_properties, published=notes))
        # the descriptor is this package's own output (tests validate it in full); the data are
        # checked every time: every CSV against its table schema (pyarrow; the tests run
        # frictionless itself on the same packages), and every Parquet against its CSV
        for package in packages:
            validation = datapackage.validate(package, descriptor=False, frictionless_rows=False)
            if not validation.valid:
                raise DeliveryError(f"{protocol.id}: the data package {package.parent.name} "
                                    f"does not validate: {validation}")
        twin, _ = synthetic_twin.write_twin(con, protocol, written, tmp, properties)
        twin_validation = datapackage.validate(twin, descriptor=False, frictionless_rows=False)
        if not twin_validation.valid:
            raise DeliveryError(f"{protocol.id}: the synthetic twin does not validate: "
                                f"{twin_validation}")
        staging.fsync_tree(tmp)
        files = [{"file": f"{part.name}.csv", "sha256": part.csv_sha256, "rows": part.rows}
                 for part in outcome.parts] + \
                [{"file": f"{part.name}.parquet", "sha256": part.parquet_sha256,
                  "rows": part.rows} for part in outcome.parts]
        sealed = staging.sealed(p, protocol.id, delivery_id)
        con.execute("begin transaction")
        try:
            delivered = log.record_delivery(
                con, delivery_id=delivery_id, protocol_id=protocol.id, delivered_at=now,
                delivery_date=today, recipient=protocol.parties.recipient.name,
                forced_reason=force_reason, request_id=request.request_id if request else None,
                key_version=key_version, code_version=properties["code_version"],
                fingerprint=fingerprint, folder=str(final), files=files,
                delivered_keys_table="__delivered")
            os.rename(tmp, sealed)  # complete, still in the restricted zone
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            if sealed.exists():
                shutil.rmtree(sealed, ignore_errors=True)
            raise
        for file_id, result in published.items():  # the next release carries their patterns
            publication.save_record(result, p.restricted, protocol.id, file_id)
        try:
            _audit_delivery(protocol, delivery_id, files, key_version, force_reason,
                            forced_action, request, vault_columns, outcome.disclosure, p)
        except Exception:  # not audited: not delivered
            _forget_delivery(con, delivery_id)
            shutil.rmtree(sealed, ignore_errors=True)
            raise
        staging.publish(sealed, final)  # the recipient sees it complete or not at all
        outcome.delivery_id = delivery_id
        outcome.folder = final
        outcome.vault_columns = vault_columns
        outcome.delivered_pupils = delivered
        outcome.message = (f"delivered {delivery_id}: {len(outcome.parts)} file(s), "
                           f"{sum(p.rows for p in outcome.parts)} row(s)")
        return outcome
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        for name in ("__delivered", "__request_keys"):
            con.execute(f"drop table if exists {name}")


def refuse(protocol: Protocol, reason: str, p: Paths, today: dt.date, *, kind: str,
           request: requests.Request | None = None) -> None:
    """Record a refusal for the steward: an audit event (protocol, rule, reason; no personal
    value) and a warning in the Python log."""
    log.audit_event("delivery_refused", p=p, protocol=protocol.id, reason=reason, rule=kind,
                    evaluated_on=today.isoformat(),
                    request_id=request.request_id if request else None)
    logger.warning(reason)


def _audit_delivery(protocol: Protocol, delivery_id: str, files: list[dict[str, Any]],
                    key_version: int | None, force_reason: str | None,
                    forced_action: str | None, request: requests.Request | None,
                    vault_columns: list[str], disclosure: dict[str, str] | None, p: Paths,
                    request_id: str | None = None, recovered: bool = False) -> None:
    """The delivery's audit events; with ``recovered`` only those not yet in the trail (a
    delivery whose run stopped after recording it)."""
    request_id = request.request_id if request else request_id
    extra: dict[str, Any] = {}
    done: set[str] = set()
    if recovered:
        extra = {"recovered": True}
        done = {e.event for e in _audit_entries(p)
                if e.fields.get("delivery_id") == delivery_id}
    if force_reason and "forced_action" not in done:
        log.audit_event("forced_action", p=p, action=f"{forced_action} ({delivery_id})",
                        reason=force_reason, protocol=protocol.id, delivery_id=delivery_id,
                        **extra)
    if vault_columns and "vault_use" not in done:
        purpose = (f"answer request {request_id} of {protocol.id}" if request_id else
                   f"identification allowed by {protocol.id} at delivery time")
        log.audit_event("vault_use", p=p, protocol=protocol.id, purpose=purpose,
                        delivery_id=delivery_id, columns=vault_columns,
                        request_file_sha256=request.sha256 if request else None,
                        request_lines=len(request.lines) if request else None, **extra)
    if "delivery" not in done:
        log.audit_event("delivery", p=p, protocol=protocol.id,
                        recipient=protocol.parties.recipient.name, files=files,
                        key_version=key_version, delivery_id=delivery_id,
                        forced_reason=force_reason, request_id=request_id,
                        disclosure=disclosure or None, **extra)


def _audit_entries(p: Paths):
    from orchestration.foundations import audit

    return audit.entries(audit.log_path(p))


def _forget_delivery(con: duckdb.DuckDBPyConnection, delivery_id: str) -> None:
    con.execute("begin transaction")
    con.execute("delete from audit.delivered_records where delivery_id = ?", [delivery_id])
    con.execute("delete from deliveries_log.deliveries where delivery_id = ?", [delivery_id])
    con.execute("commit")


def recover_staged_deliveries(con: duckdb.DuckDBPyConnection, p: Paths,
                              registry: Registry | None = None) -> list[str]:
    """Finish what an interrupted delivery left in the staging area; returns what was done.

    ``.partial-*`` folders of dead processes are removed; a sealed folder that
    ``deliveries_log`` recorded is audited (the events still missing) and published into the
    outbox; a sealed folder it did not record is removed (nothing was delivered). ``con`` must
    be read-write: holding it, no other process is between recording and sealing.
    """
    log.ensure_tables(con)
    partials = staging.remove_leftovers(p)
    removed: list[str] = []
    published: list[str] = []
    root = staging.staging_root(p)
    registry = registry or load_registry()
    for folder in sorted(root.glob("*/*")) if root.exists() else []:
        if not folder.is_dir() or folder.name.startswith(staging.PARTIAL_PREFIX):
            continue
        row = con.execute(
            "select protocol_id, folder, files, key_version, forced_reason, request_id "
            "from deliveries_log.deliveries where delivery_id = ? and protocol_id = ?",
            [folder.name, folder.parent.name]).fetchone()
        if row is None:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(f"{folder.parent.name}/{folder.name}")
            continue
        protocol_id, final, files, key_version, forced_reason, request_id = row
        protocol = registry.protocol(protocol_id)
        vault_columns = sorted({x.column for d in protocol.delivery_files
                                for x in fills_of(d) if x.source != "processor_answer"})
        descriptor = json.loads((folder / "datapackage.json").read_text())
        _audit_delivery(protocol, folder.name, json.loads(files), key_version, forced_reason,
                        "forced delivery" if forced_reason else None, None, vault_columns,
                        descriptor.get("disclosure"), p, request_id=request_id, recovered=True)
        staging.publish(folder, Path(final))
        published.append(f"{protocol_id}/{folder.name}")
    done = [f"removed {len(partials)} half-written folder(s)"] if partials else []
    done += [f"removed unrecorded {x}" for x in removed]
    done += [f"published recorded {x}" for x in published]
    if done:
        logger.warning("deliveries left by an interrupted run: %s", "; ".join(done))
        from orchestration.foundations import audit

        audit.record("recovery", path=audit.log_path(p), action="staged_deliveries_recovered",
                     reason="a delivery run stopped before its delivery was complete",
                     half_written_removed=len(partials), unrecorded_removed=removed,
                     published=published)
    return done


def deliver_protocol(protocol_id: str, *, p: Paths | None = None,
                     registry: Registry | None = None, today: dt.date | None = None,
                     force_reason: str | None = None,
                     con: duckdb.DuckDBPyConnection | None = None) -> list[Outcome]:
    """Everything a protocol owes now: one delivery, or one per pending request file."""
    p = p or paths()
    registry = registry or load_registry()
    protocol = registry.protocol(protocol_id)
    if con is None:
        with connect(p) as own:
            return deliver_protocol(protocol_id, p=p, registry=registry, today=today,
                                    force_reason=force_reason, con=own)
    recover_staged_deliveries(con, p, registry)  # also when no request is pending
    day = today or dt.date.today()
    held = holds.reasons_for_protocol(con, protocol)
    if held and validity_refusal(protocol, day) is None:
        reason = hold_refusal(protocol, held)
        refuse(protocol, reason, p, day, kind="quality_hold")
        return [Outcome(protocol_id, "refused", reason)]
    if protocol.pseudonym.scheme != "request_by_insz":
        return [deliver(protocol_id, p=p, registry=registry, today=today,
                        force_reason=force_reason, con=con)]
    answered = log.answered_requests(con, protocol_id)
    pending = requests.pending_requests(
        p, protocol_id, answered, need_reference=protocol.answers_with_request_reference)
    if not pending:
        day = today or dt.date.today()
        refusal = validity_refusal(protocol, day)
        if refusal:
            refuse(protocol, refusal.message, p, day, kind="validity")
            return [Outcome(protocol_id, "refused", refusal.message, refusal=refusal)]
        return [Outcome(protocol_id, "no_request",
                        f"no pending request in {requests.inbox_folder(p, protocol_id)}")]
    return [deliver(protocol_id, p=p, registry=registry, today=today,
                    force_reason=force_reason, request=request, con=con)
            for request in pending]
