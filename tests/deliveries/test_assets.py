"""The Dagster side: a failing blocking column check holds back the delivery; a refused protocol
does not fail the run; metadata shows text reference, rows and schema, never values."""

from __future__ import annotations

import dagster as dg

from orchestration.deliveries import assets
from orchestration.protocols import load_registry
from orchestration.settings import paths
from orchestration.warehouse import connect
from tests.deliveries.conftest import build

REGISTRY = load_registry()


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


def _run(protocol_id: str, extra_column: str | None = None) -> dg.ExecuteInProcessResult:
    protocol = REGISTRY.protocol(protocol_id)
    return dg.materialize(
        [_fake_dbt_models(protocol_id, extra_column), assets.build_delivery_asset(protocol),
         assets.build_column_checks([protocol_id])],
        raise_on_error=False)


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
