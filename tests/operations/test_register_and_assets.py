"""The steward's view: the processing register comes from the registry and the audit log, the
audit log asset shows the chain's state, and every ended run is audited."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import pytest

from orchestration.foundations import audit
from orchestration.compliance import register
from orchestration.compliance.assets import (AUDIT_LOG_KEY, CHAIN_CHECK, REGISTER_KEY, audit_log,
                                             processing_register)
from orchestration.compliance.sensors import build_run_audit_sensors, run_fields
from orchestration.protocols import load_registry

pytestmark = pytest.mark.usefixtures("test_master_key")
REGISTRY = load_registry()
SHA = "d4" * 32


def test_the_register_has_a_section_per_protocol_with_the_registrys_facts(data_dir):
    page = register.render(REGISTRY, [], dt.date(2026, 11, 22))
    for pid in REGISTRY.ids:
        p = REGISTRY.protocol(pid)
        section = page.split(f"## {pid}: ", 1)[1].split("\n## ", 1)[0]
        assert p.purpose.split()[0] in section
        assert p.parties.recipient.name in section
        assert register.GROUNDS[p.legal_basis.ground] in section
        for measure in p.security:
            assert register._cell(measure) in section
        for f in p.delivery_files:
            assert f"| {f.id} |" in section
    zorgthuis = page.split("## zorgthuis: ", 1)[1]
    assert "zorgthuis: 30 years after receipt (P30Y)" in zorgthuis
    okan = page.split("## antwerpen_okan: ", 1)[1].split("\n## ", 1)[0]
    assert "expired: no delivery allowed" in okan
    assert register.NOT_RECORDED in okan  # controller contact and third-country transfers


def test_deliveries_recorded_in_the_audit_log_appear_under_their_protocol(data_dir):
    audit.record("delivery", protocol="zorgthuis", recipient="AGODI", key_version=None,
                 files=[{"file": "verification_list_2025-10-01.csv", "sha256": SHA}])
    audit.record("vault_use", protocol="zorgthuis", purpose="INSZ on the verification list",
                 persons=12)
    path, deliveries = register.write(data_dir, REGISTRY, dt.date(2026, 11, 22))
    page = path.read_text()
    assert path == data_dir.outbox / "register" / "processing_register.md"
    assert deliveries == 1
    zorgthuis = page.split("## zorgthuis: ", 1)[1]
    assert "verification_list_2025-10-01.csv" in zorgthuis and SHA[:12] in zorgthuis
    assert "Vault uses (re-identification) recorded: 1." in zorgthuis
    assert "Deliveries recorded in the audit trail: 0" in page.split("## duo_leerplicht: ")[1]


def metadata_of(result, key: dg.AssetKey) -> dict:
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    return event.materialization.metadata


def materialize(instance):
    return dg.materialize([audit_log, processing_register], instance=instance)


@pytest.mark.integration
def test_the_steward_assets_show_the_chain_state_and_link_the_register(data_dir):
    audit.record("forced_action", action="test", reason="a test")
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(instance)
    assert result.success
    log_md = metadata_of(result, AUDIT_LOG_KEY)
    assert log_md["entry_count"].value == 1 and log_md["chain_verified"].value is True
    assert log_md["last_entry"].value.startswith("#1 forced_action")
    assert log_md["path"].value.endswith("audit/audit_log.jsonl")
    reg_md = metadata_of(result, REGISTER_KEY)
    assert reg_md["path"].value.endswith("register/processing_register.md")
    assert reg_md["protocols"].value == len(REGISTRY.ids)
    [check] = result.get_asset_check_evaluations()
    assert check.check_name == CHAIN_CHECK and check.passed


@pytest.mark.integration
def test_a_tampered_log_fails_the_chain_check_naming_the_entry(data_dir):
    for i in range(3):
        audit.record("forced_action", action=f"test {i}", reason="a test")
    log = audit.log_path(data_dir)
    lines = log.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["fields"]["reason"] = "rewritten"
    lines[1] = json.dumps(entry)
    log.write_text("\n".join(lines) + "\n")
    result = dg.materialize([audit_log], instance=dg.DagsterInstance.ephemeral(),
                            raise_on_error=False)
    [check] = result.get_asset_check_evaluations()
    assert not check.passed and "entry 2" in check.description
    assert metadata_of(result, AUDIT_LOG_KEY)[
        "first_broken_entry"].value == 2


@pytest.mark.integration
def test_entries_cut_off_the_end_of_the_log_are_noticed_at_the_next_check(data_dir):
    for i in range(3):
        audit.record("forced_action", action=f"test {i}", reason="a test")
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize([audit_log], instance=instance).success
    log = audit.log_path(data_dir)
    log.write_text("\n".join(log.read_text().splitlines()[:2]) + "\n")  # still a valid chain
    assert audit.verify(log).ok
    result = dg.materialize([audit_log], instance=instance, raise_on_error=False)
    [check] = result.get_asset_check_evaluations()
    assert not check.passed and "removed from its end" in check.description


@pytest.mark.integration
def test_a_finished_run_is_recorded_with_its_job_and_assets(data_dir):
    @dg.asset(key=["marts", "example"])
    def example():
        return 1

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([example], instance=instance, tags={"protocol": "zorgthuis"})
    run = instance.get_run_by_id(result.run_id)
    [record] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)
    success_event = record.dagster_event
    context = dg.build_run_status_sensor_context(
        sensor_name="audit_run_success_sensor", dagster_event=success_event,
        dagster_instance=instance, dagster_run=run)
    fields = run_fields(context, "success")
    assert fields["assets"] == ["marts/example"] and fields["protocol"] == "zorgthuis"
    success_sensor = build_run_audit_sensors()[0]
    success_sensor(context)  # as the daemon does when the run ends
    [entry] = audit.entries(audit.log_path(data_dir))
    assert (entry.event, entry.fields["status"], entry.fields["run_id"]) == \
        ("materialisation", "success", result.run_id)


def test_the_register_asset_depends_on_the_audit_log():
    assert AUDIT_LOG_KEY in processing_register.asset_deps[REGISTER_KEY]


def test_the_register_is_written_after_every_delivery_of_the_main_job():
    """So the register of a run counts that run's deliveries (it used to run before them)."""
    from orchestration.definitions import defs
    from orchestration.platform.asset_keys import delivery_asset_key

    deliveries = {delivery_asset_key(pid) for pid in REGISTRY.ids}
    assert deliveries <= set(processing_register.asset_deps[REGISTER_KEY])
    job = defs.resolve_job_def("warehouse_job")
    assert deliveries | {REGISTER_KEY} <= job.asset_layer.executable_asset_keys
