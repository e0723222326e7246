"""The article-7 findings register: what is wrong, where, who must fix it, by when.

Tables (schema ``quality`` of the warehouse; no personal values, only keys and counts):

- ``quality.findings``: one row per finding = (rule, file slot, article-7 protocol): source,
  protocol, responder, article-7 category, rule, number of affected records, first and last seen,
  the day it was reported, the investigation and measures deadlines of the protocol, and the
  status: ``open``; ``overdue`` once today is after the deadline; ``resolved`` when a later
  extract no longer shows it (a corrected re-delivery of the same slot, or, for registers sent as
  a full state on each reference date (DUO, Rijksregister), a later extract in which none of the
  affected records shows the defect any more).
- ``quality.finding_records``: the affected records of each finding: file and row as the source
  wrote them (row 0 = the whole file), the source's own plain key, the internal ``pupil_key`` /
  ``record_key`` (kept here, never in reports), and the column. The ground-truth test matches on
  (file, row).
- ``quality.finding_deliveries``: per finding, the deliveries that carried affected pupils
  (GDPR art. 19: the recipients to tell about a correction), from ``audit.delivered_records``
  (delivery_id, protocol_id, file_id, pupil_key, delivered_at) when the delivery step has
  written it; none otherwise.
- ``quality.expected_slots`` and ``quality.count_dates``: the calendar (expected file slots per
  file type; the official count date per school year) as tables the rules join.
- ``quality.current_files``: snapshot of the files whose content is current: loaded, or
  rejected with no later loaded file in the same slot. Rules only ever look at these.

Lifecycle rules that keep a finding from being lost:

- **Reported before resolved.** A finding can only be resolved (by a corrected file or a later
  extract) once a report to its source has listed it (``reported_at``); a finding that blocks
  anything therefore always reaches a report, even when a later extract in the same run no
  longer shows it.
- **Routed under valid protocols only.** Which protocol's article 7 applies to a source: a
  protocol *valid on the day of the report* whose article 7 is stated and whose *responder* (the
  party that must investigate) delivers that source system (registry ``parties.sources[].systems``).
  A source with no such protocol (the Rijksregister extract, AGODI's own; Discimus once
  antwerpen_okan has ended) still gets its findings and its report, with the data steward's
  follow-up period (``PROTOCOL_WAREHOUSE_STEWARD_FOLLOW_UP``, default one month) as the deadline,
  labelled ``routing = 'steward'``. When the routing changes, the earlier finding is closed as
  ``rerouted`` and the finding continues under the new route.
- **Art. 19 GDPR.** ``quality.finding_deliveries`` names every delivery that carried an affected
  pupil, per recipient, also for the deliveries made after the last refresh and before the
  source's correction (linked when the finding is resolved); ``quality.correction_notices`` lists,
  per recipient, the deliveries to tell about each correction. Deadlines run from the day the finding is first reported
(``reported_on``): ``naft_evaluation`` one month; ``antwerpen_okan`` investigation one month,
measures three months; ``duo_leerplicht`` three and six months. ``zorgthuis`` gives no period:
Opgroeien acts "binnen redelijke termijn" (the registry's ``quality.term_wording``), so its
findings carry no deadline and never turn overdue; they carry the data steward's reminder date
(``steward_reminder_on``, the registry's ``steward_reminder_within``, configurable with
``PROTOCOL_WAREHOUSE_ART7_TERM_ZORGTHUIS``, an ISO duration such as ``P45D``; only protocols whose
text gives no period accept one), shown as the steward's, never as the protocol's deadline.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import duckdb

from orchestration.quality.rules import (STATE_REGISTERS, Rule, all_rules, count_date_rows,
                                         expected_slot_rows)

ENV_TERM_PREFIX = "PROTOCOL_WAREHOUSE_ART7_TERM_"
ENV_STEWARD_FOLLOW_UP = "PROTOCOL_WAREHOUSE_STEWARD_FOLLOW_UP"
STEWARD_FOLLOW_UP = "P1M"  # the data steward's own follow-up term where no protocol sets one
PROTOCOL, STEWARD = "protocol", "steward"  # how a finding is routed
DELIVERED_RECORDS = "audit.delivered_records"

OPEN, OVERDUE, RESOLVED = "open", "overdue", "resolved"
CORRECTED = "corrected"  # the slot's current file no longer shows it
LATER_EXTRACT = "later_extract"  # a later extract of a state register no longer shows it
REROUTED = "rerouted"  # the same defect continues as a finding under another route


# ------------------------------------------------------------------------------ article 7 terms


@dataclass(frozen=True)
class Article7Terms:
    """What article 7 of one protocol says about findings on one source."""

    protocol_id: str
    reporter: str
    responder: str
    investigation_within: str | None  # ISO 8601 duration
    measures_within: str | None
    term_wording: str | None  # the text's words where it gives no period ("redelijke termijn")
    steward_reminder_within: str | None  # the steward's reminder period for such a text
    correction_by_new_file: bool
    follow_up_meeting: str | None

    def deadlines(self, reported_on: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """(investigation deadline, final deadline); the final one is the measures deadline,
        or the investigation deadline when the protocol names only one term."""
        from orchestration.protocols.registry import add_duration

        investigation = add_duration(reported_on, self.investigation_within) \
            if self.investigation_within else None
        final = self.measures_within or self.investigation_within
        return investigation, add_duration(reported_on, final) if final else None

    def steward_reminder(self, reported_on: dt.date) -> dt.date | None:
        """The day the steward reminds the source, where the text gives no period: the
        steward's choice, not a deadline of the protocol."""
        from orchestration.protocols.registry import add_duration

        if self.steward_reminder_within is None:
            return None
        return add_duration(reported_on, self.steward_reminder_within)


