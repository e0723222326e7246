"""Whether the warehouse is up to date: the main job's "nothing new since the last build".

Everything the main job builds (raw checks, linkage, dbt models, findings and reports, delivery
packages) is a function of a few inputs, so when none of them changed since the last main job
that succeeded, running it again would rebuild the same tables and end with every delivery
``unchanged``. The command line (``python -m orchestration.main``) then says so and skips the
rebuild, as ``make`` or a build system would, instead of spending the full build on it.

The inputs, each compared with what the last successful main job recorded:

- ``inbox``: every file under ``data/inbox/`` (source extracts, request files, article-7
  replies, processor answers) by path, size and modification time, as the main job found
  them at its start (files it moved out, refused or admitted, are left out of the record;
  a file that arrived while it ran is not in the record, so the next run sees it as new);
- ``ingested``: ``ingest.files`` (every file loaded, rejected, held, superseded or erased)
  and the row count of every ``raw`` table (an erasure of rows changes it);
- ``linkage_decisions``: the reviewers' decisions on DUO links (``linkage.duo_review_decisions``,
  recorded outside any run);
- ``code``: the project's source (``orchestration/``, the protocol registry, ``dbt_project/``,
  ``pyproject.toml``): a new model, rule or protocol version rebuilds everything;
- ``day``: the day in Brussels. Validity periods, exchange windows, holds and article-7 deadlines
  depend on it, so the first run of a day is always a full one (calendar-due deliveries and
  overdue findings stay exact); a second run the same day with nothing new is skipped.

And one guard: no other Dagster run (ingestion started by a sensor, a delivery job, a backfill,
an erasure) was created since the recorded main job started; any such run means a full build.

The record is ``data/warehouse/last_build.json`` (digests, counts, and the names, sizes and times
of the inbox files the run left in place: the names as the sources gave them, which
``ingest.files`` holds too), written after a main job succeeded. Delete it to force a full build.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from orchestration.foundations import settings
from orchestration.foundations.sources import SOURCE_FILES
from orchestration.foundations.warehouse import connect

RECORD_NAME = "last_build.json"
# A main job that found everything up to date carries this tag: the run id it relied on.
UP_TO_DATE_TAG = "warehouse/up_to_date_since"
# The project's source, whose change makes every table suspect (paths under the project root).
CODE_ROOTS = ("orchestration", "dbt_project", "pyproject.toml")
CODE_SUFFIXES = (".py", ".yaml", ".yml", ".json", ".sql", ".csv", ".toml")
CODE_SKIPPED = ("target", "logs", "dbt_packages", "__pycache__")


def _digest(items: Iterable[object]) -> str:
    h = hashlib.sha256()
    for item in items:
        h.update(repr(item).encode())
        h.update(b"\0")
    return h.hexdigest()


def inbox_listing(p: settings.Paths) -> dict[str, list[int]]:
    """Every file under the inbox: relative path -> [size, modification time in ns]."""
    listing: dict[str, list[int]] = {}
    if not p.inbox.exists():
        return listing
    for path in p.inbox.rglob("*"):
        if path.is_file():
            stat = path.stat()
            listing[path.relative_to(p.inbox).as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return listing


def code_digest(root: Path = settings.PROJECT_ROOT) -> str:
    """SHA-256 over the project's source files (path and bytes)."""
    files: list[Path] = []
    for name in CODE_ROOTS:
        top = root / name
        if top.is_file():
            files.append(top)
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames
                                 if d not in CODE_SKIPPED and not d.startswith("."))
            files += [Path(dirpath) / f for f in sorted(filenames) if f.endswith(CODE_SUFFIXES)]
    return _digest((f.relative_to(root).as_posix(), hashlib.sha256(f.read_bytes()).hexdigest())
                   for f in sorted(files))


def _table_exists(con, schema: str, table: str) -> bool:
    return con.execute("select count(*) from duckdb_tables() where database_name = "
                       "current_database() and schema_name = ? and table_name = ?",
                       [schema, table]).fetchone()[0] > 0


def warehouse_digests(p: settings.Paths) -> dict:
    """What the warehouse holds of the inputs: per file type the files ingested (with their
    status) and the raw table's row count; the link decisions."""
    if not p.warehouse.exists():
        return {"ingested": "no warehouse", "file_types": {},
                "linkage_decisions": "no warehouse"}
    with connect(p, read_only=True) as con:
        files = (con.execute("select file_type, * from ingest.files order by all").fetchall()
                 if _table_exists(con, "ingest", "files") else [])
        counts = {spec.file_type:
                  con.execute(f"select count(*) from raw.{spec.file_type}").fetchone()[0]
                  if _table_exists(con, "raw", spec.file_type) else None
                  for spec in SOURCE_FILES}
        decisions = (con.execute("select * from linkage.duo_review_decisions order by all")
                     .fetchall() if _table_exists(con, "linkage", "duo_review_decisions")
                     else [])
    per_type = {ft: _digest([counts[ft], *(row for row in files if row[0] == ft)])
                for ft in counts}
    return {"ingested": _digest([*files, *sorted(counts.items(), key=lambda c: c[0])]),
            "file_types": per_type, "linkage_decisions": _digest(decisions)}


