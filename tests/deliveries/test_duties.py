"""The duties of every protocol that no delivery rule carried before (issue 15, points 15-17):
breach notification (art. 9/10), notice and termination (art. 11/12), permission before further
sharing (art. 4). Real deliveries on a tiny warehouse (real DuckDB, vault, files, audit trail),
the real Dagster job and schedule evaluation, registry copies for the facts a steward records."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest
import yaml

from orchestration.compliance import breach, register, termination
from orchestration.compliance.jobs import record_data_breach_job
from orchestration.deliveries import exchanges, writer
from orchestration.foundations import audit
from orchestration.protocols import load_registry, load_registry_from
from tests.deliveries.conftest import build

pytestmark = pytest.mark.integration

DAY = dt.date(2024, 3, 1)


def _edit(definitions, protocol_id, change) -> None:
    path = definitions / f"{protocol_id}.yaml"
    body = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(body)
    path.write_text(yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _events(p, name):
    return [e for e in audit.entries(audit.log_path(p)) if e.event == name]


# ------------------------------------------------------------------ 15. breach notification


def test_a_breach_is_audited_registered_and_notified_to_each_protocols_officers(warehouse):
    build(warehouse, {"zorgthuis", "duo_leerplicht"})
    zorg = writer.deliver("zorgthuis", today=DAY)
    assert zorg.delivered, zorg.message
    result = record_data_breach_job.execute_in_process(run_config={"ops": {
        "record_data_breach": {"config": {
            "what": "outbox folder readable by every user of the server for two days",
            "discovered_at": "2024-03-04T09:30", "occurred_on": "2024-03-02",
            "deliveries": [zorg.delivery_id], "protocols": ["duo_leerplicht"]}}}})
    assert result.success
    [event] = _events(warehouse, "data_breach")
    fields = event.fields
    assert fields["protocols"] == ["duo_leerplicht", "zorgthuis"]
    assert fields["deliveries"] == [zorg.delivery_id]
    assert fields["recipients"] == [load_registry().protocol("zorgthuis").parties.recipient.name]
    assert fields["authority_deadline"] == "2024-03-07T09:30"  # GDPR art. 33: 72 hours
    notices = {e.fields["protocol"]: e for e in _events(warehouse, "breach_notification")}
    assert set(notices) == {"zorgthuis", "duo_leerplicht"}
    folder = breach.breaches_folder(warehouse) / fields["breach_id"]
    zorg_text = (folder / "zorgthuis.md").read_text()
    assert "functionaris voor gegevensbescherming van Opgroeien regie" in zorg_text
    assert "functionaris voor gegevensbescherming van AGODI" in zorg_text
    assert '"zonder onredelijke vertraging"' in zorg_text and "art. 10" in zorg_text
    assert "2024-03-07T09:30" in zorg_text and zorg.delivery_id in zorg_text
    assert "functionaris voor gegevensbescherming van DUO" in (folder / "duo_leerplicht.md") \
        .read_text()
    page = register.register_path(warehouse).read_text()
    assert fields["breach_id"] in page and "outbox folder readable" in page
    assert audit.verify(audit.log_path(warehouse)).ok


def test_a_breach_description_with_a_personal_value_or_an_unknown_delivery_is_refused(
        warehouse):
    with pytest.raises(breach.BreachError, match="without personal values"):
        breach.record_breach("list of 85.07.30-033.28 mailed to the wrong school",
                             dt.datetime(2024, 3, 4, 9), protocols=["zorgthuis"], p=warehouse)
    with pytest.raises(breach.BreachError, match="no delivery"):
        breach.record_breach("lost laptop", dt.datetime(2024, 3, 4, 9),
                             deliveries=["20240301T000000Z"], p=warehouse)
    assert not _events(warehouse, "data_breach")


def test_the_breach_command_records_and_names_the_deadline(warehouse, capsys):
    assert breach.main(["--what", "backup disk lost in transit", "--discovered-at",
                        "2024-03-04T09:30", "--protocol", "vtc_2015_34"]) == 0
    out = capsys.readouterr().out
    assert "2024-03-07T09:30" in out
    [event] = _events(warehouse, "data_breach")
    text = (breach.breaches_folder(warehouse) / event.fields["breach_id"] / "vtc_2015_34.md") \
        .read_text()
    assert "names no breach procedure" in text  # the 2015 authorisation has no such article


# ------------------------------------------------------------------ 16. notice and termination


def _with_notice(definitions, given_on="2024-03-01"):
    _edit(definitions, "zorgthuis", lambda b: b["validity"].update(notice={
        "given_on": given_on, "given_by": "Opgroeien regie", "reference": "test letter 1"}))
    return load_registry_from(definitions)


def test_notice_ends_the_protocol_after_the_registry_notice_period(warehouse, registry_copy):
    registry = _with_notice(registry_copy)
    zorg = registry.protocol("zorgthuis")
    assert zorg.validity.notice_period == "P3M"
    assert zorg.validity.ends_by_notice_on == dt.date(2024, 6, 1)
    build(warehouse, {"zorgthuis"}, registry=registry)
    # during the notice period deliveries go on
    assert writer.deliver("zorgthuis", today=dt.date(2024, 5, 31), registry=registry).delivered
    # from the end date: refused, naming the notice
    refused = writer.deliver("zorgthuis", today=dt.date(2024, 6, 1), registry=registry)
    assert refused.status == "refused"
    assert "terminated" in refused.message and "2024-06-01" in refused.message
    [event] = [e for e in _events(warehouse, "delivery_refused")]
    assert event.fields["rule"] == "validity"
    # the schedule: the September exchange after the end is skipped, naming the notice
    decision = exchanges.decide(zorg, dt.date(2024, 9, 16))
    assert not decision.due and "terminated" in decision.reason
    assert exchanges.decide(load_registry().protocol("zorgthuis"), dt.date(2024, 9, 16)).due


def test_a_termination_is_recorded_once_in_the_audit_trail_and_the_register(warehouse,
                                                                             registry_copy):
    registry = _with_notice(registry_copy)
    assert termination.record_terminations(warehouse, registry) == ["zorgthuis"]
    assert termination.record_terminations(warehouse, registry) == []
    [event] = _events(warehouse, "protocol_terminated")
    assert (event.fields["ends_on"], event.fields["given_by"]) == ("2024-06-01",
                                                                   "Opgroeien regie")
    register.write(warehouse, registry, dt.date(2024, 7, 1))
    page = register.register_path(warehouse).read_text()
    assert "terminated by notice of 2024-03-01" in page and "ends on 2024-06-01" in page
    assert "terminated: no delivery allowed" in page


def test_the_schedule_stops_through_dagster_after_the_end(registry_copy):
    from zoneinfo import ZoneInfo

    from orchestration.deliveries.jobs import build_delivery_jobs
    from orchestration.deliveries.schedules import build_delivery_schedules

    registry = _with_notice(registry_copy)
    schedule = build_delivery_schedules(registry, build_delivery_jobs(registry))["zorgthuis"]
    at = dt.datetime(2024, 9, 16, 7, tzinfo=ZoneInfo("Europe/Brussels"))
    data = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=at))
    assert not data.run_requests and "terminated" in (data.skip_message or "")


# ------------------------------------------------------------------ 17. further sharing


THIRD_PARTY_FILE = {
    "id": "counts_for_third_party",
    "description": "Test: aggregated counts shared onward with a third party.",
    "protocol_wording": "(test)", "grain": "one row per school and counting date",
    "kind": "aggregate", "person_level": False, "audience": "third_party",
    "suppress_small_counts": False,
    "period": {"school_year_from": "2022-23", "one_file_per": "delivery"},
    "variables": [
        {"name": "school_year", "type": "varchar", "description": "school year",
         "protocol_wording": "(test)"},
        {"name": "pupils", "type": "integer", "description": "pupils",
         "protocol_wording": "(test)"}],
}


def _third_party(definitions, permissions=()):
    def change(body):
        body["delivery_files"].append(dict(THIRD_PARTY_FILE))
        body["disclosure"]["further_sharing"]["permissions"] = list(permissions)
    _edit(definitions, "zorgthuis", change)
    return load_registry_from(definitions)


def test_a_file_for_a_third_party_waits_for_the_prior_notice_to_opgroeien(warehouse,
                                                                          registry_copy):
    registry = _third_party(registry_copy)
    build(warehouse, {"zorgthuis"}, registry=registry)
    refused = writer.deliver("zorgthuis", today=DAY, registry=registry)
    assert refused.status == "refused"
    assert "prior notice of Opgroeien regie" in refused.message
    assert "voorafgaandelijk aan Opgroeien regie worden gemeld" in refused.message
    assert not (warehouse.outbox / "zorgthuis").exists() or \
        not list((warehouse.outbox / "zorgthuis").iterdir())
    [event] = _events(warehouse, "delivery_refused")
    assert event.fields["rule"] == "further_sharing"


def test_the_file_goes_once_the_notice_is_recorded_in_the_registry(warehouse, registry_copy):
    registry = _third_party(registry_copy, [{
        "party": "Opgroeien regie", "kind": "prior_notice", "given_on": "2024-02-20",
        "file": "counts_for_third_party", "reference": "test mail 2024-02-20"}])
    build(warehouse, {"zorgthuis"}, registry=registry)
    assert writer.deliver("zorgthuis", today=DAY, registry=registry).delivered
    # recorded after the delivery day: not yet
    assert writer.sharing_refusal(registry.protocol("zorgthuis"), dt.date(2024, 2, 19))


def test_naft_needs_the_consent_of_both_dov_and_opgroeien(registry_copy):
    def change(body):
        f = dict(THIRD_PARTY_FILE)
        body["delivery_files"].append(f)
        body["disclosure"]["further_sharing"]["permissions"] = [{
            "party": "DOV", "kind": "consent", "given_on": "2026-05-01",
            "file": "counts_for_third_party", "reference": "test"}]
    _edit(registry_copy, "naft_evaluation", change)
    naft = load_registry_from(registry_copy).protocol("naft_evaluation")
    refusal = writer.sharing_refusal(naft, dt.date(2026, 6, 1))
    assert refusal is not None and "no consent of Opgroeien" in refusal.reason
    assert "DOV" not in refusal.reason.split("no consent of", 1)[1]
