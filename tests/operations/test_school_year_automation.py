"""One new counting-date file recomputes only what depends on it: after the inbox sensor's
ingestion run changes one raw partition, the automation sensor requests the partitioned models
that read that table, for that school year only. Evaluated with Dagster's automation-condition
tester on the real definitions (no dbt run needed)."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.foundations import school_year
from orchestration.transform.assets import plain_dbt_models, school_year_dbt_models

pytestmark = pytest.mark.usefixtures("test_master_key")
YEAR = "2024-25"


@pytest.fixture(scope="module")
def everything_built():
    """An instance on which every asset (every partition) has been materialised once, and the
    automation's first evaluation on it."""
    from orchestration.definitions import defs

    instance = dg.DagsterInstance.ephemeral()
    graph = defs.resolve_asset_graph()
    for key in graph.materializable_asset_keys:
        partitions = school_year.ALL if graph.get(key).partitions_def else [None]
        for partition in partitions:
            instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=partition))
    baseline = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    return defs, instance, baseline


def requested(result) -> dict[str, set[str]]:
    out = {}
    for key in [*school_year_dbt_models.keys, *plain_dbt_models.keys]:
        try:
            partitions = result.get_requested_partitions(key)
        except Exception:  # an unpartitioned asset: requested or not
            partitions = {None} if key in result.get_requested_asset_keys() else set()
        if partitions:
            out[key.to_user_string()] = set(partitions)
    return out


def after_new_file(everything_built, raw_table: str):
    defs, instance, baseline = everything_built
    instance.report_runless_asset_event(
        dg.AssetMaterialization(dg.AssetKey(["raw", raw_table]), partition=YEAR))
    return dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=baseline.cursor)


def test_nothing_is_requested_while_everything_is_up_to_date(everything_built):
    assert everything_built[2].total_requested == 0


def test_a_new_zorgthuis_list_rebuilds_only_the_zorgthuis_models_of_its_school_year(
        everything_built):
    got = requested(after_new_file(everything_built, "zorgthuis_lists"))
    assert set(got) == {"staging/stg_zorgthuis_lists", "intermediate/int_pupil_zorgthuis",
                        "intermediate/int_school_branch_year_zorgthuis", "marts/pupil_year",
                        "marts/school_branch_year", "marts/school_year"}
    assert all(partitions == {YEAR} for partitions in got.values())
    assert not set(got) & {k.to_user_string() for k in plain_dbt_models.keys}  # no delivery


def test_the_partitioned_dbt_assets_follow_their_inputs_and_the_plain_ones_do_not():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    assert all(graph.get(k).automation_condition is not None for k in school_year_dbt_models.keys)
    assert all(graph.get(k).automation_condition is None for k in plain_dbt_models.keys)
    assert "school_year_automation_sensor" in {s.name for s in defs.sensors}