@dataclass
class State:
    """The main job's inputs at one moment (digests and the day; no personal value)."""

    inbox: dict[str, list[int]]
    ingested: str
    file_types: dict[str, str]  # file type -> digest of its ingested files and raw row count
    linkage_decisions: str
    code: str
    day: str

    def differences(self, other: State) -> list[str]:
        """The inputs that differ, in words for the console."""
        changed = []
        if self.inbox != other.inbox:
            added = sorted(set(self.inbox) - set(other.inbox))
            altered = sorted(k for k in set(self.inbox) & set(other.inbox)
                             if self.inbox[k] != other.inbox[k])
            gone = len(set(other.inbox) - set(self.inbox))
            what = ([f"{len(added)} new file(s) in the inbox"] if added else []) + \
                   ([f"{len(altered)} changed file(s) in the inbox"] if altered else []) + \
                   ([f"{gone} file(s) gone from the inbox"] if gone else [])
            changed.append(", ".join(what))
        if self.ingested != other.ingested:
            changed.append("the ingested files or raw rows changed (ingestion or erasure "
                           "outside the last main job)")
        if self.linkage_decisions != other.linkage_decisions:
            changed.append("new DUO review decisions")
        if self.code != other.code:
            changed.append("the project's code, models or registry changed")
        if self.day != other.day:
            changed.append(f"a new day ({self.day}; last build {other.day})")
        return changed


def current_state(p: settings.Paths, today: dt.date | None = None) -> State:
    from orchestration.platform.automation import today_in_brussels

    return State(inbox=inbox_listing(p), **warehouse_digests(p), code=code_digest(),
                 day=(today or today_in_brussels()).isoformat())


def record_path(p: settings.Paths) -> Path:
    return p.warehouse.parent / RECORD_NAME


@dataclass
class Record:
    run_id: str
    started_at: float  # the run's creation time (epoch seconds), as Dagster stores it
    state: State


def load_record(p: settings.Paths) -> Record | None:
    path = record_path(p)
    try:
        raw = json.loads(path.read_text())
        return Record(raw["run_id"], float(raw["started_at"]), State(**raw["state"]))
    except (OSError, KeyError, TypeError, ValueError):  # missing, unreadable or damaged
        return None


def record_build(p: settings.Paths, run_id: str, started_at: float, at_start: State) -> None:
    """After a main job succeeded: its inputs as the next run will compare them. The inbox as
    found at the start, less what the run moved out; the warehouse as the run left it."""
    now = inbox_listing(p)
    inbox = {k: v for k, v in at_start.inbox.items() if now.get(k) == v}
    state = State(inbox=inbox, **warehouse_digests(p), code=at_start.code, day=at_start.day)
    path = record_path(p)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{RECORD_NAME}.{os.getpid()}")
    temporary.write_text(json.dumps({"run_id": run_id, "started_at": started_at,
                                     "state": state.__dict__}, indent=1))
    os.replace(temporary, path)


def forget_build(p: settings.Paths) -> None:
    record_path(p).unlink(missing_ok=True)


def runs_since(instance: dg.DagsterInstance, record: Record) -> list[str]:
    """Runs created after the recorded main job started, other than it and the up-to-date
    runs that relied on it: each may have changed the warehouse."""
    runs = instance.get_runs(filters=dg.RunsFilter(
        created_after=dt.datetime.fromtimestamp(record.started_at, dt.UTC)))
    return [f"{r.job_name} ({r.run_id[:8]})" for r in runs
            if r.run_id != record.run_id and UP_TO_DATE_TAG not in r.tags]


@dataclass
class Verdict:
    """``since``: the run id of the build that is still current (None: build again)."""

    since: str | None
    reasons: list[str]


def verdict(p: settings.Paths, instance: dg.DagsterInstance, state: State) -> Verdict:
    record = load_record(p)
    if record is None:
        return Verdict(None, ["no successful main job recorded"])
    reasons = state.differences(record.state)
    other_runs = runs_since(instance, record)
    if other_runs:
        reasons.append(f"{len(other_runs)} other run(s) since: {', '.join(other_runs[:3])}")
    return Verdict(None if reasons else record.run_id, reasons)


def changed_file_types(p: settings.Paths) -> set[str] | None:
    """The file types whose raw table changed since the last successful main job (new files
    ingested by the inbox sensors' runs, an erasure), when that is all that changed: the
    models that read none of them are still what that build made. None when it cannot be
    told (no record, other code, new link decisions, the warehouse busy): build everything."""
    record = load_record(p)
    if record is None or not record.state.file_types:
        return None
    try:
        now = warehouse_digests(p)
    except Exception:  # another process holds the warehouse: DuckDB refuses a reader
        return None
    if code_digest() != record.state.code or \
            now["linkage_decisions"] != record.state.linkage_decisions:
        return None
    return {ft for ft, digest in now["file_types"].items()
            if record.state.file_types.get(ft) != digest}
