"""Fault injection: the main job, started from the command line as an operator does, is killed
with SIGKILL at seeded random points during ingestion, dbt and delivery; each time, nothing
half-written is visible in the outbox; then it runs again, with no manual step, and everything
equals the clean run of the sample (``clean_result`` of tests/integration/conftest.py): row
counts of every table, the bytes of every delivered file, both DuckDB files open, the audit
chain intact and complete.

Slow (four main-job processes, each loads the code location; the last one is a full run). Under
pytest-xdist it runs beside the pipeline's worker and reads the clean run's result at its end.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import RunsFilter

from orchestration.foundations import settings
from orchestration.foundations import audit
from orchestration.foundations.settings import PROJECT_ROOT
from orchestration.foundations.warehouse import connect
from tests.integration.conftest import clean_result, delivered_files, table_counts

pytestmark = pytest.mark.slow(main_job_runs=3)  # tests/conftest.py runs it early

SEED = 20261207
PROCESS_TIMEOUT = 1800  # a guard against a hang, not a measured assertion
# Where to kill: once the first step of the stage has started, after a seeded random delay of up
# to the stage's spread (seconds), so the kill lands inside the stage's work. The spreads are
# short: what a run did in a stage before its kill is done again by the next run (every run
# builds all dbt models), so a long window costs time and lands the kill past the stage more
# often; each stage of the sample's run lasts longer than its spread.
STAGES = {
    "ingestion": (lambda step: step.startswith("ingest_"), 6.0),
    "dbt": (lambda step: step in ("school_year_dbt_models", "plain_dbt_models"), 30.0),
    "delivery": (lambda step: step.startswith("delivery__"), 20.0),
}


def _started_steps(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_START).records
    return [r.event_log_entry.step_key for r in records]


def _wait_for(condition, what: str, process: subprocess.Popen):
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            raise AssertionError(f"the run ended ({process.returncode}) before {what}")
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _assert_no_partial_delivery_visible(p: settings.Paths) -> None:
    """Every folder in the outbox is a complete delivery: no hidden leftovers, every file its
    data package lists is there with its hash."""
    if not p.outbox.exists():
        return
    for protocol in p.outbox.iterdir():
        if protocol.name in ("quality", "register", "processors") or not protocol.is_dir():
            continue
        for delivery in protocol.iterdir():
            assert not delivery.name.startswith("."), f"half-written {protocol.name}/{delivery.name}"
            descriptor = json.loads((delivery / "datapackage.json").read_text())
            for resource in descriptor["resources"]:
                path = delivery / resource["path"]
                assert hashlib.sha256(path.read_bytes()).hexdigest() == resource["hash"].split(
                    ":")[-1], f"{path} differs from its data package"


def test_runs_killed_at_random_points_recover_by_themselves_to_the_clean_result(
        request, tmp_path_factory, tmp_path, monkeypatch):
    data, home = tmp_path / "data", tmp_path / "dagster_home"
    data.mkdir()
    home.mkdir()
    shutil.copy2(PROJECT_ROOT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv(settings.ENV_DATA_DIR, str(data))
    monkeypatch.setenv(settings.ENV_MEMORY_LIMIT, "4GB")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("PROTOCOL_WAREHOUSE_MASTER_KEY", raising=False)  # the sample's key
    monkeypatch.delenv("PROTOCOL_WAREHOUSE_ALLOW_DEVELOPMENT_KEY", raising=False)
    p = settings.paths()
    rng = random.Random(SEED)
    killed: dict[str, str] = {}  # run id -> where it was killed
    finished: dict[str, str] = {}  # runs that ended before the kill landed (a late draw)

    with dg.DagsterInstance.get() as instance:
        for n, (stage, (in_stage, spread)) in enumerate(STAGES.items()):
            args = [] if n == 0 else ["--no-sample"]
            log = open(tmp_path / f"run_{n}_{stage}.log", "w")
            process = subprocess.Popen([sys.executable, "-m", "orchestration.main", *args],
                                       cwd=PROJECT_ROOT, env=dict(os.environ), stdout=log,
                                       stderr=subprocess.STDOUT)
            try:
                run_id = _wait_for(lambda: next((r.dagster_run.run_id for r in
                                                 instance.get_run_records(filters=RunsFilter(
                                                     statuses=[dg.DagsterRunStatus.STARTED]))
                                                 if r.dagster_run.run_id not in killed
                                                 and r.dagster_run.run_id not in finished), None),
                                   f"run {n} to start", process)
                _wait_for(lambda: any(in_stage(s) for s in _started_steps(instance, run_id)),
                          f"run {n} to reach {stage}", process)
                time.sleep(rng.uniform(0, spread))
            finally:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=60)
            where = f"{stage}, during {_started_steps(instance, run_id)[-1]}"
            # A draw late in the last stage can land after the run recorded its success: that
            # run was not killed, and recovery must leave it a success.
            if instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS:
                finished[run_id] = where
            else:
                killed[run_id] = where
            _assert_no_partial_delivery_visible(p)

        final = subprocess.run([sys.executable, "-m", "orchestration.main", "--no-sample"],
                               cwd=PROJECT_ROOT, env=dict(os.environ), capture_output=True,
                               text=True, timeout=PROCESS_TIMEOUT)
        (tmp_path / "final.log").write_text(final.stdout + final.stderr)
        assert final.returncode == 0, (killed, final.stderr[-3000:])

        # the dead runs were found, marked failed and said so; no run is left "running"
        statuses = {r.dagster_run.run_id: r.dagster_run.status for r in instance.get_run_records()}
        assert killed, finished  # at least one run really died mid-way
        assert all(statuses[run_id] == dg.DagsterRunStatus.FAILURE for run_id in killed), killed
        assert all(statuses[run_id] == dg.DagsterRunStatus.SUCCESS for run_id in finished)
        assert dg.DagsterRunStatus.STARTED not in statuses.values()
        assert instance.event_log_storage.get_concurrency_run_ids() == set()
        recovered = {e.fields["run_id"] for e in audit.entries(audit.log_path(p))
                     if e.event == "recovery" and e.fields["action"] == "dead_run_marked_failed"}
        assert recovered == set(killed), killed

    # both DuckDB files open
    with connect(p, vault=True, read_only=True) as con:
        assert con.execute("select count(*) from vault.insz_register").fetchone()[0] > 0
        files = con.execute("select sha256, file_type from ingest.files where status in "
                            "('loaded', 'superseded', 'rejected')").fetchall()
        deliveries = [r[0] for r in con.execute(
            "select delivery_id from deliveries_log.deliveries").fetchall()]

    # the audit chain is intact (the operator's command) and complete
    verify = subprocess.run([sys.executable, "-m", "orchestration.foundations.audit", "verify"],
                            cwd=PROJECT_ROOT, env=dict(os.environ), capture_output=True,
                            text=True, timeout=300)
    assert verify.returncode == 0, verify.stdout
    entries = list(audit.entries(audit.log_path(p)))
    ingested = Counter((e.fields["sha256"], e.fields["file_type"]) for e in entries
                       if e.event == "ingestion")
    assert ingested == Counter(files), "every file taken in has exactly one ingestion entry"
    delivered = Counter(e.fields["delivery_id"] for e in entries if e.event == "delivery")
    assert delivered == Counter(deliveries), "every delivery has exactly one delivery entry"

    # nothing half-written, and the results equal the clean run's
    _assert_no_partial_delivery_visible(p)
    assert [x for x in (p.restricted / "staging" / "deliveries").glob("*/*")] == []
    clean = clean_result(request, tmp_path_factory)  # asked for last: see its docstring
    assert delivered_files(p) == clean.delivered
    assert table_counts(p) == clean.counts
