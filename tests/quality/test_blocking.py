"""A failing blocking article-7 check on a raw asset holds back what is downstream of it: the dbt
staging model and a Python asset after it; the findings register is still written. Real
ingestion, real GX, real dbt, real Dagster (in process)."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.foundations import school_year, settings
from orchestration.transform.assets import dbt_resource, school_year_dbt_models
from orchestration.ingestion.assets import inbox_specs, raw_asset_key, source_assets
from orchestration.quality.checks import FINDINGS_KEY, article7_raw_quality, quality_assets
from orchestration.foundations.warehouse import POOL, connect
from tests.quality import kit

RAW = raw_asset_key("duo_registrations")
STAGING = dg.AssetKey(["staging", "stg_duo_registrations"])
FOLLOW_UP = dg.AssetKey(["test", "duo_follow_up"])
RAW_FOLLOW_UP = dg.AssetKey(["test", "duo_raw_follow_up"])
DUO_FILE = "duo_onderwijsdeelnemers_2024-10-15.csv"


@dg.asset(key=FOLLOW_UP, deps=[STAGING], pool=POOL)
def duo_follow_up() -> dg.MaterializeResult:
    """Stands in for a Python delivery built on the staging model."""
    with connect(settings.paths()) as con:
        n = con.execute("select count(*) from staging.stg_duo_registrations").fetchone()[0]
    return dg.MaterializeResult(metadata={"rows": n})


@dg.asset(key=RAW_FOLLOW_UP, deps=[RAW], pool=POOL)
def duo_raw_follow_up() -> dg.MaterializeResult:
    """A Python asset directly on the raw table."""
    return dg.MaterializeResult()


def run(p: settings.Paths, with_dbt: bool = True) -> dg.ExecuteInProcessResult:
    downstream = [duo_raw_follow_up] + ([school_year_dbt_models, duo_follow_up] if with_dbt else [])
    selection = dg.AssetSelection.assets(*source_assets) | dg.AssetSelection.keys(RAW_FOLLOW_UP)
    if with_dbt:
        selection = selection | dg.AssetSelection.keys(STAGING, FOLLOW_UP)
    defs = dg.Definitions(
        assets=[*inbox_specs, *source_assets, *downstream, *quality_assets],
        asset_checks=[article7_raw_quality],
        jobs=[dg.define_asset_job("blocking_test", selection=selection)],
        resources={"dbt": dbt_resource},
    )
    return defs.resolve_job_def("blocking_test").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False,
        tags={"dagster/asset_partition_range_start": school_year.ALL[0],
              "dagster/asset_partition_range_end": school_year.ALL[-1]})


def outcome(result: dg.ExecuteInProcessResult) -> tuple[set[dg.AssetKey], dict[str, bool]]:
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()
              if e.asset_key == RAW}
    return materialized, checks


pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("test_master_key")]


def test_a_failing_blocking_raw_check_holds_back_the_dbt_model_and_the_python_asset(data_dir):
    kit.write(data_dir, "duo_registrations", DUO_FILE, [{}, {}, {"Fictief_nummer": "F2"}])
    result = run(data_dir)
    materialized, checks = outcome(result)
    assert not result.success
    assert checks["duplicate_row"] is False  # blocking, ERROR
    assert RAW in materialized and FINDINGS_KEY in materialized
    assert not {STAGING, FOLLOW_UP, RAW_FOLLOW_UP} & materialized
    with connect(data_dir) as con:
        assert con.execute("select count(*) from duckdb_tables() where schema_name = 'staging'"
                           ).fetchone()[0] == 0  # dbt never ran
        assert con.execute("select rule_id, affected_records from quality.findings"
                           ).fetchall() == [("duplicate_row", 1)]
    assert (data_dir.outbox / "quality" / "duo").is_dir()  # the report went out all the same


def test_a_failing_warning_check_holds_back_nothing(data_dir):
    kit.write(data_dir, "duo_registrations", DUO_FILE,
              [{}, {"Fictief_nummer": "F2", "Achternaam": ""}])  # quarantined: a warning
    result = run(data_dir, with_dbt=False)
    materialized, checks = outcome(result)
    assert checks["missing_required"] is False
    assert all(passed for name, passed in checks.items() if name != "missing_required")
    assert result.success
    assert {RAW, RAW_FOLLOW_UP, FINDINGS_KEY} <= materialized
