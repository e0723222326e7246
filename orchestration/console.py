"""What ``make run`` prints: a line per step with counts and elapsed time, and what a steward needs
at the end. Everything else goes to a log file.

A run of the main job has some twenty steps (ingestion per source, the article-7 checks, the
linkage, two dbt builds, a delivery per protocol, compliance) and emits thousands of events; dbt
alone writes about a thousand lines of its own. :class:`RunConsole` listens to the run's events
in process (``DagsterInstance.add_event_listener``) and

- writes every event and log message, at every level, to ``<data>/logs/<job>_<time>.log``,
  where dbt's own output goes too (the caller redirects stdout and stderr there during the run);
- prints one line per step when it ends: elapsed time since the start, the step, its own time and
  its counts (files and rows for ingestion, findings for the checks, models and tests for dbt, the
  outcome for a delivery), and a progress line every ``PROGRESS_SECONDS`` while a long step runs;
- prints a step's failure once, with its error message.

:func:`steward_summary` is the end: per protocol delivered / refused (why) / unchanged, findings
new / open / overdue per source (overdue first), and where to look. Counts and reasons only:
nothing printed or logged here carries a personal value.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from orchestration.foundations import settings
from orchestration.foundations.warehouse import connect

PROGRESS_SECONDS = 15.0
DELIVERY_PREFIX = "delivery__"
DBT_STEPS = ("school_year_dbt_models", "plain_dbt_models")
STEP_LABELS = {
    "article7_raw_quality": "article-7 checks",
    "article7_linkage_quality": "article-7 linkage check",
    "duo_linkage": "DUO linkage",
    "school_year_dbt_models": "dbt per school year",
    "plain_dbt_models": "dbt marts and deliveries",
    "delivery_columns_match_registry": "delivery whitelist check",
    "compliance__audit_log": "audit trail",
    "compliance__processing_register": "processing register",
}


def label(step_key: str) -> str:
    if step_key.startswith("ingest_"):
        return f"ingest {step_key.removeprefix('ingest_')}"
    if step_key.startswith(DELIVERY_PREFIX):
        return f"deliver {step_key.removeprefix(DELIVERY_PREFIX)}"
    return STEP_LABELS.get(step_key, step_key)


def log_path(p: settings.Paths, job: str, started: dt.datetime) -> Path:
    """Where the full log of a command-line run goes."""
    return p.data / "logs" / f"{job}_{started:%Y%m%d-%H%M%S}.log"


def _value(v):
    return getattr(v, "value", v)


@dataclass
class StepTally:
    """What one step produced, from its events."""

    started: float | None = None
    materializations: list[tuple[str, dict]] = field(default_factory=list)  # (asset, metadata)
    checks_passed: int = 0
    checks_failed: int = 0
    blocking_failed: list[str] = field(default_factory=list)
    last_progress: float = 0.0

    def per_asset(self) -> dict[str, dict]:
        """The first materialisation of each asset: a step that materialises every school-year
        partition of an asset repeats the same totals on each."""
        out: dict[str, dict] = {}
        for asset, meta in self.materializations:
            out.setdefault(asset, meta)
        return out

    def sum(self, key: str) -> int:
        return sum(int(_value(m.get(key)) or 0) for m in self.per_asset().values())

    def first(self, key: str):
        for _, m in self.materializations:
            if key in m:
                return _value(m[key])
        return None


def counts(step_key: str, t: StepTally) -> str:
    """The step's counts in words (no values, counts and statuses only)."""
    checks = (f"{t.checks_passed + t.checks_failed} checks" +
              (f", {t.checks_failed} failed" if t.checks_failed else "")
              if t.checks_passed + t.checks_failed else "")
    if step_key.startswith("ingest_"):
        text = (f"{t.sum('files_new')} new file(s), {t.sum('rows_received'):,} rows received = "
                f"{t.sum('rows_loaded'):,} loaded + {t.sum('rows_quarantined'):,} quarantined")
        rejected, held = t.sum("files_rejected"), t.sum("files_held")
        if rejected or held:
            text += f"; {rejected} file(s) rejected, {held} held"
        return text
    if step_key == "article7_raw_quality":
        return (f"{t.first('current_findings') or 0} current finding(s) "
                f"({t.first('new_findings') or 0} new), {t.first('overdue') or 0} overdue, "
                f"{t.first('replies_admitted') or 0} reply file(s); {checks}")
    if step_key == "duo_linkage":
        return (f"{t.sum('linked'):,} of {t.sum('duo_records'):,} DUO records linked, "
                f"{t.sum('to_review'):,} to review")
    if step_key in DBT_STEPS:
        return f"{len(t.per_asset())} models built; {checks or 'no tests'}"
    if step_key.startswith(DELIVERY_PREFIX):
        status = t.first("status") or "no outcome"
        rows = t.first("rows_total")
        return status + (f", {rows:,} rows" if rows else "")
    what = f"{len(t.per_asset())} asset(s)" if t.materializations else ""
    return ", ".join(x for x in (what, checks) if x) or "done"


