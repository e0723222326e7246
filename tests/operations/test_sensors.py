"""Inbox sensors: a new file starts one ingestion run, the same bytes never a second one, and a
file that is unknown or that no valid protocol allows is refused, moved out and never ingested.
The sensors keep their state in the cursor and never open DuckDB."""

from __future__ import annotations

import datetime as dt
import os
import time

import dagster as dg
import pytest

from orchestration.ingestion import admission
from orchestration.foundations import audit
from orchestration.ingestion.definitions import inbox_sensors
from orchestration.ingestion.jobs import ingestion_jobs
from orchestration.ingestion.sensors import build_inbox_sensor
from orchestration.protocols import load_registry
from orchestration.foundations.sources import BY_FILE_TYPE
from tests.operations.conftest import make_insz, write_inbox

pytestmark = pytest.mark.usefixtures("test_master_key")
ZORGTHUIS_HEADER = ";".join(BY_FILE_TYPE["zorgthuis_lists"].headers)
ZORGTHUIS_FILE = "zorgthuis_2025-10-01_voorlopig.csv"
ZORGTHUIS_TEXT = ZORGTHUIS_HEADER + f"\n{make_insz(dt.date(2013, 2, 3))};01/10/2025;VOORLOPIG;N\n"


def evaluate(sensor: dg.SensorDefinition, cursor: str | None = None) -> dg.SensorResult:
    return sensor(dg.build_sensor_context(cursor=cursor))


def test_a_new_file_starts_one_ingestion_run_for_its_school_year_keyed_by_its_hash(data_dir):
    path = write_inbox(data_dir, "zorgthuis", ZORGTHUIS_FILE, ZORGTHUIS_TEXT)
    result = evaluate(inbox_sensors["zorgthuis"])
    [request] = result.run_requests
    assert request.run_key == admission.sha256_of(path)
    assert request.partition_key == "2025-26"
    assert request.tags["file"] == ZORGTHUIS_FILE
    assert inbox_sensors["zorgthuis"].job_name == "ingest_zorgthuis_job"


def test_the_same_file_on_the_next_tick_starts_nothing(data_dir):
    write_inbox(data_dir, "zorgthuis", ZORGTHUIS_FILE, ZORGTHUIS_TEXT)
    first = evaluate(inbox_sensors["zorgthuis"])
    second = evaluate(inbox_sensors["zorgthuis"], first.cursor)
    assert second.run_requests == []
    assert "no new file" in second.skip_reason.skip_message


def test_the_same_bytes_under_another_name_start_nothing(data_dir):
    write_inbox(data_dir, "zorgthuis", ZORGTHUIS_FILE, ZORGTHUIS_TEXT)
    first = evaluate(inbox_sensors["zorgthuis"])
    write_inbox(data_dir, "zorgthuis", "zorgthuis_2025-10-01_definitief.csv", ZORGTHUIS_TEXT)
    assert evaluate(inbox_sensors["zorgthuis"], first.cursor).run_requests == []


def test_changed_bytes_under_the_same_name_start_a_new_run(data_dir):
    write_inbox(data_dir, "zorgthuis", ZORGTHUIS_FILE, ZORGTHUIS_TEXT)
    first = evaluate(inbox_sensors["zorgthuis"])
    corrected = ZORGTHUIS_TEXT.replace(";N\n", ";J\n")  # a corrected list, same name
    write_inbox(data_dir, "zorgthuis", ZORGTHUIS_FILE, corrected, age_seconds=200)
    second = evaluate(inbox_sensors["zorgthuis"], first.cursor)
    assert len(second.run_requests) == 1
    assert second.run_requests[0].run_key != first.run_requests[0].run_key


def test_an_unknown_file_is_refused_moved_out_of_the_inbox_and_audited(data_dir):
    write_inbox(data_dir, "zorgthuis", "zorgthuis_lijst_oktober.xlsx", "not a csv")
    result = evaluate(inbox_sensors["zorgthuis"])
    assert result.run_requests == []
    message = result.skip_reason.skip_message
    assert "zorgthuis_lijst_oktober.xlsx: not a known zorgthuis file type" in message
    assert not (data_dir.inbox_of("zorgthuis") / "zorgthuis_lijst_oktober.xlsx").exists()
    [moved] = (data_dir.restricted / "refused" / "zorgthuis").iterdir()
    assert moved.name.endswith("_zorgthuis_lijst_oktober.xlsx")
    [entry] = audit.entries(audit.log_path(data_dir))
    assert entry.event == "file_refused" and entry.fields["file"] == "zorgthuis_lijst_oktober.xlsx"


def test_a_file_only_an_expired_protocol_allows_is_refused_naming_the_validity_end(data_dir):
    # BINC files serve only naft_evaluation, which ends on 31 December 2027
    sensor = build_inbox_sensor("binc", ingestion_jobs["binc"],
                                today=lambda: dt.date(2028, 1, 15))
    header = ";".join(BY_FILE_TYPE["binc_naft_providers"].headers)
    write_inbox(data_dir, "binc", "binc_naft_aanbieders_2024-2025.csv",
                header + "\nA1;2024-2025;Vzw De Brug;VZW;Antwerpen;;\n")
    result = evaluate(sensor)
    assert result.run_requests == []
    message = result.skip_reason.skip_message
    assert "serves only protocol naft_evaluation" in message
    assert "naft_evaluation expired on 2027-12-31" in message
    assert not list(data_dir.inbox_of("binc").iterdir())


