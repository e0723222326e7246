"""Every file ingestion takes in has exactly one audit entry, whatever stops the run: the entry is
written as soon as the file's load commits, and files an interrupted run loaded without one get
theirs at the next ingestion (recovery.reconcile_ingestion_audit)."""

from __future__ import annotations

import shutil
from collections import Counter

import dagster as dg
import pytest

from orchestration.foundations import pseudonymisation as pseudo
from orchestration.ingestion.inbox import sample_hashes
from orchestration.ingestion.load import _ensure_raw_table, ensure_schema, \
    load_file
from orchestration.foundations import audit
from orchestration.foundations.settings import PROJECT_ROOT
from orchestration.foundations.sources import identify
from orchestration.foundations.warehouse import connect

pytestmark = pytest.mark.integration  # the real ingestion job

SAMPLE_ZORGTHUIS = PROJECT_ROOT / "data" / "sample" / "zorgthuis"
FIRST, SECOND = "zorgthuis_2026-02-02_definitief.csv", "zorgthuis_2026-02-02_voorlopig.csv"


def _ingestion_entries(p) -> Counter:
    return Counter((e.fields["sha256"], e.fields["file_type"])
                   for e in audit.entries(audit.log_path(p)) if e.event == "ingestion")


def _taken_in(p) -> list[tuple[str, str]]:
    with connect(p, read_only=True) as con:
        return con.execute("select sha256, file_type from ingest.files where status in "
                           "('loaded', 'superseded', 'rejected') order by all").fetchall()


def _ingest_job(p):
    """The real ingestion job of the source (the inbox sensor's), for the files' school year."""
    from orchestration.definitions import defs

    job = defs.resolve_job_def("ingest_zorgthuis_job")
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), partition_key="2025-26",
                                  raise_on_error=False)


@pytest.fixture
def development_key(monkeypatch):
    """The sample's development key, without the permission for other files: a file that is
    not the sample's stops the whole ingestion with an exception (as in production)."""
    monkeypatch.delenv(pseudo.ENV_MASTER_KEY, raising=False)
    monkeypatch.delenv(pseudo.ENV_ALLOW_DEVELOPMENT_KEY, raising=False)


def test_a_file_loaded_before_the_run_stopped_has_its_audit_entry(data_dir, development_key):
    inbox = data_dir.inbox_of("zorgthuis")
    inbox.mkdir(parents=True)
    shutil.copy2(SAMPLE_ZORGTHUIS / FIRST, inbox / FIRST)
    # a later file (name order) that is not the sample's: ingestion stops there with an error
    (inbox / SECOND).write_bytes((SAMPLE_ZORGTHUIS / SECOND).read_bytes() + b"\n")
    result = _ingest_job(data_dir)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "DevelopmentKeyRefused" in str(failure.step_failure_data.error)
    taken = _taken_in(data_dir)
    assert len(taken) == 1  # the first file committed before the stop
    entries = _ingestion_entries(data_dir)
    assert entries == Counter(taken)
    [entry] = [e for e in audit.entries(audit.log_path(data_dir)) if e.event == "ingestion"]
    assert entry.fields["file"] == FIRST and entry.fields["run_id"] == result.run_id


def test_files_loaded_without_an_audit_entry_get_exactly_one_at_the_next_ingestion(
        data_dir, development_key):
    inbox = data_dir.inbox_of("zorgthuis")
    inbox.mkdir(parents=True)
    for name in (FIRST, SECOND):
        shutil.copy2(SAMPLE_ZORGTHUIS / name, inbox / name)
    # A run that was killed after the loads committed and before their audit entries: the
    # loads themselves, without the entries.
    with connect(data_dir, vault=True) as con:
        ensure_schema(con)
        for name in (FIRST, SECOND):
            spec, match = identify(name)
            _ensure_raw_table(con, spec)
            groups = {k: v for k, v in match.groupdict().items() if v is not None}
            load_file(con, data_dir, spec, inbox / name, groups, pseudo.master_key(),
                      sample_hashes(data_dir))
    assert _ingestion_entries(data_dir) == Counter()
    taken = _taken_in(data_dir)
    assert len(taken) == 2

    result = _ingest_job(data_dir)
    assert result.success
    assert _ingestion_entries(data_dir) == Counter(taken)  # exactly one each
    reconciled = [e for e in audit.entries(audit.log_path(data_dir)) if e.event == "ingestion"]
    assert all(e.fields["reconciled"] and e.fields["run_id"] == result.run_id
               for e in reconciled)
    with connect(data_dir, read_only=True) as con:
        rows = dict(con.execute("select sha256, loaded_rows from ingest.files").fetchall())
    assert {e.fields["sha256"]: e.fields["loaded"] for e in reconciled} == rows

    assert _ingest_job(data_dir).success
    assert _ingestion_entries(data_dir) == Counter(taken)  # still exactly one
    assert audit.verify(audit.log_path(data_dir)).ok
