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


def _trail_of_two_protocols(log):
    audit.record("delivery", path=log, protocol="zorgthuis", recipient="AGODI",
                 files=[{"file": "verification_list.csv", "sha256": "ab" * 32}], key_version=None,
                 delivery_id="zorgthuis-1")
    audit.record("delivery_refused", path=log, protocol="antwerpen_okan",
                 reason="antwerpen_okan expired on 2025-08-31")
    audit.record("vault_use", path=log, protocol="zorgthuis", purpose="identification")
    audit.record("erasure", path=log, rule="zorgthuis_lists", counts={"rows": 3})


def _tail(capsys, log, *args: str) -> list[str]:
    assert audit.main(["tail", "--path", str(log), *args]) == 0
    return capsys.readouterr().out.splitlines()


def test_tail_filters_by_protocol_event_and_day(tmp_path, capsys):
    log = tmp_path / "audit.jsonl"
    _trail_of_two_protocols(log)
    today = dt.datetime.now(dt.UTC).date()
    zorgthuis = _tail(capsys, log, "--protocol", "zorgthuis")
    assert [line.split()[4] for line in zorgthuis] == ["delivery", "vault_use"]
    refused = _tail(capsys, log, "--event", "delivery_refused", "--event", "erasure")
    assert [line.split()[4] for line in refused] == ["delivery_refused", "erasure"]
    assert len(_tail(capsys, log, "--since", today.isoformat(), "--until",
                     today.isoformat())) == 4
    assert _tail(capsys, log, "--since", (today + dt.timedelta(days=1)).isoformat()) == []
    assert _tail(capsys, log, "--until", (today - dt.timedelta(days=1)).isoformat()) == []
    assert len(_tail(capsys, log, "-n", "1", "--protocol", "zorgthuis")) == 1


def test_tail_is_readable_by_default_and_json_on_request(tmp_path, capsys):
    log = tmp_path / "audit.jsonl"
    _trail_of_two_protocols(log)
    lines = _tail(capsys, log)
    assert len(lines) == 4
    delivery = lines[0]
    assert delivery.startswith("#1 ") and " UTC  delivery " in delivery
    assert "zorgthuis" in delivery and "1 file(s): verification_list.csv" in delivery
    assert "{" not in delivery and "ab" * 32 not in delivery  # no JSON, hashes shortened
    assert "counts: {rows=3}" in lines[3]
    raw = _tail(capsys, log, "--json")
    assert json.loads(raw[0].split(" ", 3)[3])["delivery_id"] == "zorgthuis-1"


def _synthetic_people(n: int):
    """Names, street addresses and birth dates as the synthetic generator draws them."""
    from faker import Faker

    fake = Faker("nl_BE")
    fake.seed_instance(20261207)
    return [(fake.name(), fake.street_address(), fake.date_of_birth(minimum_age=3,
                                                                      maximum_age=18))
            for _ in range(n)]


@pytest.mark.parametrize("kind", ["name", "surname_first", "address", "postcode_place",
                                  "birth_date_belgian", "birth_date_dutch"])
def test_names_birth_dates_and_addresses_are_refused_like_national_numbers(log, kind):
    people = _synthetic_people(60)
    for name, street, born in people:
        given, surname = name.split(" ", 1)
        value = {"name": name, "surname_first": f"{surname}, {given}",
                 "address": street, "postcode_place": "2990 Wuustwezel",
                 "birth_date_belgian": f"{born:%d/%m/%Y}",
                 "birth_date_dutch": f"{born:%d-%m-%Y}"}[kind]
        reason = f"file rejected: got ['85x', '{value}']"  # as a careless message would quote
        with pytest.raises(audit.AuditRefused, match="looks like a"):
            audit.record("ingestion", path=log, file="f.csv", sha256=SHA, source="duo",
                         file_type="duo_registrations", status="rejected", received=1,
                         loaded=0, quarantined=1, reason=reason)
    assert not log.exists() or not log.read_text()


def test_what_the_warehouse_itself_writes_passes_the_guard(log):
    """File names with ISO dates, rules, counts, positions and the registry's own labels."""
    from orchestration.protocols import load_registry
    from orchestration.retention.plan import protocol_rule_label

    texts = ["duo_onderwijsdeelnemers_2025-10-15.csv: rejected whole (header): no column of the "
             "contract in the first line (a file without its header row?); unexpected columns "
             "at positions 1, 2, 3 (11 columns received, 11 expected for duo_registrations)",
             "erased on 2057-01-01: zorgthuis: 30 years after receipt (P30Y)",
             "rows of rijksregister_children born before 2013-01-01",
             "discimus_leerlingkenmerken_2023-2024.csv row 2: invalid_insz (INSZ); row 3: "
             "invalid_flag (Thuistaal_niet_Nederlands)",
             "held for the data steward (shrink): 0 of 0 rows would load, where the slot now "
             "holds 2856 loaded rows"]
    registry = load_registry()
    texts += [protocol_rule_label(p) for p in registry.protocols.values()]

    def strings(obj):
        if isinstance(obj, dict):
            return [s for v in obj.values() for s in strings(v)]
        if isinstance(obj, list):
            return [s for v in obj for s in strings(v)]
        return [obj] if isinstance(obj, str) else []

    parties = [s for p in registry.protocols.values() for s in strings(p.parties.model_dump())]
    assert len(parties) > 20  # organisations, their roles and contacts' functions
    texts += parties
    for text in texts:
        audit.record("forced_action", path=log, action="guard check", reason=text)
    assert len(list(audit.entries(log))) == len(texts)