class RunConsole:
    """An event listener for one run: step lines to ``out``, every event to ``log_file``."""

    def __init__(self, out: TextIO, log_file: TextIO, started: float | None = None):
        self.out, self.log = out, log_file
        self.started = started if started is not None else time.monotonic()
        self.steps: dict[str, StepTally] = defaultdict(StepTally)
        self.failed: list[str] = []
        self.deliveries: dict[str, dict] = {}  # protocol id -> materialisation metadata
        self.allowed: dict[str, dict] = {}  # protocol id -> metadata of its delivery_allowed check

    def say(self, line: str) -> None:
        elapsed = time.monotonic() - self.started
        self.out.write(f"[{int(elapsed // 60):3d}:{elapsed % 60:04.1f}] {line}\n")
        self.out.flush()

    def __call__(self, entry) -> None:  # dagster EventLogEntry
        self._log(entry)
        event = entry.dagster_event
        if event is None:
            return
        step = event.step_key
        kind = event.event_type_value
        now = time.monotonic()
        if step is None:
            return
        t = self.steps[step]
        if kind == "STEP_START":
            t.started = t.last_progress = now
        elif kind == "ASSET_MATERIALIZATION":
            m = event.event_specific_data.materialization
            meta = dict(m.metadata)
            t.materializations.append((m.asset_key.to_user_string(), meta))
            if step.startswith(DELIVERY_PREFIX):
                self.deliveries[step.removeprefix(DELIVERY_PREFIX)] = meta
        elif kind == "ASSET_CHECK_EVALUATION":
            e = event.event_specific_data
            if step.startswith(DELIVERY_PREFIX) and e.check_name == "delivery_allowed":
                self.allowed[step.removeprefix(DELIVERY_PREFIX)] = dict(e.metadata)
            if e.passed:
                t.checks_passed += 1
            else:
                t.checks_failed += 1
                if e.blocking:
                    t.blocking_failed.append(f"{e.asset_key.to_user_string()}:{e.check_name}")
        elif kind == "STEP_SUCCESS":
            self.say(f"{label(step):<34} {self._took(t, now)}  {counts(step, t)}")
        elif kind == "STEP_FAILURE":
            error = getattr(event.event_specific_data, "error", None)
            why = (error.message.strip().splitlines() or [""])[0][:300] if error else ""
            blocking = (f"; blocking check(s) failed: {', '.join(t.blocking_failed[:5])}"
                        if t.blocking_failed else "")
            self.failed.append(step)
            self.say(f"{label(step):<34} {self._took(t, now)}  FAILED: {why}{blocking}")
        elif kind == "STEP_SKIPPED":
            self.say(f"{label(step):<34} skipped (an upstream step failed or a blocking check "
                     "held it back)")
        if kind in ("ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION") and t.started and \
                now - t.last_progress >= PROGRESS_SECONDS:
            t.last_progress = now
            self.say(f"{label(step):<34} ... running {now - t.started:.0f} s: "
                     f"{len(t.materializations)} asset(s), "
                     f"{t.checks_passed + t.checks_failed} check(s) so far")

    @staticmethod
    def _took(t: StepTally, now: float) -> str:
        return f"{now - t.started:7.1f} s" if t.started else "        "

    def _log(self, entry) -> None:
        event = entry.dagster_event
        when = dt.datetime.fromtimestamp(entry.timestamp).strftime("%H:%M:%S.%f")[:-3]
        level = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}.get(
            entry.level, str(entry.level))
        kind = event.event_type_value if event else "LOG"
        message = (entry.user_message or (event.message if event else "") or "").replace(
            "\n", "\n    ")
        self.log.write(f"{when} {level:<7} {entry.step_key or '-':<32} {kind:<24} {message}\n")
        self.log.flush()