def _override(protocol_id: str, overrides: Mapping[str, str] | None) -> str | None:
    if overrides and protocol_id in overrides:
        return overrides[protocol_id]
    return os.environ.get(ENV_TERM_PREFIX + protocol_id.upper()) or None


def terms_for_source(source: str, overrides: Mapping[str, str] | None = None,
                     on: dt.date | None = None) -> list[Article7Terms]:
    """The article-7 terms of every protocol, valid on ``on`` (default today), under which
    ``source`` must answer findings.

    ``overrides`` ({protocol_id: ISO duration}, or ``$PROTOCOL_WAREHOUSE_ART7_TERM_<ID>``) replace
    the steward's reminder period of a protocol whose text gives no period ("a reasonable
    term"); the protocol's own terms are never overridden, and other protocols refuse it.
    """
    from orchestration.protocols import load_registry
    from orchestration.protocols.registry import duration_parts

    on = on or dt.date.today()
    out = []
    for p in sorted(load_registry().protocols.values(), key=lambda p: p.id):
        q = p.quality
        if not q.stated or not p.is_valid_on(on):
            continue
        responders = [s for s in p.parties.sources if q.responder in (s.short_name, s.name)]
        if not any(source in s.systems for s in responders):
            continue
        reminder = q.steward_reminder_within
        term = _override(p.id, overrides)
        if term:
            if not q.deadline_is_reasonable_term:
                raise ValueError(f"article 7 of {p.id} fixes its own deadlines; an override "
                                 f"({ENV_TERM_PREFIX}{p.id.upper()}) is only allowed where the "
                                 f"text says 'a reasonable term'")
            duration_parts(term)  # validates the ISO duration
            reminder = term
        out.append(Article7Terms(p.id, q.reporter or "", q.responder or "",
                                 q.investigation_within, q.measures_within, q.term_wording,
                                 reminder, q.correction_by_new_file, q.follow_up_meeting))
    return out


def steward_follow_up() -> str:
    """The data steward's follow-up period (ISO 8601 duration) for findings no valid protocol
    routes; ``$PROTOCOL_WAREHOUSE_STEWARD_FOLLOW_UP`` overrides the default."""
    from orchestration.protocols.registry import duration_parts

    term = os.environ.get(ENV_STEWARD_FOLLOW_UP) or STEWARD_FOLLOW_UP
    duration_parts(term)  # validates the ISO duration
    return term


@lru_cache(maxsize=1)
def protocols_of_sources() -> dict[str, tuple[str, ...]]:
    """{source system: ids of the protocols with a stated article 7 whose responder delivers
    it}, regardless of validity (a static fact of the registry, for GX meta and check
    metadata; routing uses :func:`terms_for_source` on the day)."""
    from orchestration.foundations.sources import SOURCES
    from orchestration.protocols import load_registry

    out = {}
    for source in SOURCES:
        ids = []
        for p in sorted(load_registry().protocols.values(), key=lambda p: p.id):
            q = p.quality
            responders = [x for x in p.parties.sources if q.responder in (x.short_name, x.name)]
            if q.stated and any(source in x.systems for x in responders):
                ids.append(p.id)
        out[source] = tuple(ids)
    return out