def test_the_same_binc_file_while_naft_is_valid_is_admitted(data_dir):
    sensor = build_inbox_sensor("binc", ingestion_jobs["binc"], today=lambda: dt.date(2026, 6, 1))
    header = ";".join(BY_FILE_TYPE["binc_naft_providers"].headers)
    write_inbox(data_dir, "binc", "binc_naft_aanbieders_2024-2025.csv",
                header + "\nA1;2024-2025;Vzw De Brug;VZW;Antwerpen;;\n")
    [request] = evaluate(sensor).run_requests
    assert request.partition_key == "2024-25"


def test_a_school_year_outside_the_partitions_is_refused(data_dir):
    write_inbox(data_dir, "discimus", "discimus_inschrijvingen_2009-2010.csv", "x\n")
    result = evaluate(inbox_sensors["discimus"])
    assert result.run_requests == []
    assert "outside the warehouse's partitions" in result.skip_reason.skip_message


def test_a_file_still_being_written_waits_for_a_later_tick(data_dir):
    write_inbox(data_dir, "zorgthuis", ZORGTHUIS_FILE, ZORGTHUIS_TEXT, age_seconds=0)
    waiting = evaluate(inbox_sensors["zorgthuis"])
    assert waiting.run_requests == [] and "completely written" in waiting.skip_reason.skip_message
    past = time.time() - 120
    os.utime(data_dir.inbox_of("zorgthuis") / ZORGTHUIS_FILE, (past, past))
    assert len(evaluate(inbox_sensors["zorgthuis"], waiting.cursor).run_requests) == 1


def test_the_sensor_never_opens_or_creates_the_duckdb_files(data_dir):
    write_inbox(data_dir, "zorgthuis", ZORGTHUIS_FILE, ZORGTHUIS_TEXT)
    evaluate(inbox_sensors["zorgthuis"])
    assert not data_dir.warehouse.exists() and not data_dir.vault.exists()


def test_the_hash_of_an_unchanged_file_is_taken_from_the_cursor(data_dir, monkeypatch):
    write_inbox(data_dir, "zorgthuis", ZORGTHUIS_FILE, ZORGTHUIS_TEXT)
    cursor = admission.Cursor()
    admission.evaluate(data_dir, "zorgthuis", cursor, load_registry(), dt.date(2026, 1, 1))
    monkeypatch.setattr(admission, "sha256_of", lambda path: (_ for _ in ()).throw(
        AssertionError("hashed again")))
    verdicts = admission.evaluate(data_dir, "zorgthuis", admission.Cursor.load(cursor.dump()),
                                  load_registry(), dt.date(2026, 1, 1))
    assert [v.kind for v in verdicts] == ["seen"]


@pytest.mark.integration
def test_files_an_in_process_run_ingested_start_nothing_and_a_new_file_still_does(data_dir):
    """``make run`` ingests in-process, outside the sensors: opening the UI afterwards (the
    daemon's first tick, with an empty cursor) must not ingest those files again."""
    from orchestration.definitions import defs

    loaded = write_inbox(data_dir, "zorgthuis", ZORGTHUIS_FILE, ZORGTHUIS_TEXT)
    run = defs.resolve_job_def("ingest_zorgthuis_job").execute_in_process(
        partition_key="2025-26", instance=dg.DagsterInstance.ephemeral())
    assert run.success
    assert admission.sha256_of(loaded) in audit.ingested_sha256s(audit.log_path(data_dir))

    first_tick = evaluate(inbox_sensors["zorgthuis"])
    assert first_tick.run_requests == []
    assert "no new file" in first_tick.skip_reason.skip_message

    corrected = write_inbox(data_dir, "zorgthuis", "zorgthuis_2025-10-01_definitief.csv",
                            ZORGTHUIS_TEXT.replace(";N\n", ";J\n"))
    [request] = evaluate(inbox_sensors["zorgthuis"], first_tick.cursor).run_requests
    assert request.run_key == admission.sha256_of(corrected)
    assert request.tags["file"] == corrected.name


def test_only_what_the_audit_trail_shows_as_taken_in_counts_as_ingested(data_dir):
    log = audit.log_path(data_dir)
    common = dict(source="zorgthuis", file_type="zorgthuis_lists", received=1,
                  quarantined=0)
    audit.record("ingestion", path=log, file="a.csv", sha256="a1" * 32, status="loaded",
                 loaded=1, **common)
    audit.record("ingestion", path=log, file="b.csv", sha256="b2" * 32, status="rejected",
                 loaded=0, **common)
    audit.record("file_refused", path=log, file="c.csv", sha256="c3" * 32, source="zorgthuis",
                 reason="unknown file type")
    assert audit.ingested_sha256s(log) == {"a1" * 32, "b2" * 32}