# ------------------------------------------------------------------------------ the end


def _delivery_line(protocol_id: str, meta: dict | None, failed_steps: list[str],
                   allowed: dict | None = None) -> str:
    if meta is None:
        why = ("its step failed" if f"{DELIVERY_PREFIX}{protocol_id}" in failed_steps
               else "not run: an upstream step failed or a blocking check held it back")
        return f"  {protocol_id:<18} NOT DELIVERED ({why})"
    status = str(_value(meta.get("status")) or "")
    if "refused" in status:
        reasons = [line.removeprefix("- **REFUSED** ") for line in
                   str(_value(meta.get("refusal")) or _value(meta.get("message")) or ""
                       ).splitlines()]
        remedy = _value((allowed or {}).get("remedy"))
        return (f"  {protocol_id:<18} REFUSED: {' | '.join(r for r in reasons if r)}"
                + (f"\n  {'':<18} remedy: {remedy}" if remedy else ""))
    if "delivered" in status:
        rows = _value(meta.get("rows_total"))
        return (f"  {protocol_id:<18} delivered {_value(meta.get('delivery_id')) or ''}"
                + (f" ({rows:,} rows)" if rows else "") + f": {_value(meta.get('folder')) or ''}")
    return f"  {protocol_id:<18} {status or 'no outcome'}: {_value(meta.get('message')) or ''}"


def findings_by_source(p: settings.Paths, since: dt.datetime | None) -> list[tuple]:
    """(source, new, open, overdue, next deadline), sources with overdue findings first."""
    with connect(p, read_only=True) as con:
        exists = con.execute("select count(*) from duckdb_tables() where schema_name = 'quality'"
                             " and table_name = 'findings'").fetchone()[0]
        if not exists:
            return []
        return con.execute("""
            select source,
                   count(*) filter (where first_seen_at >= $since and status <> 'resolved'),
                   count(*) filter (where status = 'open'),
                   count(*) filter (where status = 'overdue'),
                   min(deadline) filter (where status <> 'resolved')
            from quality.findings group by source
            having count(*) filter (where status <> 'resolved') > 0
            order by 4 desc, 5 nulls last, 1""",
                           {"since": since or dt.datetime(1970, 1, 1)}).fetchall()


def steward_summary(p: settings.Paths, console: RunConsole, protocol_ids: list[str],
                    since: dt.datetime | None, log_file: Path | None,
                    up_to_date_since: str | None = None) -> str:
    """The end of ``make run``: deliveries, findings, where to look. ``up_to_date_since``: the
    run whose build is still current when this one found nothing new to build."""
    if up_to_date_since:
        lines = ["", f"Deliveries: nothing attempted, nothing new since run {up_to_date_since} "
                     "(its outcomes stand: see that run in the UI, or the outbox)"]
    elif protocol_ids:
        lines = ["", "Deliveries (per protocol):"]
        lines += [_delivery_line(pid, console.deliveries.get(pid), console.failed,
                                 console.allowed.get(pid)) for pid in protocol_ids]
    else:
        lines = ["", "Deliveries: none in this job (a backfill delivers nothing)"]
    found = findings_by_source(p, since)
    lines += ["", "Article-7 findings (per source, overdue first):"]
    if found:
        lines.append(f"  {'source':<16}{'new':>6}{'open':>7}{'overdue':>9}  next deadline")
        lines += [f"  {s:<16}{new:>6}{op:>7}{over:>9}  {deadline or '-'}"
                  for s, new, op, over, deadline in found]
    else:
        lines.append("  none open")
    lines += ["", "Where to look:",
              f"  deliveries:        {p.outbox}/<protocol>/<delivery_id>/",
              f"  article-7 reports: {p.outbox / 'quality'}/<source>/<date>/ (rapport.md)",
              "  the Dagster UI:    make ui (http://127.0.0.1:3000): runs, checks, asset metadata"]
    if log_file:
        lines.append(f"  full log (dbt included): {log_file}")
    return "\n".join(lines)
