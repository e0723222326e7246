"""What happens after a crash: the next run finds what a killed run left behind and finishes it
or clears it, with no manual step, and says so (log and audit trail).

A run killed with ``kill -9`` (or a machine that went down) leaves:

- **a run that still looks alive** in the Dagster instance (status STARTED) and its claim on the
  ``duckdb`` concurrency pool, so every later step of every run waits for a slot forever.
  :func:`recover_dead_runs` finds in-progress runs whose process is gone (the process id of the
  run's RUN_START event, checked in ``/proc``, start time included, so a reused id is not
  mistaken for the run), stops the dbt process it may have left behind, marks the run failed
  (``instance.report_run_failed``, as Dagster's own run monitoring does) and frees its slots
  (``event_log_storage.free_concurrency_slots_for_run``, as Dagster's concurrency daemon does for
  ended runs). Slots still held by runs that ended are freed too.
- **files loaded without their audit entry** (the load commits, then the entry is written):
  ingestion writes the missing entries before it loads
  (``orchestration.ingestion.inbox.reconcile_audit``), so every file in ``ingest.files`` has
  exactly one.
- **half-written deliveries**: they are staged in the restricted zone and only a complete,
  recorded delivery is renamed into the outbox (``orchestration.deliveries.staging``); leftovers
  of dead processes are removed and a recorded but unpublished delivery is published.

Two main jobs at once: :func:`exclusive_main_run` (the command line) refuses a second
``warehouse_job`` / ``school_year_backfill_job`` while one runs, naming it (run id, start time,
process); runs launched in the UI carry the tag ``warehouse/exclusive`` that the instance's run
queue limits to one (``.dagster_home/dagster.yaml``), so a second one waits, visibly queued.
The sensor ``dead_run_sensor`` runs :func:`recover_dead_runs` every 30 s while the Dagster daemon
runs, so a run launched from the UI after a crash starts as well (registered by
``orchestration/definitions.py``).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.storage.dagster_run import FINISHED_STATUSES, RunsFilter

from orchestration.foundations import audit, settings
from orchestration.foundations.warehouse import POOL

log = logging.getLogger(__name__)

# Runs with this tag exclude one another: the command line refuses a second one, the UI's run
# queue holds it (tag_concurrency_limits in .dagster_home/dagster.yaml).
EXCLUSIVE_TAG = "warehouse/exclusive"
# Set in the environment of the dbt process a run starts, so recovery can find it after the run's
# own process died (dbt is a child process and outlives a SIGKILL of its parent).
RUN_ID_ENV = "PROTOCOL_WAREHOUSE_DAGSTER_RUN_ID"
# Statuses in which a run claims a worker and possibly pool slots (dagster's ACTIVE_RUN_STATUSES).
ACTIVE_STATUSES = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
                   dg.DagsterRunStatus.CANCELING]
LOCK_NAME = "main_job.lock"


# ------------------------------------------------------------------------------------ processes

def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


def process_started_at(pid: int) -> float | None:
    """Start of a live process (seconds since the epoch); None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:  # no /proc (not Linux): ask the kernel whether the id exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):  # a zombie has finished; only its parent has not reaped it
        return None
    return _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def process_alive(pid: int, not_started_after: float | None = None) -> bool:
    """Whether process ``pid`` runs and is the one that existed at ``not_started_after`` (a
    process id reused by a newer process does not count)."""
    started = process_started_at(pid)
    if started is None:
        return False
    return not_started_after is None or started <= not_started_after + 2.0


def processes_of_run(run_id: str) -> list[int]:
    """Processes started for a run that carry its id in their environment (its dbt process)."""
    marker = f"{RUN_ID_ENV}={run_id}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0") and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


def _stop(pids: list[int], wait_seconds: float = 20.0) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + wait_seconds
    while any(process_started_at(pid) is not None for pid in pids) and \
            time.monotonic() < deadline:
        time.sleep(0.1)


# ------------------------------------------------------------------------------------ runs

@dataclass(frozen=True)
class RunProcess:
    """An in-progress run and the process that executes it (None: not known yet)."""

    run_id: str
    job: str
    status: str
    pid: int | None
    started_at: float | None  # the run's start (epoch seconds)

    @property
    def started(self) -> str:
        if self.started_at is None:
            return "not started yet"
        return dt.datetime.fromtimestamp(self.started_at, dt.UTC).isoformat(timespec="seconds")

    def describe(self) -> str:
        process = f"process {self.pid}" if self.pid else "process not known yet"
        return f"{self.job} run {self.run_id} (started {self.started}, {process})"


def run_process(instance: dg.DagsterInstance, record) -> RunProcess:
    """The process of a run: the one that wrote its RUN_START event (the CLI for
    ``execute_in_process``, the run worker for runs launched from the UI)."""
    run = record.dagster_run
    pid = None
    starts = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_START,
                                          limit=1).records
    if starts and starts[0].event_log_entry.dagster_event is not None:
        pid = starts[0].event_log_entry.dagster_event.pid
    started_at = record.start_time or (starts[0].event_log_entry.timestamp if starts else None)
    return RunProcess(run.run_id, run.job_name, run.status.value, pid, started_at)


def in_progress_runs(instance: dg.DagsterInstance, tags: dict[str, str] | None = None
                     ) -> list[RunProcess]:
    records = instance.get_run_records(filters=RunsFilter(statuses=ACTIVE_STATUSES, tags=tags))
    return [run_process(instance, r) for r in records]


def is_dead(run: RunProcess) -> bool:
    """A run whose process is known and gone. A run without a known process (being launched)
    is left to Dagster's own start timeout."""
    return run.pid is not None and not process_alive(run.pid, run.started_at)


