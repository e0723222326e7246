"""The README's commands, run exactly as a new user types them, in their own processes.

- ``.venv/bin/dagster dev -w workspace.yaml`` (what ``make ui`` runs) with no activated venv, so
  no dbt on PATH: the web server answers on 127.0.0.1 and its GraphQL API reports the code
  location loaded with every asset, job, schedule and sensor of ``orchestration.definitions``.
- ``.venv/bin/python -m orchestration.main --backfill 2019-20`` without ``DAGSTER_HOME``: it runs
  on the project's ``.dagster_home`` instead of stopping for want of one.

Each test starts its process in a session of its own and stops it by that process's id.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from orchestration.foundations import settings

pytestmark = pytest.mark.slow
ROOT = settings.PROJECT_ROOT
BIN = Path(sys.executable).parent

LOCATION_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus
    locationOrLoadError { __typename
      ... on PythonError { message }
      ... on RepositoryLocation { repositories {
          jobs { name } schedules { name } sensors { name }
          assetNodes { assetKey { path } } } } } } } } }
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _path_without_dbt() -> str:
    """PATH as on a fresh machine: no folder that holds a dbt (no activated venv)."""
    return os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                           if d and not (Path(d) / "dbt").exists())


def _environment(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    data = tmp_path / "data"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_IS_DEV_CLI"}
    env.update({"DAGSTER_HOME": str(home), settings.ENV_DATA_DIR: str(data),
                "PATH": _path_without_dbt(), "GX_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "1"})
    env.pop("VIRTUAL_ENV", None)
    return env


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def _loaded_location(port: int, process: subprocess.Popen, patience: float) -> dict:
    """The code location entry once it left LOADING (the web server is polled until then)."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        assert process.poll() is None, "dagster dev ended before the UI answered"
        try:
            entries = _graphql(port, LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
        except OSError:
            entries = []
        if entries and all(e["loadStatus"] == "LOADED" for e in entries):
            [entry] = entries
            return entry
        time.sleep(2)
    raise AssertionError(f"the code location did not load within {patience:.0f} s")


def test_the_ui_loads_the_code_location_with_every_definition(tmp_path):
    from orchestration.definitions import defs

    port = _free_port()
    log = (tmp_path / "dagster_dev.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1",
         "-p", str(port)],
        cwd=ROOT, env=_environment(tmp_path), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        entry = _loaded_location(port, process, patience=600)
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # dagster dev and the servers it started
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
    loaded = entry["locationOrLoadError"]
    assert loaded["__typename"] == "RepositoryLocation", \
        (loaded.get("message"), (tmp_path / "dagster_dev.log").read_text()[-3000:])
    [repository] = loaded["repositories"]
    assets = {"/".join(a["assetKey"]["path"]) for a in repository["assetNodes"]}
    assert assets == {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    jobs = {j["name"] for j in repository["jobs"] if not j["name"].startswith("__")}
    assert jobs == {j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")}
    assert {s["name"] for s in repository["schedules"]} == {s.name for s in defs.schedules}
    assert {s["name"] for s in repository["sensors"]} == {s.name for s in defs.sensors}


def _backfill_runs(home: Path) -> set[str]:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        return {r.run_id for r in instance.get_runs(
            dg.RunsFilter(job_name="school_year_backfill_job"))}


def test_the_backfill_command_works_without_dagster_home(tmp_path):
    """The README's backfill, as written, outside make: no DAGSTER_HOME in the environment. It
    runs on the project's instance (``.dagster_home``), where ``make ui`` shows it. The data
    folder is an empty one, so the run itself has nothing to reprocess."""
    env = _environment(tmp_path)
    del env["DAGSTER_HOME"]
    project_home = ROOT / ".dagster_home"
    before = _backfill_runs(project_home)
    done = subprocess.run([str(BIN / "python"), "-m", "orchestration.main", "--backfill",
                           "2019-20"], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    assert "DAGSTER_HOME" not in done.stderr, done.stderr[-2000:]
    assert "the backfill of 2019-20" in done.stdout + done.stderr, \
        (done.stdout[-2000:], done.stderr[-3000:])
    [run_id] = _backfill_runs(project_home) - before
    assert run_id
    # the console names the full log (dbt and every event of the run), which exists
    [named] = [line for line in done.stdout.splitlines() if "full log (dbt included):" in line]
    log = Path(named.split("full log (dbt included):")[1].strip())
    assert log.is_file() and log.parent == tmp_path / "data" / "logs"
    assert "Running with dbt" not in done.stdout
