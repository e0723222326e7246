"""The delivery writer on a tiny warehouse: files, data package, identification, atomicity,
validity and once-only refusals, column checks, request answers and disclosure control."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from stdnum.be import ssn

from orchestration.deliveries import datapackage, requests, writer
from orchestration.deliveries import package_docs, synthetic_twin
from orchestration.foundations import audit
from orchestration.protocols import load_registry, load_registry_from
from orchestration.foundations.warehouse import connect
from tests.deliveries.conftest import add_renewal, build, pupil_key, synthetic_insz
from tests.privacy import insz_in_files

# The writer end to end: DuckDB, the vault, Parquet and CSV, the data package, the audit trail.
pytestmark = pytest.mark.integration

REGISTRY = load_registry()
INSIDE_NAFT = dt.date(2026, 6, 1)


def _folders(p, protocol_id):
    folder = p.outbox / protocol_id
    return sorted(x.name for x in folder.iterdir()) if folder.exists() else []


def _csv(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f, delimiter=";"))


def _audit_events(p):
    return [e.event for e in audit.entries(audit.log_path(p))] if hasattr(audit, "entries") \
        else [json.loads(line)["event"] for line in
              audit.log_path(p).read_text().splitlines()]


def test_the_synthetic_test_numbers_are_valid_insz():
    assert all(ssn.is_valid(synthetic_insz(i)) for i in range(30))


def test_zorgthuis_delivers_every_file_as_parquet_and_csv_with_a_valid_datapackage(warehouse):
    build(warehouse, {"zorgthuis"})
    outcome = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1))
    assert outcome.status == "delivered", outcome.message
    folder = outcome.folder
    assert folder.parent == warehouse.outbox / "zorgthuis"
    # one file per counting date (two dates in the test rows), for both files
    names = sorted(x.name for x in folder.iterdir())
    assert names == sorted(
        [f"{f}_{d}.{ext}" for f in ("funding_counts", "verification_list")
         for d in ("2023-10-02", "2024-02-01") for ext in ("csv", "parquet")]
        + ["datapackage.json", *package_docs.DOCUMENTS, synthetic_twin.TWIN_FOLDER])
    validation = datapackage.validate(folder / "datapackage.json")
    assert validation.valid, validation.errors
    body = json.loads((folder / "datapackage.json").read_text())
    assert body["protocol_id"] == "zorgthuis"
    assert body["recipient"] == REGISTRY.protocol("zorgthuis").parties.recipient.name
    assert body["delivery_date"] == "2024-03-01"
    assert "key_version" in body and body["code_version"]
    by_name = {r["name"]: r for r in body["resources"]}
    for resource in body["resources"]:
        assert resource["hash"].startswith("sha256:") and resource["bytes"] > 0
        if resource["format"] == "csv":  # tabular: the table schema and rows are here
            assert resource["type"] == "table"
            assert resource["schema"]["fields"] and "rows" in resource
        else:  # the Parquet twin: a file resource pointing at its CSV
            assert resource["type"] == "file" and "schema" not in resource
            assert by_name[resource["twin_of"]]["path"] == \
                resource["path"].replace(".parquet", ".csv")


def test_the_package_validates_with_the_frictionless_command_a_recipient_runs(warehouse):
    """``frictionless validate datapackage.json``, the tool's own command line, on the whole
    package (Parquet resources included): VALID; and INVALID on a Parquet file changed after
    delivery."""
    build(warehouse, {"zorgthuis"})
    folder = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1)).folder
    command = [str(Path(sys.executable).with_name("frictionless")), "validate", "--json",
               "datapackage.json"]

    def report() -> dict:
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
        return json.loads(done.stdout)

    first = report()
    assert first["valid"], [t["errors"] for t in first["tasks"] if not t["valid"]]
    kinds = {t["name"]: t["type"] for t in first["tasks"]}
    assert len(kinds) == len(json.loads((folder / "datapackage.json").read_text())["resources"])
    assert {k for k, v in kinds.items() if v == "file"} == {k for k in kinds if "parquet" in k}
    parquet = next(folder.glob("*.parquet"))
    parquet.write_bytes(parquet.read_bytes() + b"\0")
    tampered = report()
    assert not tampered["valid"]
    errors = {(t["name"], e["type"]) for t in tampered["tasks"] for e in t["errors"]}
    name = f"{parquet.stem}-parquet".lower()
    assert {(name, "hash-count"), (name, "byte-count")} <= errors


def test_a_tampered_file_fails_validation(warehouse):
    build(warehouse, {"zorgthuis"})
    folder = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1)).folder
    target = folder / "verification_list_2023-10-02.csv"
    target.write_text(target.read_text() + target.read_text().splitlines()[1] + "\n")
    validation = datapackage.validate(folder / "datapackage.json")
    assert not validation.valid
    assert any("verification_list_2023-10-02" in e for e in validation.errors)


def test_files_hold_exactly_the_registry_columns_in_registry_order(warehouse):
    build(warehouse, {"zorgthuis"})
    folder = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1)).folder
    for f in REGISTRY.protocol("zorgthuis").delivery_files:
        for path in folder.glob(f"{f.id}_*.csv"):
            assert _csv(path)[0] == f.column_names
        for path in folder.glob(f"{f.id}_*.parquet"):
            assert pq.read_schema(path).names == f.column_names


def test_identification_comes_from_the_vault_at_delivery_time_and_is_logged(warehouse):
    build(warehouse, {"zorgthuis"})
    outcome = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1))
    rows = _csv(outcome.folder / "verification_list_2023-10-02.csv")
    header, data = rows[0], rows[1:]
    inszs = {r[header.index("insz")] for r in data}
    assert inszs and inszs <= {synthetic_insz(i) for i in range(4)}
    assert outcome.vault_columns == ["insz"]
    assert "vault_use" in _audit_events(warehouse)
    with connect(warehouse, read_only=True) as con:  # nothing identifying stays behind
        assert con.execute("select count(*) from duckdb_tables() where temporary").fetchone()[0] \
            == 0


def test_delivered_pupil_keys_are_recorded_for_article_19(warehouse):
    build(warehouse, {"zorgthuis"})
    outcome = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1))
    with connect(warehouse, read_only=True) as con:
        rows = con.execute("select delivery_id, protocol_id, file_id, pupil_key from "
                           "audit.delivered_records").fetchall()
        logged = con.execute("select delivery_id, forced_reason from "
                             "deliveries_log.deliveries").fetchall()
    assert {r[2] for r in rows} == {"verification_list"}
    assert {r[3] for r in rows} == {pupil_key(i) for i in range(4)}
    assert {r[0] for r in rows} == {outcome.delivery_id}
    assert logged == [(outcome.delivery_id, None)]


def test_a_second_identical_run_delivers_nothing(warehouse):
    build(warehouse, {"zorgthuis"})
    first = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1))
    second = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1))
    assert second.status == "unchanged"
    assert second.delivery_id == first.delivery_id
    assert _folders(warehouse, "zorgthuis") == [first.delivery_id]


def test_a_delivery_appears_complete_or_not_at_all(warehouse, monkeypatch):
    build(warehouse, {"zorgthuis"})
    real = writer._write_parts
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the second delivery file breaks half-way
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, "_write_parts", failing)
    with pytest.raises(OSError):
        writer.deliver("zorgthuis", today=dt.date(2024, 3, 1))
    assert _folders(warehouse, "zorgthuis") == []  # no final folder, no partial one left
    with connect(warehouse, read_only=True) as con:
        assert con.execute("select count(*) from deliveries_log.deliveries").fetchone()[0] == 0


def test_the_final_folder_is_renamed_from_a_hidden_complete_temporary_one(warehouse,
                                                                         monkeypatch):
    build(warehouse, {"zorgthuis"})
    renames = []
    real = os.rename

    def spy(src, dst):
        src, dst = str(src), str(dst)
        renames.append((src, dst, sorted(os.listdir(src)), os.path.exists(dst)))
        return real(src, dst)

    monkeypatch.setattr(os, "rename", spy)
    outcome = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1))
    (partial, sealed, content, _), (src, dst, published, existed) = renames
    # written and sealed in the restricted zone, under a name of the writing process...
    restricted = str(warehouse.restricted) + os.sep
    assert partial.startswith(restricted) and sealed.startswith(restricted)
    assert os.path.basename(partial).startswith(f".partial-{os.getpid()}-")
    assert "datapackage.json" in content and len(content) == 9 + len(package_docs.DOCUMENTS) + 1
    # ...and moved into the outbox complete, by one rename
    assert src == sealed and dst == str(outcome.folder) and not existed
    assert published == content


def test_antwerpen_okan_refuses_after_its_term_and_writes_nothing(warehouse):
    outcome = writer.deliver("antwerpen_okan", today=dt.date(2026, 11, 22))
    assert outcome.status == "refused"
    assert outcome.message.startswith("refused: antwerpen_okan expired on 2025-08-31")
    assert outcome.refusal is not None and "validity.renewals" in outcome.refusal.remedy
    assert "register a renewal" in outcome.message
    assert not (warehouse.outbox / "antwerpen_okan").exists()


def test_antwerpen_okan_delivers_inside_its_validity_period(warehouse):
    build(warehouse, {"antwerpen_okan"})
    outcome = writer.deliver("antwerpen_okan", today=dt.date(2025, 6, 1))
    assert outcome.status == "delivered", outcome.message
    assert datapackage.validate(outcome.folder / "datapackage.json").valid


def test_antwerpen_okan_delivers_today_once_a_renewal_is_registered(warehouse, registry_copy):
    add_renewal(registry_copy, "antwerpen_okan", "2027-08-31")
    renewed = load_registry_from(registry_copy)
    build(warehouse, {"antwerpen_okan"}, registry=renewed)
    outcome = writer.deliver("antwerpen_okan", registry=renewed, today=dt.date(2026, 11, 22))
    assert outcome.status == "delivered", outcome.message


def test_a_protocol_refuses_before_it_is_valid(warehouse):
    outcome = writer.deliver("naft_evaluation", today=dt.date(2026, 1, 1))
    assert outcome.status == "refused"
    assert "valid only from 2026-03-19" in outcome.message


def test_a_once_only_protocol_refuses_a_second_delivery_unless_forced_with_a_reason(warehouse):
    build(warehouse, {"naft_evaluation"})
    first = writer.deliver("naft_evaluation", today=INSIDE_NAFT)
    assert first.status == "delivered", first.message
    second = writer.deliver("naft_evaluation", today=INSIDE_NAFT)
    assert second.status == "refused"
    assert "allows one delivery only" in second.message and first.delivery_id in second.message
    forced = writer.deliver("naft_evaluation", today=INSIDE_NAFT,
                            now=dt.datetime(2026, 6, 1, 12, 0, 0),
                            force_reason="IDEA Consult lost the files (ticket 123)")
    assert forced.status == "delivered"
    with connect(warehouse, read_only=True) as con:
        reasons = con.execute("select forced_reason from deliveries_log.deliveries "
                              "order by forced_reason nulls first").fetchall()
    assert reasons == [(None,), ("IDEA Consult lost the files (ticket 123)",)]
    assert "forced_action" in _audit_events(warehouse)
    assert len(_folders(warehouse, "naft_evaluation")) == 2


def test_once_only_holds_even_when_the_warehouse_log_is_lost(warehouse):
    build(warehouse, {"naft_evaluation"})
    first = writer.deliver("naft_evaluation", today=INSIDE_NAFT)
    with connect(warehouse) as con:  # e.g. the warehouse was rebuilt from scratch
        con.execute("drop schema deliveries_log cascade")
    again = writer.deliver("naft_evaluation", today=INSIDE_NAFT)
    assert again.status == "refused" and first.delivery_id in again.message


def test_naft_writes_one_file_per_school_year_of_the_protocol_period(warehouse):
    build(warehouse, {"naft_evaluation"})
    folder = writer.deliver("naft_evaluation", today=INSIDE_NAFT).folder
    dov = sorted(p.stem for p in folder.glob("dov_pupils_*.csv"))
    binc = sorted(p.stem for p in folder.glob("binc_trajectories_*.csv"))
    assert dov == [f"dov_pupils_{y}" for y in ("2017-18", "2018-19", "2019-20", "2020-21",
                                               "2021-22", "2022-23", "2023-24", "2024-25")]
    assert binc == [f"binc_trajectories_{y}" for y in ("2020-21", "2021-22", "2022-23",
                                                       "2023-24", "2024-25")]


def test_the_writer_writes_what_the_model_holds_as_the_model_types_it(warehouse):
    # one gate for the whitelist: the contract and the blocking check (tests/deliveries/
    # test_assets.py); the writer neither checks nor casts the model's columns again
    build(warehouse, {"zorgthuis"})
    folder = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1)).folder
    with connect(warehouse, read_only=True) as con:
        for name in ("verification_list", "funding_counts"):
            model = f"zorgthuis__{name}"
            held = con.sql(f"select * exclude (pupil_key) from deliveries.{model}"
                           if name == "verification_list" else
                           f"select * from deliveries.{model}").to_arrow_table()
            written = con.sql(
                f"select * from read_parquet('{folder}/{name}_*.parquet')").to_arrow_table()
            for field in held.schema:
                assert written.schema.field(field.name).type == field.type, (model, field.name)
                assert sorted(map(str, written[field.name].to_pylist())) == \
                    sorted(map(str, held[field.name].to_pylist())), (model, field.name)


def _request(p, protocol_id, name, text):
    folder = requests.inbox_folder(p, protocol_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.csv").write_text(text, encoding="utf-8")


def test_an_admission_request_is_answered_for_exactly_the_requested_people(warehouse):
    build(warehouse, {"vtc_2015_35"}, rows=6)
    unknown = synthetic_insz(25)
    _request(warehouse, "vtc_2015_35", "REQ-1",
             f"insz\n{synthetic_insz(0)}\n{unknown}\n12345678901\n")
    (outcome,) = writer.deliver_protocol("vtc_2015_35", today=dt.date(2026, 1, 5))
    assert outcome.status == "delivered", outcome.message
    rows = _csv(outcome.folder / "admission_check.csv")
    header, data = rows[0], rows[1:]
    by_insz = {}
    for r in data:
        by_insz.setdefault(r[header.index("insz")], []).append(r[header.index("answer_source")])
    assert set(by_insz) == {synthetic_insz(0), unknown, "12345678901"}  # echoed as sent
    assert by_insz[unknown] == ["NONE"] and by_insz["12345678901"] == ["NONE"]
    assert len(by_insz[synthetic_insz(0)]) == 2  # pupil 0 has two answer rows in the model
    again = writer.deliver_protocol("vtc_2015_35", today=dt.date(2026, 1, 5))
    assert [o.status for o in again] == ["no_request"]


def test_the_maastricht_answer_carries_the_request_reference_never_the_insz(warehouse):
    build(warehouse, {"vtc_2015_29"}, rows=2)
    _request(warehouse, "vtc_2015_29", "UM-1",
             f"request_id;insz\nA-1;{synthetic_insz(1)}\nA-2;{synthetic_insz(26)}\n")
    (outcome,) = writer.deliver_protocol("vtc_2015_29", today=dt.date(2026, 1, 5))
    rows = _csv(outcome.folder / "maastricht_pilot.csv")
    assert rows[0][0] == "request_id" and "insz" not in rows[0]
    assert [r[0] for r in rows[1:]] == ["A-1", "A-2"]
    assert insz_in_files(outcome.folder) == {}


def test_a_maastricht_request_without_line_references_is_refused(warehouse):
    build(warehouse, {"vtc_2015_29"}, rows=1)
    _request(warehouse, "vtc_2015_29", "UM-2", f"insz\n{synthetic_insz(1)}\n")
    with pytest.raises(requests.RequestError, match="request_id"):
        writer.deliver_protocol("vtc_2015_29", today=dt.date(2026, 1, 5))


def test_pseudonymised_deliveries_hold_no_insz(warehouse):
    build(warehouse, {"naft_evaluation", "vtc_2015_34"})
    a = writer.deliver("naft_evaluation", today=INSIDE_NAFT)
    b = writer.deliver("vtc_2015_34", today=INSIDE_NAFT)
    assert insz_in_files(a.folder) == {} and insz_in_files(b.folder) == {}


def test_aggregates_are_published_through_disclosure_control_small_areas_hidden(warehouse):
    build(warehouse, {"naft_evaluation"}, rows=3)
    with connect(warehouse) as con:  # 3 young people in 1000, 40 in 2000
        con.execute("delete from deliveries.naft_evaluation__dov_semi_aggregated__microdata")
        con.execute("insert into deliveries.naft_evaluation__dov_semi_aggregated__microdata "
                    "select 'k' || i, '2017-18', case when i < 3 then '1000' else '2000' end, "
                    "i % 4 <> 0 from range(43) t(i)")
    outcome = writer.deliver("naft_evaluation", today=INSIDE_NAFT)
    assert "orchestration.disclosure" in outcome.disclosure["dov_semi_aggregated"]
    rows = _csv(outcome.folder / "dov_semi_aggregated_2017-18.csv")
    assert rows[0] == ["school_year", "area_level", "postcode", "share_in_education"]
    by_area = {(r[1], r[2]): r[3] for r in rows[1:]}
    assert by_area[("POSTCODE", "1000")] == ""  # 3 people: never shown
    assert ("TOTAL", "") in by_area
    # the release record (true figures + pattern) stays in the restricted zone for next time
    record = warehouse.restricted / "disclosure" / "naft_evaluation" / "dov_semi_aggregated"
    assert (record / "record.json").exists()
    assert insz_in_files(warehouse.outbox) == {}


def test_the_fallback_without_the_disclosure_package_suppresses_small_counts():
    import pyarrow as pa

    from orchestration.deliveries import publication

    protocol = REGISTRY.protocol("antwerpen_okan")
    table = pa.table({"school_year": ["2020-21"] * 3, "last_enrolment_in_antwerp": ["J", "N", "J"],
                      "early_school_leaver_count": pa.array([3, 12, 0], pa.int32()),
                      "qualified_leaver_count": pa.array([20, 15, 4], pa.int32()),
                      "early_school_leaving_rate": [3 / 23, 12 / 27, 0.0]})
    result = publication._primary_suppression(
        table, protocol.delivery_file("monitor_early_school_leaving").publication.measures,
        protocol.disclosure.small_count_threshold)
    assert result.table["early_school_leaver_count"].to_pylist() == [None, 12, 0]
    assert result.table["qualified_leaver_count"].to_pylist() == [20, 15, None]
    assert result.table["early_school_leaving_rate"].to_pylist()[0] is None
    assert result.table["early_school_leaving_rate"].to_pylist()[2] is None
    assert result.method.startswith("fallback")


def test_every_refusal_and_delivery_is_in_the_audit_trail(warehouse):
    build(warehouse, {"zorgthuis"})
    writer.deliver("zorgthuis", today=dt.date(2024, 3, 1))
    events = _audit_events(warehouse)
    assert "delivery" in events
    text = audit.log_path(warehouse).read_text()
    assert not any(pupil_key(i) in text for i in range(4))
    assert not any(synthetic_insz(i) in text for i in range(4))
    assert duckdb  # the audit trail is a file, not a warehouse table


def _audited(p, event):
    return [e.fields for e in audit.entries(audit.log_path(p)) if e.event == event]


def test_every_refusal_is_an_audit_event_with_protocol_and_reason_and_no_values(warehouse):
    build(warehouse, {"naft_evaluation"})
    writer.deliver("antwerpen_okan", today=dt.date(2026, 11, 22))
    writer.deliver("naft_evaluation", today=INSIDE_NAFT)
    writer.deliver("naft_evaluation", today=INSIDE_NAFT)
    refused = _audited(warehouse, "delivery_refused")
    assert [(e["protocol"], e["rule"]) for e in refused] == [("antwerpen_okan", "validity"),
                                                            ("naft_evaluation", "once_only")]
    assert all(e["reason"].startswith("refused: ") and e["evaluated_on"] for e in refused)
    text = audit.log_path(warehouse).read_text()
    assert not any(pupil_key(i) in text or synthetic_insz(i) in text for i in range(4))
    assert audit.verify(audit.log_path(warehouse)).ok


def test_an_on_request_protocol_without_requests_outside_its_term_refuses_in_the_audit(
        warehouse, registry_copy):
    import yaml

    path = registry_copy / "vtc_2015_31.yaml"
    body = yaml.safe_load(path.read_text(encoding="utf-8"))
    body["validity"]["valid_until"] = "2020-12-31"
    path.write_text(yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8")
    expired = load_registry_from(registry_copy)
    (outcome,) = writer.deliver_protocol("vtc_2015_31", registry=expired,
                                         today=dt.date(2026, 1, 5))
    assert outcome.status == "refused"
    assert [e["protocol"] for e in _audited(warehouse, "delivery_refused")] == ["vtc_2015_31"]


def test_a_force_reason_is_ignored_and_not_logged_when_nothing_needed_forcing(warehouse):
    build(warehouse, {"zorgthuis"})
    outcome = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1),
                             force_reason="just in case")
    assert outcome.status == "delivered" and outcome.forced_reason is None
    assert outcome.notes and "ignored" in outcome.notes[0]
    assert _audited(warehouse, "forced_action") == []
    with connect(warehouse, read_only=True) as con:
        assert con.execute("select forced_reason from deliveries_log.deliveries").fetchall() \
            == [(None,)]


def test_identical_files_are_resent_only_when_forced_and_then_logged(warehouse):
    build(warehouse, {"zorgthuis"})
    first = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1))
    resent = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1),
                            now=dt.datetime(2024, 3, 1, 12, 0, 0),
                            force_reason="AGODI lost the October list (ticket 9)")
    assert resent.status == "delivered" and resent.delivery_id != first.delivery_id
    (action,) = _audited(warehouse, "forced_action")
    assert action["reason"] == "AGODI lost the October list (ticket 9)"
    assert f"identical to delivery {first.delivery_id}" in action["action"]


def test_a_force_reason_with_an_insz_is_refused_and_never_logged(warehouse):
    build(warehouse, {"naft_evaluation"})
    writer.deliver("naft_evaluation", today=INSIDE_NAFT)
    with pytest.raises(writer.DeliveryError, match="force reason cannot be logged"):
        writer.deliver("naft_evaluation", today=INSIDE_NAFT,
                       force_reason=f"for {synthetic_insz(2)}")
    assert synthetic_insz(2) not in audit.log_path(warehouse).read_text()
    assert len(_folders(warehouse, "naft_evaluation")) == 1


def test_zorgthuis_funding_counts_are_per_school_branch_and_purpose(warehouse):
    funding = REGISTRY.protocol("zorgthuis").delivery_file("funding_counts")
    assert {"institution_number", "branch_number", "funding_purpose"} <= set(funding.column_names)
    assert "branch" in funding.grain and "purpose" in funding.grain
    build(warehouse, {"zorgthuis"})
    folder = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1)).folder
    rows = _csv(folder / "funding_counts_2023-10-02.csv")
    header, data = rows[0], rows[1:]
    assert header[-5:] == ["funding_purpose", "legal_reference", "pupils_with_care_home",
                           "coefficient", "weighted_pupils_with_care_home"]
    assert data


# ------------------------------------------------------------- art. 12: no exchange before start

EARLY_LISTS = [  # (school year, counting date name, counting date, list kind)
    ("2022-23", "first_school_day_of_october", dt.date(2022, 10, 3), "VOORLOPIG"),  # Oct 2022
    ("2022-23", "first_school_day_of_october", dt.date(2022, 10, 3), "DEFINITIEF"),  # Nov 2022
    ("2022-23", "january_15", dt.date(2023, 1, 16), "DEFINITIEF"),  # September 2023
    ("2022-23", "first_school_day_of_february", dt.date(2023, 2, 1), "VOORLOPIG"),  # Feb 2023
    ("2022-23", "first_school_day_of_february", dt.date(2023, 2, 1), "DEFINITIEF"),  # May 2023
]


def _early_zorgthuis_lists(p):
    with connect(p) as con:
        for model in ("zorgthuis__verification_list", "zorgthuis__funding_counts"):
            template = f"deliveries.{model}"
            con.execute(f"create or replace temp table t as select * from {template} limit 1")
            con.execute(f"delete from {template}")
            for year, name, day, kind in EARLY_LISTS:
                con.execute(f"insert into {template} select * replace (? as school_year, "
                            "? as counting_date_name, ? as counting_date, ? as list_kind) "
                            "from t", [year, name, day, kind])


def _delivered_lists(folder):
    lists = set()
    for csv_path in folder.glob("verification_list_*.csv"):
        for row in _csv(csv_path)[1:]:
            header = _csv(csv_path)[0]
            lists.add((row[header.index("counting_date")], row[header.index("list_kind")]))
    return lists


def test_zorgthuis_never_delivers_a_list_whose_exchange_fell_before_the_protocol_took_effect(
        warehouse):
    """Art. 12 "treedt in werking op datum van ondertekening" (6 March 2023); art. 5 fixes each
    list's exchange moment. The counting date alone does not decide: the definitive February
    2023 list (exchanged in May) and the January list (in September) go, the October 2022
    lists and the provisional February 2023 list (exchanged in February) never do."""
    build(warehouse, {"zorgthuis"})
    _early_zorgthuis_lists(warehouse)
    outcome = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1))
    assert outcome.status == "delivered", outcome.message
    assert _delivered_lists(outcome.folder) == {("2023-01-16", "DEFINITIEF"),
                                                ("2023-02-01", "DEFINITIEF")}
    assert not list(outcome.folder.glob("*_2022-10-03.*"))
    assert any("2022-10-03 provisional" in n and "took effect on 2023-03-06" in n
               for n in outcome.notes)
    funding = _csv(outcome.folder / "funding_counts_2023-02-01.csv")
    assert [r[funding[0].index("list_kind")] for r in funding[1:]] == ["DEFINITIEF"]


def test_a_list_exchanged_before_the_start_goes_only_under_an_arrangement_the_registry_quotes(
        warehouse, registry_copy):
    import yaml

    path = registry_copy / "zorgthuis.yaml"
    body = yaml.safe_load(path.read_text(encoding="utf-8"))
    body["validity"]["covered_before_start"] = [{
        "counting_date": "2022-10-03", "list_kind": "definitive",
        "arrangement": "test: an earlier agreement covered the definitive October 2022 list",
        "protocol_wording": "(test wording of the earlier agreement)"}]
    path.write_text(yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8")
    registry = load_registry_from(registry_copy)
    build(warehouse, {"zorgthuis"})
    _early_zorgthuis_lists(warehouse)
    outcome = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1), registry=registry)
    assert _delivered_lists(outcome.folder) == {("2022-10-03", "DEFINITIEF"),
                                                ("2023-01-16", "DEFINITIEF"),
                                                ("2023-02-01", "DEFINITIEF")}


def test_a_processors_answer_fills_what_passes_and_reports_the_rest_without_values(warehouse):
    """The writer loads the processor's answers after the hand-off: an accepted row fills the
    file, a rejected one is told in the outcome and the audit trail by file, row and rule."""
    from orchestration.deliveries import hand_off

    from orchestration.deliveries.pseudonyms import CODE_ALPHABET, CODE_LETTERS, scheme_of
    from orchestration.deliveries.spec import model_name

    build(warehouse, {"vtc_2015_34"})
    protocol = REGISTRY.protocol("vtc_2015_34")
    delivery = next(f for f in protocol.delivery_files if f.processor_hand_off)
    key = delivery.processor_hand_off.key
    with connect(warehouse) as con:  # keys of the form dbt's pseudonym macro gives them
        con.execute(f"""update deliveries.{model_name(protocol.id, delivery.id)}
                        set {key} = '{scheme_of(protocol).prefix}' || translate(
                            left(md5({key}), {CODE_LETTERS}), '0123456789abcdef',
                            '{CODE_ALPHABET}')""")
    writer.deliver("vtc_2015_34", today=INSIDE_NAFT)
    handed = sorted(hand_off.outbox_folder(warehouse, protocol, delivery).glob("*.csv"))
    keys = [row[0] for path in handed for row in _csv(path)[1:]]
    assert len(keys) >= 2, "the tiny warehouse hands off too few addresses for this test"
    folder = hand_off.answer_folder(warehouse, protocol, delivery)
    folder.mkdir(parents=True)
    (folder / "antwoord.csv").write_text(
        f"key;statistical_sector\r\n{keys[0]};21004A279\r\n{keys[1]};21004a27\r\n",
        encoding="utf-8")
    outcome = writer.deliver("vtc_2015_34", today=INSIDE_NAFT)
    notes = " | ".join(outcome.notes)
    assert "antwoord.csv: partly_accepted (received 2, accepted 1, rejected 1)" in notes
    assert "row 2: invalid_answer" in notes and "statistical_sector" in notes
    assert not any(k in notes for k in keys) and "21004a27" not in notes
    event = _audited(warehouse, "processor_hand_off")[-1]
    assert event["answer_files"] == [{"file": "antwoord.csv", "status": "partly_accepted",
                                      "received": 2, "accepted": 1, "rejected": 1,
                                      "rules": ["invalid_answer"]}]
    rows = [r for path in outcome.folder.glob(f"{delivery.id}*.csv")
            for r in csv.DictReader(path.open(encoding="utf-8"), delimiter=";")]
    sectors = {r["school_year_key"]: r["residence_statistical_sector"] for r in rows}
    assert sectors[keys[0]] == "21004A279" and sectors[keys[1]] == ""