# ------------------------------------------------------------------------------ schema


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """The register tables and the ``current_files`` view (idempotent)."""
    con.execute("create schema if not exists quality")
    con.execute("""
        create table if not exists quality.findings (
            finding_id varchar primary key,
            rule_key varchar not null,          -- <file_type>.<rule id>
            rule_id varchar not null,
            source varchar not null,
            file_type varchar not null,
            slot varchar not null,              -- ingest slot: file type + school year / date
            source_file varchar,                -- the current (or expected) file of the slot
            protocol_id varchar,                -- null: no protocol's article 7 covers the source
            responder varchar,                  -- who must investigate and correct
            article7_category varchar not null,
            severity varchar not null,
            blocking boolean not null,
            title varchar not null,
            affected_records bigint not null,
            first_seen_at timestamp not null,
            last_seen_at timestamp not null,
            reported_on date not null,
            investigation_deadline date,
            deadline date,
            status varchar not null,            -- open | overdue | resolved
            resolved_at timestamp,
            resolution varchar,                 -- corrected | later_extract | rerouted
            delivered_records bigint not null default 0,
            deliveries bigint not null default 0,
            routing varchar not null default 'protocol',  -- protocol | steward
            compared_with varchar,              -- other sources the rule compared with
            reported_at timestamp,              -- first report that listed it
            steward_reminder_on date)           -- the steward's reminder, where the text
                                                -- gives no period (never a deadline)""")
    for column, ddl in (("routing", "varchar default 'protocol'"),  # older registers
                        ("compared_with", "varchar"), ("reported_at", "timestamp"),
                        ("steward_reminder_on", "date"),
                        # the source's latest reply (orchestration/quality/replies.py)
                        ("reply_status", "varchar"), ("replied_on", "date")):
        con.execute(f"alter table quality.findings add column if not exists {column} {ddl}")
    con.execute("""
        create table if not exists quality.finding_records (
            finding_id varchar not null,
            source_file varchar,
            source_file_sha256 varchar,
            source_row bigint not null,         -- 1-based data row; 0 = the whole file
            pupil_key varchar,
            record_key varchar,
            source_key varchar,                 -- the source's own plain record key
            column_name varchar)""")
    con.execute("""
        create table if not exists quality.finding_deliveries (
            finding_id varchar not null,
            delivery_id varchar not null,
            protocol_id varchar,
            file_id varchar,
            delivered_at timestamp,
            affected_records bigint not null,
            recipient varchar)""")
    con.execute("alter table quality.finding_deliveries add column if not exists "
                "recipient varchar")
    con.execute("""
        create or replace view quality.correction_notices as
        select d.recipient, d.protocol_id, d.delivery_id, d.file_id, d.delivered_at,
               f.source, f.rule_id, f.finding_id, cast(f.resolved_at as date) as corrected_on,
               d.affected_records
        from quality.finding_deliveries d join quality.findings f using (finding_id)
        where f.status = 'resolved' and f.resolution in ('corrected', 'later_extract')
          and d.delivered_at <= f.resolved_at""")
    _calendar_table(con, "quality.expected_slots",
                    ("file_type", "order_key", "slot", "file_name", "superseded_by"),
                    expected_slot_rows())
    _calendar_table(con, "quality.count_dates",
                    ("school_year", "previous_year", "counting_date", "previous_date"),
                    count_date_rows())
    refresh_current_files(con)


def _calendar_table(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...],
                    rows: list[tuple]) -> None:
    """(Re)write a small table computed from the calendar (a few thousand rows at most)."""
    import pyarrow as pa

    data = pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)})
    con.register("_calendar_rows", data)
    try:
        con.execute(f"create or replace table {table} as select * from _calendar_rows")
    finally:
        con.unregister("_calendar_rows")


def refresh_current_files(con: duckdb.DuckDBPyConnection) -> None:
    """Snapshot ``quality.current_files``: loaded files, and rejected files with no later loaded
    file in their slot. A table, not a view: every rule reads it, and the quality step takes
    the snapshot once, right before it validates (nothing is ingested meanwhile: same pool)."""
    con.execute("""
        create or replace table quality.current_files as
        with last_loaded as (
            select slot, max(ingested_at) as ingested_at from ingest.files
            where status in ('loaded', 'superseded') group by slot)
        select f.* from ingest.files f left join last_loaded l using (slot)
        where f.file_type <> 'unknown'
          and (f.status = 'loaded'
               or (f.status in ('rejected', 'held')
                   and (l.ingested_at is null or l.ingested_at < f.ingested_at)))""")


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, _, name = qualified.rpartition(".")
    return con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = ? and table_name = ?", [schema or "main", name]).fetchone()[0] > 0


