"""The Dagster side: a failing blocking column check holds back the delivery; a refused protocol
does not fail the run but shows as a failed WARN check and an audit event; a once-only protocol
is forced through run config with a logged reason; metadata shows text reference, rows and
schema, never values."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import pytest

from orchestration.deliveries import assets
from orchestration.foundations import audit
from orchestration.protocols import load_registry
from orchestration.foundations.settings import paths
from orchestration.foundations.warehouse import connect
from tests.deliveries.conftest import build, pupil_key, synthetic_insz

REGISTRY = load_registry()
INSIDE_NAFT = dt.date(2026, 6, 1)
REASON = "IDEA Consult lost the files (ticket 123)"

pytestmark = pytest.mark.integration  # Dagster materialisations


def _fake_dbt_models(protocol_id: str, extra_column: str | None = None) -> dg.AssetsDefinition:
    """Stands in for the dbt models of one protocol: builds their tables like dbt would."""
    keys = [assets.model_asset_key(protocol_id, f.id)
            for f in REGISTRY.protocol(protocol_id).delivery_files]

    @dg.multi_asset(specs=[dg.AssetSpec(k, group_name=assets.group_name(protocol_id))
                           for k in keys], name=f"fake_dbt_{protocol_id}")
    def _models():
        build(paths(), {protocol_id})
        if extra_column:
            with connect() as con:
                con.execute(f"alter table deliveries.{keys[0].path[-1]} "
                            f"add column {extra_column} date")
        for k in keys:
            yield dg.MaterializeResult(asset_key=k)

    return _models


def _run(protocol_id: str, extra_column: str | None = None, *, today: dt.date | None = None,
         force_reason: str | None = None, raise_on_error: bool = False
         ) -> dg.ExecuteInProcessResult:
    protocol = REGISTRY.protocol(protocol_id)
    run_config = None
    if force_reason is not None:  # what the launchpad of deliver_<protocol_id> takes
        run_config = {"ops": {f"delivery__{protocol_id}": {"config": {
            "force_reason": force_reason}}}}
    return dg.materialize(
        [_fake_dbt_models(protocol_id, extra_column),
         assets.build_delivery_asset(protocol, today=today),
         assets.build_column_checks([protocol_id])],
        run_config=run_config, raise_on_error=raise_on_error)


def _delivery_metadata(result: dg.ExecuteInProcessResult, protocol_id: str) -> dict:
    key = assets.delivery_asset_key(protocol_id)
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _refusal_check(result: dg.ExecuteInProcessResult, protocol_id: str):
    (check,) = [c for c in result.get_asset_check_evaluations()
                if c.asset_key == assets.delivery_asset_key(protocol_id)
                and c.check_name == assets.REFUSAL_CHECK]
    return check


def _audit(p, event: str) -> list[dict]:
    path = audit.log_path(p)
    if not path.exists():
        return []
    return [e.fields for e in audit.entries(path) if e.event == event]


def _materialised(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {e.asset_key for e in result.get_asset_materialization_events()}


def test_the_delivery_asset_writes_and_reports_rows_schema_and_text_reference(warehouse):
    result = _run("zorgthuis")
    assert result.success
    key = assets.delivery_asset_key("zorgthuis")
    assert key in _materialised(result)
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    md = event.materialization.metadata
    assert md["status"].value == "delivered"
    assert md["rows_total"].value > 0 and "rows_per_file" in md and "folder" in md
    definition = assets.build_delivery_asset(REGISTRY.protocol("zorgthuis"))
    static = definition.specs_by_key[key].metadata
    assert static["text_reference"].value.startswith("shared/protocols/003_")
    assert "`insz` varchar" in static["schema_preview"].value


def test_a_failing_blocking_column_check_holds_back_the_delivery(warehouse):
    result = _run("zorgthuis", extra_column="birth_date")
    failed = [c for c in result.get_asset_check_evaluations() if not c.passed]
    assert len(failed) == 1
    assert "birth_date" in failed[0].description
    assert assets.delivery_asset_key("zorgthuis") not in _materialised(result)
    assert not (warehouse.outbox / "zorgthuis").exists()


def test_the_delivery_groups_and_dependencies_follow_the_protocol():
    for pid in REGISTRY.ids:
        definition = assets.build_delivery_asset(REGISTRY.protocol(pid))
        key = assets.delivery_asset_key(pid)
        spec = definition.specs_by_key[key]
        assert spec.group_name == f"delivery_{pid}"
        models = {assets.model_asset_key(pid, f.id) for f in REGISTRY.protocol(pid).delivery_files}
        deps = {d.asset_key for d in spec.deps}
        assert models <= deps
        assert all(k.path[0] == "deliveries" and k.path[1].startswith(f"{pid}__") for k in deps)
        assert definition.node_def.pool == "duckdb"


# ------------------------------------------------------------------------------------ refusals


def test_an_expired_protocol_refuses_visibly_without_failing_the_run(warehouse):
    result = _run("antwerpen_okan")  # today: after 31 August 2025, no renewal registered
    assert result.success
    md = _delivery_metadata(result, "antwerpen_okan")
    assert md["status"] == "refused" and md["deliveries_written"] == 0
    assert "valid until 2025-08-31" in md["message"] and "REFUSED" in md["refusal"]
    check = _refusal_check(result, "antwerpen_okan")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    # the check states the reason and the remedy, not just a count
    ended = REGISTRY.protocol("antwerpen_okan").valid_until.isoformat()
    reason = check.metadata["reason"].value
    remedy = check.metadata["remedy"].value
    assert f"antwerpen_okan expired on {ended}" in reason
    assert remedy == ("register a renewal under validity.renewals in "
                      "orchestration/protocols/definitions/antwerpen_okan.yaml to deliver again")
    assert reason in check.description and remedy in check.description
    assert check.metadata["refusals"].value == 1
    (event,) = _audit(warehouse, "delivery_refused")
    assert event["protocol"] == "antwerpen_okan" and event["rule"] == "validity"
    assert "valid until 2025-08-31" in event["reason"]
    assert not (warehouse.outbox / "antwerpen_okan").exists()


def test_the_same_protocol_delivers_inside_its_validity_period(warehouse):
    result = _run("antwerpen_okan", today=dt.date(2025, 6, 1))
    assert result.success
    assert _delivery_metadata(result, "antwerpen_okan")["status"] == "delivered"
    assert _refusal_check(result, "antwerpen_okan").passed
    assert _audit(warehouse, "delivery_refused") == []
    assert len(list((warehouse.outbox / "antwerpen_okan").iterdir())) == 1


def test_a_once_only_protocol_is_forced_through_run_config_and_the_reason_is_logged(warehouse):
    first = _run("naft_evaluation", today=INSIDE_NAFT)
    assert _delivery_metadata(first, "naft_evaluation")["status"] == "delivered"
    assert _refusal_check(first, "naft_evaluation").passed

    second = _run("naft_evaluation", today=INSIDE_NAFT)
    assert second.success
    md = _delivery_metadata(second, "naft_evaluation")
    assert md["status"] == "refused" and "allows one delivery only" in md["message"]
    assert "force_reason" in md["message"]  # says how to proceed
    check = _refusal_check(second, "naft_evaluation")
    assert not check.passed
    assert "allows one delivery only" in check.metadata["reason"].value
    assert "force_reason" in check.metadata["remedy"].value
    (refused,) = _audit(warehouse, "delivery_refused")
    assert refused["protocol"] == "naft_evaluation" and refused["rule"] == "once_only"
    assert _audit(warehouse, "forced_action") == []

    forced = _run("naft_evaluation", today=INSIDE_NAFT, force_reason=REASON)
    assert forced.success
    md = _delivery_metadata(forced, "naft_evaluation")
    assert md["status"] == "delivered"
    assert md["forced_reason"] == REASON and "second delivery" in md["forced_action"]
    assert _refusal_check(forced, "naft_evaluation").passed
    (action,) = _audit(warehouse, "forced_action")
    assert action["reason"] == REASON and action["protocol"] == "naft_evaluation"
    assert "second delivery of once-only protocol naft_evaluation" in action["action"]
    deliveries = [e for e in _audit(warehouse, "delivery") if e["protocol"] == "naft_evaluation"]
    assert [d.get("forced_reason") for d in deliveries] == [None, REASON]
    with connect(warehouse, read_only=True) as con:
        assert con.execute("select forced_reason from deliveries_log.deliveries order by "
                           "delivered_at, forced_reason nulls first").fetchall() == \
            [(None,), (REASON,)]
    assert len(list((warehouse.outbox / "naft_evaluation").iterdir())) == 2
    body = json.loads(next(f for f in (warehouse.outbox / "naft_evaluation").iterdir()
                           if f.name == md["delivery_id"]).joinpath("datapackage.json")
                      .read_text())
    assert body["forced_reason"] == REASON


def test_a_force_reason_never_overrides_the_validity_period(warehouse):
    result = _run("antwerpen_okan", force_reason=REASON)
    assert _delivery_metadata(result, "antwerpen_okan")["status"] == "refused"
    assert _audit(warehouse, "forced_action") == []
    assert not (warehouse.outbox / "antwerpen_okan").exists()


def test_a_force_reason_holding_a_personal_value_is_refused_before_anything_happens(warehouse):
    _run("naft_evaluation", today=INSIDE_NAFT)
    result = _run("naft_evaluation", today=INSIDE_NAFT,
                  force_reason=f"pupil {synthetic_insz(3)} asked for it")
    assert not result.success
    assert len(list((warehouse.outbox / "naft_evaluation").iterdir())) == 1
    text = audit.log_path(warehouse).read_text()
    assert synthetic_insz(3) not in text and pupil_key(3) not in text
    assert _audit(warehouse, "forced_action") == []


def test_the_force_reason_is_run_config_of_every_delivery_job_in_the_launchpad():
    from orchestration.definitions import defs

    for pid in REGISTRY.ids:
        job = defs.resolve_job_def(f"deliver_{pid}")
        node = job.graph.node_named(f"delivery__{pid}")
        field = node.definition.config_schema.config_type.fields["force_reason"]
        assert not field.is_required and "audit trail" in field.description
        config = {"ops": {f"delivery__{pid}": {"config": {"force_reason": REASON}}}}
        assert dg.validate_run_config(job, config)


@pytest.mark.parametrize("protocol_id", ["zorgthuis", "naft_evaluation"])
def test_delivery_metadata_holds_counts_and_schema_never_values(warehouse, protocol_id):
    result = _run(protocol_id, today=INSIDE_NAFT if protocol_id == "naft_evaluation" else None)
    md = _delivery_metadata(result, protocol_id)
    static = assets.build_delivery_asset(REGISTRY.protocol(protocol_id)) \
        .specs_by_key[assets.delivery_asset_key(protocol_id)].metadata
    text = json.dumps({**{k: str(v) for k, v in md.items()},
                       **{k: str(v.value) for k, v in static.items()}})
    for i in range(4):
        assert synthetic_insz(i) not in text and pupil_key(i) not in text
    assert md["rows_total"] > 0 and md["files"] > 0
    for f in REGISTRY.protocol(protocol_id).delivery_files:
        assert f"**{f.id}**" in static["schema_preview"].value
        assert f.id in md["rows_per_file"]
