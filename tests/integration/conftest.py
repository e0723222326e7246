"""One real run of the main job on the synthetic sample, shared by the integration tests.

The sample is copied into a temporary data folder's inbox and the whole warehouse job runs
twice on a temporary Dagster instance: the first run builds, the second must change nothing.
Both runs go through what ``python -m orchestration.main`` runs (``command_line_run``), so their
console output is kept (``console_first``, ``console_second``) for the tests of what a steward
reads.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

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
        out1, out2 = io.StringIO(), io.StringIO()
        first, _ = command_line_run(p, instance, out1)  # copies the sample into the inbox
        counts1, files1 = table_counts(p), _files(p)
        second, _ = command_line_run(p, instance, out2, sample=False)
        counts2, files2 = table_counts(p), _files(p)
        yield PipelineRun(p, first, second, counts1, counts2, files1, files2,
                          out1.getvalue(), out2.getvalue())
        os.environ.pop("WAREHOUSE_PATH", None)