def evaluable(con: duckdb.DuckDBPyConnection, rule: Rule) -> bool:
    """A rule can run when its table and every table it needs exist."""
    return all(table_exists(con, t) for t in (rule.batch_table, *rule.needs))


# ------------------------------------------------------------------------------ refresh


@dataclass(frozen=True)
class RefreshResult:
    """Counts only (safe for logs and Dagster metadata)."""

    rules_evaluated: int
    rules_skipped: tuple[str, ...]
    findings_current: int
    findings_new: int
    findings_resolved: int
    records: int


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {f"{s}.{t}" for s, t in con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = current_database()").fetchall()}


def evaluate(con: duckdb.DuckDBPyConnection, rules: Sequence[Rule],
             counts: Mapping[str, int] | None = None) -> tuple[list[Rule], list[str]]:
    """Run the rules' queries into the temp table ``_eval``; return (evaluated, skipped keys).

    ``counts`` ({rule key: affected records}, e.g. from the GX validation of the same data)
    spares the query of every rule known to find nothing: it counts as evaluated, with no
    records. Rules whose tables do not exist are skipped (not evaluated).
    """
    con.execute("""
        create or replace temp table _eval (
            rule_key varchar, file_type varchar, source_file varchar, source_file_sha256 varchar,
            source_row bigint, slot varchar, pupil_key varchar, record_key varchar,
            source_key varchar, column_name varchar)""")
    done, skipped = [], []
    tables = existing_tables(con)
    for rule in rules:
        if not all(t in tables for t in (rule.batch_table, *rule.needs)):
            skipped.append(rule.key)
            continue
        done.append(rule)
        if counts is not None and counts.get(rule.key) == 0:
            continue
        con.execute(f"insert into _eval select ?, ?, r.source_file, r.source_file_sha256, "
                    f"r.source_row, r.slot, r.pupil_key, r.record_key, r.source_key, "
                    f"r.column_name from ({rule.sql_for()}) r", [rule.key, rule.file_type])
    con.execute("""
        update _eval set slot = f.slot from ingest.files f
        where _eval.slot is null and f.sha256 = _eval.source_file_sha256""")
    if table_exists(con, "linkage.duo_links") and table_exists(con, "raw.duo_registrations"):
        # DUO records carry no INSZ: their pupil key is the linked child's (for art. 19 only)
        con.execute("""
            update _eval set pupil_key = l.pupil_key
            from raw.duo_registrations d, linkage.duo_links l
            where _eval.file_type = 'duo_registrations' and _eval.pupil_key is null
              and d._source_file_sha256 = _eval.source_file_sha256
              and d._source_row = _eval.source_row and l.record_key = d.record_key
              and l.peildatum = try_strptime(d.peildatum, '%d-%m-%Y')::date""")
    return done, skipped


def refresh(con: duckdb.DuckDBPyConnection, rules: Sequence[Rule] | None = None, *,
            today: dt.date | None = None, now: dt.datetime | None = None,
            overrides: Mapping[str, str] | None = None,
            counts: Mapping[str, int] | None = None) -> RefreshResult:
    """Evaluate ``rules`` (default: all) and bring the register up to date.

    Only findings of the evaluated rules change (new, updated, resolved); the status of every
    unresolved finding is recomputed against ``today`` (frozen in tests). ``counts``: see
    :func:`evaluate`. Idempotent for the same data and day.
    """
    today = today or dt.date.today()
    now = now or _now()
    rules = list(all_rules() if rules is None else rules)
    ensure_schema(con)
    done, skipped = evaluate(con, rules, counts)

    con.execute("""create or replace temp table _rules (
        rule_key varchar, rule_id varchar, source varchar, file_type varchar, category varchar,
        severity varchar, blocking boolean, title varchar, compared_with varchar)""")
    if done:
        con.executemany("insert into _rules values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [[r.key, r.id, r.source, r.file_type, r.category, r.severity, r.blocking,
                          r.title, ", ".join(r.compared_with) or None] for r in done])
    con.execute("""create or replace temp table _terms (
        source varchar, protocol_id varchar, responder varchar, investigation_deadline date,
        deadline date, routing varchar, steward_reminder_on date)""")
    term_rows = []
    for source in sorted({r.source for r in done}):
        terms = terms_for_source(source, overrides, on=today)
        for t in terms:
            term_rows.append([source, t.protocol_id, t.responder, *t.deadlines(today), PROTOCOL,
                              t.steward_reminder(today)])
        if not terms:  # no valid protocol: the steward follows it up, and says so
            from orchestration.protocols.registry import add_duration

            follow_up = add_duration(today, steward_follow_up())
            term_rows.append([source, None, None, follow_up, follow_up, STEWARD, None])
    if term_rows:
        con.executemany("insert into _terms values (?, ?, ?, ?, ?, ?, ?)", term_rows)

    con.execute("""
        create or replace temp table _current as
        select substr(sha256(e.rule_key || '|' || e.slot || '|' || coalesce(t.protocol_id, '')),
                      1, 16) as finding_id,
               e.rule_key, r.rule_id, r.source, r.file_type, e.slot, e.source_file, t.protocol_id,
               t.responder, r.category, r.severity, r.blocking, r.title, e.affected_records,
               t.investigation_deadline, t.deadline, t.routing, r.compared_with,
               t.steward_reminder_on
        from (select rule_key, slot, min(source_file) as source_file,
                     count(*) as affected_records
              from _eval group by rule_key, slot) e
        join _rules r using (rule_key)
        join _terms t on t.source = r.source""")
    con.execute("begin")
    try:
        new = con.execute("""
            select count(*) from _current c
            where not exists (select 1 from quality.findings f where f.finding_id = c.finding_id)
            """).fetchone()[0]
        # new findings, and findings that come back after a correction: reported today
        con.execute("""
            insert or replace into quality.findings
            select c.finding_id, c.rule_key, c.rule_id, c.source, c.file_type, c.slot,
                   c.source_file, c.protocol_id, c.responder, c.category, c.severity, c.blocking,
                   c.title, c.affected_records, $now, $now, $today, c.investigation_deadline,
                   c.deadline, 'open', null, null, 0, 0, c.routing, c.compared_with, null,
                   c.steward_reminder_on, null, null
            from _current c left join quality.findings f using (finding_id)
            where f.finding_id is null or (f.status = 'resolved' and f.resolution = 'corrected')
            """, {"now": now, "today": today})
        con.execute("""
            update quality.findings f
            set affected_records = c.affected_records, last_seen_at = $now,
                source_file = c.source_file
            from _current c
            where f.finding_id = c.finding_id and f.last_seen_at <> $now""", {"now": now})
        keys = [r.key for r in done]
        # the same defect under another route (a protocol began or ended): the new finding
        # carries it on; the old one is closed as rerouted (never as corrected)
        con.execute("""
            update quality.findings set status = 'resolved', resolved_at = $now,
                   resolution = 'rerouted'
            where status <> 'resolved' and rule_key in (select unnest($keys::varchar[]))
              and finding_id not in (select finding_id from _current)
              and exists (select 1 from _current c where c.rule_key = quality.findings.rule_key
                          and c.slot = quality.findings.slot)""", {"now": now, "keys": keys})
        # resolved: the rule ran, the slot's current file no longer shows it, and a report to
        # the source has listed it (a finding is reported before it can be resolved)
        resolved = con.execute("""
            update quality.findings set status = 'resolved', resolved_at = $now,
                   resolution = 'corrected'
            where status <> 'resolved' and rule_key in (select unnest($keys::varchar[]))
              and finding_id not in (select finding_id from _current)
              and reported_at is not null
            returning finding_id""", {"now": now, "keys": keys}).fetchall()
        later = _resolve_by_later_extracts(con, now)
        _replace_records(con)
        _link_deliveries(con, [r[0] for r in resolved] + later)
        n_resolved = len(resolved) + len(later)
        _update_status(con, today)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    records = con.execute("select count(*) from _eval").fetchone()[0]
    current = con.execute("select count(*) from _current").fetchone()[0]
    return RefreshResult(len(done), tuple(skipped), current, new, n_resolved, records)


