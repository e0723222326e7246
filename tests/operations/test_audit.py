"""The audit trail: append-only, hash-chained, verifiable, and free of personal values."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing

import pytest

from orchestration.ingestion.load import FileResult
from orchestration.foundations import audit
from tests.operations.conftest import make_insz

pytestmark = pytest.mark.usefixtures("test_master_key")
SHA = "ab" * 32


@pytest.fixture
def log(tmp_path):
    return tmp_path / "audit" / "audit_log.jsonl"


def fill(log, n: int) -> None:
    for i in range(n):
        audit.record("forced_action", path=log, action=f"test action {i}", reason="a test")


def rewrite_line(log, position: int, change) -> None:
    lines = log.read_text().splitlines()
    lines[position - 1] = change(lines[position - 1])
    log.write_text("\n".join(lines) + "\n")


def test_entries_are_appended_in_order_and_each_chains_to_the_one_before(log):
    fill(log, 3)
    entries = list(audit.entries(log))
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev == audit.GENESIS
    assert entries[1].prev == entries[0].hash and entries[2].prev == entries[1].hash
    result = audit.verify(log)
    assert result.ok and result.entries == 3 and result.last.seq == 3


def test_a_changed_entry_is_detected_and_named_by_its_position(log):
    fill(log, 5)

    def tamper(line: str) -> str:
        obj = json.loads(line)
        obj["fields"]["reason"] = "something else"
        return json.dumps(obj)

    rewrite_line(log, 3, tamper)
    result = audit.verify(log)
    assert not result.ok and result.first_broken == 3
    assert "does not match its hash" in result.problem
    assert "entry 3" in str(result)


def test_a_changed_entry_with_a_recomputed_hash_breaks_the_chain_at_the_next_entry(log):
    fill(log, 4)

    def forge(line: str) -> str:
        obj = json.loads(line)
        obj["fields"]["reason"] = "forged"
        obj["hash"] = audit.entry_hash(obj["seq"], obj["at"], obj["event"], obj["fields"],
                                       obj["prev"])
        return json.dumps(obj)

    rewrite_line(log, 2, forge)
    result = audit.verify(log)
    assert (result.ok, result.first_broken) == (False, 3)
    assert "does not chain" in result.problem


def test_a_removed_entry_is_detected_where_the_sequence_breaks(log):
    fill(log, 4)
    lines = log.read_text().splitlines()
    del lines[1]
    log.write_text("\n".join(lines) + "\n")
    result = audit.verify(log)
    assert (result.ok, result.first_broken) == (False, 2)


def test_the_verify_command_reports_the_first_broken_entry_and_fails(log, capsys):
    fill(log, 3)
    assert audit.main(["verify", "--path", str(log)]) == 0
    rewrite_line(log, 2, lambda line: line.replace("a test", "a lie"))
    assert audit.main(["verify", "--path", str(log)]) == 1
    assert "BROKEN at entry 2" in capsys.readouterr().out


def test_an_append_after_a_torn_last_line_keeps_the_torn_line_as_the_first_broken_entry(log):
    fill(log, 2)
    with open(log, "ab") as f:
        f.write(b'{"seq": 3, "at": "2026-')  # a crash in the middle of a write
    audit.record("forced_action", path=log, action="after the crash", reason="a test")
    result = audit.verify(log)
    assert (result.ok, result.first_broken) == (False, 3)
    assert [e.seq for e in audit.trusted_entries(log, result)] == [1, 2]


def _append_many(args):
    path, worker = args
    for i in range(20):
        audit.record("forced_action", path=path, action=f"worker {worker} entry {i}",
                     reason="concurrency test")


@pytest.mark.slow  # starts fresh interpreters
def test_several_processes_appending_at_once_keep_one_valid_chain(log):
    log.parent.mkdir(parents=True)
    # spawn, not fork: forking a pytest process in which DuckDB and Dagster threads already run
    # can copy a held lock into a worker, which then hangs (seen once in a full run).
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.map_async(_append_many, [(log, w) for w in range(4)]).get(timeout=300)
    result = audit.verify(log)
    assert result.ok and result.entries == 80


def test_a_national_number_is_refused_anywhere_in_an_entry(log):
    insz = make_insz(dt.date(2012, 3, 4))
    with pytest.raises(audit.AuditRefused, match="national number"):
        audit.record("forced_action", path=log, action="x", reason=f"pupil {insz} asked")
    with pytest.raises(audit.AuditRefused, match="national number"):
        audit.record("erasure", path=log, rule="r", counts={"n": 1}, people=[{"id": insz}])
    assert not log.exists()


def test_a_pseudonym_shaped_value_is_refused_unless_the_field_names_a_sha256(log):
    pupil_key = "3f" * 32
    with pytest.raises(audit.AuditRefused, match="pseudonym"):
        audit.record("vault_use", path=log, protocol="zorgthuis", purpose="list",
                     pupil=pupil_key)
    with pytest.raises(audit.AuditRefused, match="pseudonym"):
        audit.record("vault_use", path=log, protocol="zorgthuis", purpose="DOM1-" + "a" * 32)
    entry = audit.record("delivery", path=log, protocol="zorgthuis", recipient="AGODI",
                         key_version=None, files=[{"file": "list.csv", "sha256": SHA}])
    assert entry.fields["files"][0]["sha256"] == SHA


def test_unknown_event_types_and_missing_fields_are_refused(log):
    with pytest.raises(audit.AuditRefused, match="unknown audit event type"):
        audit.record("delivered", path=log, protocol="zorgthuis")
    with pytest.raises(audit.AuditRefused, match=r"without \['recipient'"):
        audit.record("delivery", path=log, protocol="zorgthuis", files=[], key_version=1)


def test_ingestion_results_become_entries_but_duplicates_and_unknown_files_do_not(log,
                                                                                   monkeypatch):
    monkeypatch.setattr(audit, "log_path", lambda p=None: log)
    results = [
        FileResult("zorgthuis_2025-10-01_voorlopig.csv", "zorgthuis_lists", SHA, "loaded",
                   school_year="2025-26", received=3, loaded=2, quarantined=1,
                   rule_counts={"invalid_flag:MFC_niet_vrijwillig": 1}),
        FileResult("zorgthuis_2025-10-01_voorlopig.csv", "zorgthuis_lists", SHA, "duplicate"),
        FileResult("notes.txt", "unknown", "", "rejected", message="not a known file type"),
    ]
    assert audit.record_ingestion(results, run_id="run-1") == 1
    [entry] = audit.entries(log)
    assert entry.event == "ingestion"
    assert (entry.fields["received"], entry.fields["loaded"], entry.fields["quarantined"]) \
        == (3, 2, 1)
    assert entry.fields["source"] == "zorgthuis" and entry.fields["sha256"] == SHA
