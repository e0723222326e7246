"""One real run of the main job on the synthetic sample, shared by the integration tests.

The sample is copied into a temporary data folder's inbox and the whole warehouse job runs
twice on a temporary Dagster instance: the first run builds, the second (``--rebuild``) must
change nothing; a third, with nothing new, finds the warehouse up to date and rebuilds nothing.
Both runs go through what ``python -m orchestration.main`` runs (``command_line_run``), so their
console output is kept (``console_first``, ``console_second``) for the tests of what a steward
reads.

``clean_result`` is what the first (clean) run left, table counts and delivered files, for a
test that only compares its own warehouse with it at its end (the crash-recovery test). Under
pytest-xdist the worker running ``pipeline`` writes it to a file the other worker reads, so such
a test runs meanwhile on the other worker instead of after the pipeline on the same one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from orchestration.foundations import settings
from orchestration.main import command_line_run
from orchestration.foundations.warehouse import connect

SNAPSHOT_SQL = """
    select table_schema || '.' || table_name as t, estimated_size
    from duckdb_tables() where database_name = current_database() order by 1"""


# Tables that gain a row per run by design (the steward's findings over time): a run that
# changes nothing still adds its snapshot, so they are left out of "nothing changed".
PER_RUN_HISTORY = frozenset({"quality.findings_history"})


def table_counts(p: settings.Paths) -> dict[str, int]:
    """Rows per warehouse table, the per-run history tables left out."""
    with connect(p, read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1").fetchall()]
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables
                if t not in PER_RUN_HISTORY}


@dataclass
class PipelineRun:
    paths: settings.Paths
    first: dg.ExecuteInProcessResult
    second: dg.ExecuteInProcessResult
    counts_after_first: dict[str, int]
    counts_after_second: dict[str, int]
    files_after_first: list[tuple]
    files_after_second: list[tuple]
    console_first: str = ""
    console_second: str = ""
    # a third run with nothing new: it finds the build of the second one current
    up_to_date: dg.ExecuteInProcessResult | None = None
    console_up_to_date: str = ""
    counts_after_up_to_date: dict[str, int] | None = None
    files_after_up_to_date: list[tuple] | None = None
    instance: dg.DagsterInstance | None = None


def delivered_files(p: settings.Paths) -> dict[str, Counter]:
    """{protocol: Counter((file name, SHA-256))} of every data file in the outbox's deliveries."""
    found: dict[str, Counter] = {}
    for protocol in sorted(x for x in p.outbox.iterdir() if x.is_dir()):
        if protocol.name in ("quality", "register", "processors"):
            continue
        found[protocol.name] = Counter(
            (f.name, hashlib.sha256(f.read_bytes()).hexdigest())
            for f in protocol.glob("*/*") if f.suffix in (".csv", ".parquet"))
    return found


@dataclass
class CleanResult:
    """What the clean run of the sample left: rows per table and the delivered files."""

    counts: dict[str, int]
    delivered: dict[str, Counter]

    def to_json(self) -> str:
        return json.dumps({"counts": self.counts, "delivered": {
            protocol: sorted([*key, n] for key, n in files.items())
            for protocol, files in self.delivered.items()}})

    @classmethod
    def from_json(cls, text: str) -> CleanResult:
        body = json.loads(text)
        return cls(body["counts"], {protocol: Counter({(name, digest): n
                                                      for name, digest, n in files})
                                    for protocol, files in body["delivered"].items()})


CLEAN_RESULT_FILE = "clean_result.json"
CLEAN_RESULT_STARTED = "clean_result.started"  # a worker runs pipeline: wait for its file
CLEAN_RESULT_PATIENCE = 3600  # a guard against a worker that never writes it, not a measure


def _session_folder(tmp_path_factory) -> Path:
    """A folder every process of this test session sees: under pytest-xdist each worker's base
    temporary folder is a subfolder of the session's."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _write_clean_result(tmp_path_factory, body: str) -> None:
    path = _session_folder(tmp_path_factory) / CLEAN_RESULT_FILE
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(body, encoding="utf-8")
    os.replace(temporary, path)


def _files(p: settings.Paths) -> list[tuple]:
    with connect(p, read_only=True) as con:
        return con.execute("select file_name, sha256, status, received_rows, loaded_rows, "
                           "quarantined_rows from ingest.files order by all").fetchall()


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory) -> PipelineRun:
    data = tmp_path_factory.mktemp("warehouse") / "data"
    data.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.ENV_DATA_DIR, str(data))
        mp.setenv(settings.ENV_MEMORY_LIMIT, "4GB")
        mp.delenv("PROTOCOL_WAREHOUSE_MASTER_KEY", raising=False)  # the sample's dev key
        mp.delenv("PROTOCOL_WAREHOUSE_ALLOW_DEVELOPMENT_KEY", raising=False)
        p = settings.paths()
        instance = dg.DagsterInstance.ephemeral()
        (_session_folder(tmp_path_factory) / CLEAN_RESULT_STARTED).touch()
        out1, out2 = io.StringIO(), io.StringIO()
        try:
            first, _ = command_line_run(p, instance, out1)  # copies the sample into the inbox
            counts1, files1 = table_counts(p), _files(p)
            _write_clean_result(tmp_path_factory,
                                CleanResult(counts1, delivered_files(p)).to_json())
        except BaseException as error:  # the waiting worker fails at once, not after an hour
            _write_clean_result(tmp_path_factory, json.dumps({"error": repr(error)}))
            raise
        # a full rebuild of the same inputs: the build itself must change nothing
        second, _ = command_line_run(p, instance, out2, sample=False, rebuild=True)
        counts2, files2 = table_counts(p), _files(p)
        # then, nothing new since: the run finds the warehouse up to date and rebuilds nothing
        out3 = io.StringIO()
        third, _ = command_line_run(p, instance, out3, sample=False)
        yield PipelineRun(p, first, second, counts1, counts2, files1, files2,
                          out1.getvalue(), out2.getvalue(), third, out3.getvalue(),
                          table_counts(p), _files(p), instance)
        os.environ.pop("WAREHOUSE_PATH", None)


def clean_result(request: pytest.FixtureRequest, tmp_path_factory) -> CleanResult:
    """The clean run's table counts and delivered files, asked for at the end of a test that
    made its own warehouse first (``request.getfixturevalue`` is not needed: call this).

    In one process, from ``pipeline``. Under pytest-xdist, from the file the worker running
    ``pipeline`` writes after its first run (waited for while it runs), so this worker does not
    run the main job twice more; when no worker has started it, ``pipeline`` runs here."""
    folder = _session_folder(tmp_path_factory)
    path, started = folder / CLEAN_RESULT_FILE, folder / CLEAN_RESULT_STARTED
    if os.environ.get("PYTEST_XDIST_WORKER") and (path.exists() or started.exists()):
        deadline = time.monotonic() + CLEAN_RESULT_PATIENCE
        while not path.exists():
            assert time.monotonic() < deadline, f"no {path} from the worker running pipeline"
            time.sleep(2)
        text = path.read_text(encoding="utf-8")
        assert "error" not in json.loads(text), f"the pipeline fixture failed: {text}"
        return CleanResult.from_json(text)
    run: PipelineRun = request.getfixturevalue("pipeline")
    return CleanResult(run.counts_after_first, delivered_files(run.paths))