def _resolve_by_later_extracts(con: duckdb.DuckDBPyConnection, now: dt.datetime) -> list[str]:
    """State registers: an unresolved, reported finding on an older extract is resolved when the
    latest extract no longer shows the same records (by record or pupil key; whole-file and
    keyless findings: when the latest extract shows the rule not at all). Returns their ids."""
    rows = con.execute("""
        with latest as (
            select file_type, slot, reference_date,
                   row_number() over (partition by file_type order by reference_date desc) as n
            from quality.current_files
            where status = 'loaded' and file_type in (select unnest($types::varchar[])))
        select f.finding_id, f.rule_key, f.slot, l.slot as latest_slot, l.reference_date
        from quality.findings f
        join ingest.files s on s.slot = f.slot and s.status = 'loaded'
        join latest l on l.file_type = f.file_type and l.n = 1
        where f.status <> 'resolved' and s.reference_date < l.reference_date
          and f.reported_at is not null
          and f.finding_id in (select finding_id from _current)""",
                       {"types": sorted(STATE_REGISTERS)}).fetchall()
    resolved = []
    for finding_id, rule_key, slot, latest_slot, _ in rows:
        still = con.execute("""
            with mine as (
                select coalesce(record_key, pupil_key, source_key) as k from _eval
                where rule_key = $rule and slot = $slot),
            theirs as (
                select coalesce(record_key, pupil_key, source_key) as k from _eval
                where rule_key = $rule and slot = $latest)
            select case when (select count(k) from mine) = 0
                        then (select count(*) from theirs) > 0
                        else exists (select 1 from mine join theirs using (k)) end""",
                            {"rule": rule_key, "slot": slot, "latest": latest_slot}).fetchone()[0]
        if not still:
            con.execute("update quality.findings set status = 'resolved', resolved_at = ?, "
                        "resolution = 'later_extract' where finding_id = ?", [now, finding_id])
            resolved.append(finding_id)
    return resolved