@dataclass(frozen=True)
class DeadRun:
    run: RunProcess
    slots_freed: int
    processes_stopped: int

    def message(self) -> str:
        return (f"{self.run.describe()} died (its process is gone): marked failed, "
                f"{self.slots_freed} '{POOL}' pool slot(s) freed"
                + (f", {self.processes_stopped} process(es) it left running stopped"
                   if self.processes_stopped else ""))


def _claimed_slots(instance: dg.DagsterInstance, run_id: str) -> int:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return 0
    return sum(1 for key in storage.get_concurrency_keys()
               for slot in storage.get_concurrency_info(key).claimed_slots
               if slot.run_id == run_id)


def _free_slots(instance: dg.DagsterInstance, run_id: str) -> int:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return 0
    held = _claimed_slots(instance, run_id)
    storage.free_concurrency_slots_for_run(run_id)  # also drops the run's pending steps
    return held


def recover_dead_runs(instance: dg.DagsterInstance, p: settings.Paths | None = None
                      ) -> list[DeadRun]:
    """Mark every in-progress run whose process is gone as failed and free its pool slots; free
    the slots of ended runs that still hold some. Each dead run is logged and audited."""
    recovered = []
    for run in in_progress_runs(instance):
        if not is_dead(run):
            continue
        orphans = processes_of_run(run.run_id)
        _stop(orphans)  # its dbt process would otherwise hold the warehouse open
        reason = (f"process {run.pid} of the run is gone (killed or crashed); marked failed by "
                  f"the recovery at the start of the next run")
        instance.report_run_failed(instance.get_run_by_id(run.run_id), reason)
        dead = DeadRun(run, _free_slots(instance, run.run_id), len(orphans))
        log.info("%s", dead.message())  # the callers say it: the CLI prints, the sensor logs
        audit.record("recovery", path=audit.log_path(p), action="dead_run_marked_failed",
                     reason=reason, run_id=run.run_id, job=run.job, pid=run.pid,
                     started=run.started, slots_freed=dead.slots_freed,
                     processes_stopped=dead.processes_stopped)
        recovered.append(dead)
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        holding = storage.get_concurrency_run_ids()
        if holding:
            for record in instance.get_run_records(filters=RunsFilter(
                    run_ids=list(holding), statuses=FINISHED_STATUSES)):
                freed = _free_slots(instance, record.dagster_run.run_id)
                if freed:
                    log.warning("run %s has ended (%s) but held %d pool slot(s): freed",
                                record.dagster_run.run_id, record.dagster_run.status.value, freed)
    return recovered


# ------------------------------------------------------------------------------------ one main run

class AnotherMainRunIsRunning(RuntimeError):
    """A second main job was refused: the message names the one that runs."""


def _lock_holder(lock_file: Path) -> dict:
    try:
        return json.loads(lock_file.read_text() or "{}")
    except (OSError, ValueError):
        return {}


@contextmanager
def exclusive_main_run(instance: dg.DagsterInstance, job: str,
                       p: settings.Paths | None = None) -> Iterator[list[DeadRun]]:
    """Hold the main-job lock of this data folder for the duration of a run.

    First recovers dead runs; then refuses (``AnotherMainRunIsRunning``) when another process
    holds the lock or a live ``warehouse/exclusive`` run is in progress (e.g. one launched from
    the UI). The lock is an ``flock``: the kernel releases it when its process dies, however.
    Yields the dead runs it recovered.
    """
    p = p or settings.paths()
    p.tmp.mkdir(parents=True, exist_ok=True)
    lock_file = p.tmp / LOCK_NAME
    handle = open(lock_file, "a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(lock_file)
            running = [r for r in in_progress_runs(instance, {EXCLUSIVE_TAG: "main"})
                       if r.pid == holder.get("pid")]
            who = running[0].describe() if running else (
                f"{holder.get('job', 'a main job')} of process {holder.get('pid', '?')} "
                f"(started {holder.get('started', '?')}, its Dagster run not started yet)")
            raise AnotherMainRunIsRunning(
                f"refused: {who} is still running on {p.data}; wait for it to finish (or stop "
                f"that process) and start again") from None
        dead = recover_dead_runs(instance, p)
        live = [r for r in in_progress_runs(instance, {EXCLUSIVE_TAG: "main"}) if not is_dead(r)]
        if live:
            raise AnotherMainRunIsRunning(
                f"refused: {live[0].describe()} is still running; wait for it to finish (or "
                f"stop it in the Dagster UI) and start again")
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "job": job, "started": dt.datetime.now(
            dt.UTC).isoformat(timespec="seconds")}))
        handle.flush()
        yield dead
    finally:
        handle.close()  # releases the lock


# ------------------------------------------------------------------------------------ Dagster

def build_dead_run_sensor(default_status: dg.DefaultSensorStatus
                          = dg.DefaultSensorStatus.RUNNING) -> dg.SensorDefinition:
    @dg.sensor(name="dead_run_sensor", minimum_interval_seconds=30,
               default_status=default_status,
               description="Finds runs whose process is gone (killed, crashed), marks them "
                           "failed and frees their 'duckdb' pool slots, so queued and new runs "
                           "go on (orchestration/platform/recovery.py).")
    def _sensor(context: dg.SensorEvaluationContext):
        dead = recover_dead_runs(context.instance)
        for d in dead:
            context.log.warning(d.message())
        return dg.SkipReason("; ".join(d.message() for d in dead) if dead
                             else "no dead run")

    return _sensor
