"""Recovery after a crash, with real processes: a main job killed with SIGKILL keeps its run
STARTED and its 'duckdb' pool slot; a second main job is refused while the first lives, naming
it; once it is dead, the recovery (the sensor in the UI's daemon, the command line at start)
marks it failed and frees its slot, so the next run that needs the pool finishes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import RunsFilter

from orchestration.foundations import audit
from orchestration.platform import recovery
from orchestration.foundations.settings import PROJECT_ROOT
from orchestration.foundations.warehouse import POOL

pytestmark = [pytest.mark.integration, pytest.mark.slow(main_job_runs=1)]  # real main-job processes

PROCESS_TIMEOUT = 600  # a guard against a hang, not a measured assertion


@pytest.fixture
def instance(tmp_path, data_dir, monkeypatch):
    """A Dagster instance of its own, configured as the project's (.dagster_home/dagster.yaml:
    the 'duckdb' pool of one slot, the run queue's warehouse/exclusive limit)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy2(PROJECT_ROOT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("PROTOCOL_WAREHOUSE_MASTER_KEY", raising=False)  # the sample's key
    monkeypatch.delenv("PROTOCOL_WAREHOUSE_ALLOW_DEVELOPMENT_KEY", raising=False)
    with dg.DagsterInstance.get() as inst:
        yield inst


def start_main(tmp_path: Path, name: str, *args: str) -> subprocess.Popen:
    """``python -m orchestration.main`` as an operator starts it (own process group)."""
    out = open(tmp_path / f"{name}.log", "w")
    return subprocess.Popen([sys.executable, "-m", "orchestration.main", *args],
                            cwd=PROJECT_ROOT, env=dict(os.environ), stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(condition, what: str, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"process ended ({process.returncode}) before {what}")
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def slot_holders(instance: dg.DagsterInstance) -> set[str]:
    return {s.run_id for s in instance.event_log_storage.get_concurrency_info(POOL).claimed_slots}


def started_run(instance: dg.DagsterInstance) -> dg.DagsterRun | None:
    records = instance.get_run_records(
        filters=RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    return records[0].dagster_run if records else None


def kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)  # the main process only, as `kill -9 <pid>`
    process.wait(timeout=60)


def test_a_second_main_job_is_refused_naming_the_first_and_a_killed_one_is_recovered(
        tmp_path, data_dir, instance):
    first = start_main(tmp_path, "first")
    try:
        run = wait_for(lambda: started_run(instance), "the first run to start", first)
        wait_for(lambda: run.run_id in slot_holders(instance),
                 "the first run to hold the duckdb slot", first)
        running = recovery.run_process(instance, instance.get_run_record_by_id(run.run_id))
        assert running.pid == first.pid

        second = subprocess.run([sys.executable, "-m", "orchestration.main", "--no-sample"],
                                cwd=PROJECT_ROOT, env=dict(os.environ), capture_output=True,
                                text=True, timeout=PROCESS_TIMEOUT)
        assert second.returncode == 3, second.stderr[-2000:]
        assert "refused" in second.stderr
        assert run.run_id in second.stderr and running.started in second.stderr
        assert str(first.pid) in second.stderr
        assert first.poll() is None  # the first one goes on
    finally:
        kill(first)

    # What kill -9 leaves: a run that still looks alive, and its claim on the pool.
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
    assert run.run_id in slot_holders(instance)

    # The UI's daemon evaluates the recovery sensor of the code location.
    from orchestration.definitions import defs

    sensor = defs.resolve_sensor_def("dead_run_sensor")
    result = sensor(dg.build_sensor_context(instance=instance))
    assert run.run_id in result.skip_message
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
    assert slot_holders(instance) == set()
    [entry] = [e for e in audit.entries(audit.log_path(data_dir)) if e.event == "recovery"]
    assert entry.fields["run_id"] == run.run_id and entry.fields["slots_freed"] == 1
    failure = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records[0]
    assert "is gone" in failure.event_log_entry.dagster_event.message

    # The next run that needs the pool starts and finishes (before: it waited forever).
    ingest = subprocess.run(
        [sys.executable, "-c",
         "import dagster as dg\n"
         "from orchestration.definitions import defs\n"
         "job = defs.resolve_job_def('ingest_zorgthuis_job')\n"
         "r = job.execute_in_process(instance=dg.DagsterInstance.get(),"
         " partition_key='2025-26', raise_on_error=False)\n"
         "raise SystemExit(0 if r.success else 1)\n"],
        cwd=PROJECT_ROOT, env=dict(os.environ), capture_output=True, text=True,
        timeout=PROCESS_TIMEOUT)
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    assert slot_holders(instance) == set()


def test_a_live_run_is_never_taken_for_a_dead_one(instance):
    """This process runs; a process id reused after the run started is not the run's."""
    me = os.getpid()
    assert recovery.process_alive(me, time.time())
    assert not recovery.process_alive(me, recovery.process_started_at(me) - 60)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not recovery.process_alive(child.pid)


def test_a_second_main_job_launched_in_the_ui_waits_in_the_run_queue(instance):
    """The instance's run queue admits one run with the warehouse/exclusive tag at a time, and
    both main jobs carry it."""
    from orchestration.definitions import defs

    limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    assert {"key": recovery.EXCLUSIVE_TAG, "limit": 1} in limits
    for job in ("warehouse_job", "school_year_backfill_job"):
        assert defs.resolve_job_def(job).tags[recovery.EXCLUSIVE_TAG] == "main"