def _replace_records(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("delete from quality.finding_records where finding_id in "
                "(select finding_id from _current)")
    con.execute("""
        insert into quality.finding_records
        select c.finding_id, e.source_file, e.source_file_sha256, e.source_row, e.pupil_key,
               e.record_key, e.source_key, e.column_name
        from _eval e join _current c on c.rule_key = e.rule_key and c.slot = e.slot""")


def _recipients() -> list[tuple[str, str]]:
    """(protocol id, recipient name) from the registry."""
    from orchestration.protocols import load_registry

    return [(p.id, p.parties.recipient.name) for p in load_registry().protocols.values()]


def _link_deliveries(con: duckdb.DuckDBPyConnection, resolved_now: Sequence[str] = ()) -> None:
    """GDPR art. 19: the deliveries, per recipient, that carried affected pupils: for current
    findings, and for findings resolved in this refresh (the deliveries made since the last
    refresh and before the correction carried the wrong value too). None before deliveries
    exist."""
    con.execute("create or replace temp table _linked as select unnest($ids::varchar[]) as "
                "finding_id union select finding_id from _current",
                {"ids": list(resolved_now)})
    con.execute("delete from quality.finding_deliveries where finding_id in "
                "(select finding_id from _linked)")
    if table_exists(con, DELIVERED_RECORDS):
        con.execute("create or replace temp table _recipients (protocol_id varchar, "
                    "recipient varchar)")
        con.executemany("insert into _recipients values (?, ?)", _recipients())
        con.execute(f"""
            insert into quality.finding_deliveries
            select r.finding_id, d.delivery_id, d.protocol_id, d.file_id,
                   max(d.delivered_at), count(distinct r.pupil_key), any_value(p.recipient)
            from quality.finding_records r
            join {DELIVERED_RECORDS} d on d.pupil_key = r.pupil_key
            left join _recipients p on p.protocol_id = d.protocol_id
            where r.finding_id in (select finding_id from _linked)
            group by r.finding_id, d.delivery_id, d.protocol_id, d.file_id""")
    con.execute("""
        update quality.findings f
        set delivered_records = coalesce(s.records, 0), deliveries = coalesce(s.deliveries, 0)
        from (select c.finding_id, sum(d.affected_records) as records,
                     count(d.delivery_id) as deliveries
              from _linked c left join quality.finding_deliveries d using (finding_id)
              group by c.finding_id) s
        where f.finding_id = s.finding_id""")


def _update_status(con: duckdb.DuckDBPyConnection, today: dt.date) -> None:
    con.execute("""
        update quality.findings
        set status = case when deadline is not null and $today > deadline then 'overdue'
                          else 'open' end
        where status <> 'resolved'""", {"today": today})


def mark_reported(con: duckdb.DuckDBPyConnection, finding_ids: Sequence[str],
                  now: dt.datetime | None = None) -> None:
    """A report to the source listed these findings: from now on they may be resolved."""
    con.execute("update quality.findings set reported_at = $now where reported_at is null "
                "and finding_id in (select unnest($ids::varchar[]))",
                {"now": now or _now(), "ids": list(finding_ids)})


def update_status(con: duckdb.DuckDBPyConnection, today: dt.date | None = None) -> None:
    """Recompute open/overdue for every unresolved finding (e.g. on a day without new data)."""
    ensure_schema(con)
    _update_status(con, today or dt.date.today())


def summary(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Counts of findings by status (for metadata and logs)."""
    ensure_schema(con)
    counts = dict(con.execute(
        "select status, count(*) from quality.findings group by all").fetchall())
    return {s: int(counts.get(s, 0)) for s in (OPEN, OVERDUE, RESOLVED)}


# ------------------------------------------------------------------------------ over time


def record_history(con: duckdb.DuckDBPyConnection, now: dt.datetime | None = None) -> None:
    """Append this run's snapshot to ``quality.findings_history``: per source and rule the
    unresolved findings (open, overdue) and their affected records. One ``_run`` row per
    snapshot marks it, also when nothing is unresolved, so a trend can show a zero."""
    now = now or _now()
    con.execute("""
        create table if not exists quality.findings_history (
            recorded_at timestamp not null, source varchar not null, rule_id varchar not null,
            open bigint not null, overdue bigint not null, affected_records bigint not null,
            next_deadline date)""")
    con.execute("""
        insert into quality.findings_history
        select $now, source, rule_id, count(*) filter (where status = 'open'),
               count(*) filter (where status = 'overdue'), sum(affected_records), min(deadline)
        from quality.findings where status <> 'resolved' group by source, rule_id
        union all select $now, '_run', '_run', 0, 0, 0, null""", {"now": now})


def over_time(con: duckdb.DuckDBPyConnection, runs: int = 6) -> list[dict]:
    """Per source and rule, its unresolved findings now and in the last ``runs`` snapshots
    (oldest first, 0 where a snapshot had none), overdue first, then the nearest deadline."""
    if not table_exists(con, "quality.findings_history"):
        return []
    cur = con.execute("""
        with snapshots as (
            select distinct recorded_at from quality.findings_history
            order by recorded_at desc limit $runs),
        latest as (select max(recorded_at) as at from snapshots),
        pairs as (
            select distinct source, rule_id from quality.findings_history
            where recorded_at in (select recorded_at from snapshots) and source <> '_run'),
        grid as (
            select p.source, p.rule_id, s.recorded_at,
                   coalesce(h.open + h.overdue, 0) as unresolved
            from pairs p cross join snapshots s
            left join quality.findings_history h
              on h.source = p.source and h.rule_id = p.rule_id and h.recorded_at = s.recorded_at)
        select g.source, g.rule_id,
               coalesce(any_value(h.overdue), 0) as overdue,
               coalesce(any_value(h.open), 0) as open,
               any_value(h.next_deadline) as next_deadline,
               list(g.unresolved order by g.recorded_at) as trend
        from grid g cross join latest l
        left join quality.findings_history h
          on h.source = g.source and h.rule_id = g.rule_id and h.recorded_at = l.at
        group by g.source, g.rule_id
        order by overdue desc, next_deadline nulls last, open desc, g.source, g.rule_id""",
                      {"runs": runs})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def by_source(con: duckdb.DuckDBPyConnection, since: dt.datetime | None = None
              ) -> dict[str, dict[str, int]]:
    """{source: {open, overdue, new}} for every source system (0 where none): ``new`` = first
    seen at or after ``since`` and unresolved."""
    from orchestration.foundations.sources import SOURCES

    ensure_schema(con)
    rows = con.execute("""
        select source, count(*) filter (where status = 'open'),
               count(*) filter (where status = 'overdue'),
               count(*) filter (where status <> 'resolved' and first_seen_at >= $since)
        from quality.findings group by source""",
                       {"since": since or dt.datetime(1970, 1, 1)}).fetchall()
    found = {s: {"open": int(o), "overdue": int(v), "new": int(n)} for s, o, v, n in rows}
    return {s: found.get(s, {"open": 0, "overdue": 0, "new": 0}) for s in SOURCES}
