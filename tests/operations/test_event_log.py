"""The event log written with few syncs (``platform/event_log.py``), on a real SQLite instance:
the run's events are the same as without it; while it holds, closing Dagster's connections
leaves the run's write-ahead log in place (no checkpoint per write) and the event log's
connections run with synchronous=NORMAL; afterwards the log is checkpointed and the hook gone."""

import collections
import sqlite3
import uuid
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy

from orchestration.platform.event_log import fewer_syncs

PARTITIONS = dg.StaticPartitionsDefinition(["2023-24", "2024-25", "2025-26"])


@dg.asset(partitions_def=PARTITIONS,
          check_specs=[dg.AssetCheckSpec("rows_positive", asset="pupils")])
def pupils(context: dg.AssetExecutionContext):
    yield dg.MaterializeResult(metadata={"school_years": len(context.partition_keys)})
    yield dg.AssetCheckResult(passed=True)


JOB = dg.Definitions(assets=[pupils], jobs=[dg.define_asset_job(
    "pupils_job", partitions_def=PARTITIONS)]).resolve_job_def("pupils_job")
RANGE = {"dagster/asset_partition_range_start": "2023-24",
         "dagster/asset_partition_range_end": "2025-26"}


@pytest.fixture
def instance(tmp_path):
    with dg.DagsterInstance.local_temp(str(tmp_path)) as inst:
        yield inst


def _event_types(instance: dg.DagsterInstance, run_id: str) -> collections.Counter:
    return collections.Counter(
        r.event_log_entry.dagster_event_type.value
        for r in instance.get_records_for_run(run_id, limit=10_000).records)


def _shard(instance: dg.DagsterInstance, run_id: str) -> Path:
    return Path(instance.event_log_storage.path_for_shard(run_id))


def _synchronous(path: Path) -> int:
    """The synchronous setting a new SQLAlchemy connection to ``path`` gets (2 = FULL)."""
    engine = sqlalchemy.create_engine(f"sqlite:///{path}", poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("PRAGMA synchronous").scalar()
    finally:
        engine.dispose()


def test_same_events_and_no_checkpoint_per_write(instance):
    plain = JOB.execute_in_process(instance=instance, tags=RANGE, run_id=str(uuid.uuid4()))
    # without it, every close of Dagster's last connection checkpointed: no WAL left over
    assert not Path(f"{_shard(instance, plain.run_id)}-wal").exists()

    run_id = str(uuid.uuid4())
    with fewer_syncs(instance, run_id):
        quiet = JOB.execute_in_process(instance=instance, tags=RANGE, run_id=run_id)
        wal = Path(f"{_shard(instance, run_id)}-wal")
        assert wal.exists() and wal.stat().st_size > 0, "the run's WAL was checkpointed"
        assert _synchronous(_shard(instance, run_id)) == 1  # NORMAL
    assert quiet.success and plain.success
    assert _event_types(instance, run_id) == _event_types(instance, plain.run_id)
    assert _event_types(instance, run_id)["ASSET_MATERIALIZATION_PLANNED"] == 3
    # afterwards: the hook is gone and the last close checkpointed the log into the database
    assert _synchronous(_shard(instance, run_id)) == 2  # FULL, SQLite's default
    assert not wal.exists() or wal.stat().st_size == 0
    with sqlite3.connect(_shard(instance, run_id)) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_other_storages_are_left_alone():
    with dg.DagsterInstance.ephemeral() as instance:
        run_id = str(uuid.uuid4())
        with fewer_syncs(instance, run_id):
            result = JOB.execute_in_process(instance=instance, tags=RANGE, run_id=run_id)
        assert result.success
        assert _event_types(instance, run_id)["ASSET_CHECK_EVALUATION"] == 1
