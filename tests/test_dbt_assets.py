"""The dbt wiring: the CLI arguments of a school-year window (a pure function), and the split of
the dbt project into a school-year partitioned part and a plain part, read from the manifest."""

from __future__ import annotations

import json
import re

import pytest

from orchestration.foundations import school_year
from orchestration.transform.assets import (INDIRECT_SELECTION, PARTITIONED_TAG, WINDOW_VARS,
                                      WITHOUT_UNIT_TESTS,
                                      partitioned_build_args,
                                      plain_build_args, plain_dbt_models,
                                      school_year_dbt_models)
from orchestration.platform.dbt_project import warehouse_dbt_project

ALL = school_year.ALL


def window_of(args: list[str]) -> dict[str, str]:
    return json.loads(args[args.index("--vars") + 1])


# ------------------------------------------------------------------------------- CLI arguments

def test_one_past_school_year_is_passed_to_dbt_as_a_vars_window_without_full_refresh():
    args = partitioned_build_args("2019-20", "2019-20")
    assert args[0] == "build"
    assert window_of(args) == {"school_year_from": "2019-20", "school_year_to": "2019-20"}
    assert "--full-refresh" not in args
    assert args[-2:] == WITHOUT_UNIT_TESTS  # the unit tests run in the test suite instead


def test_a_range_of_school_years_passes_its_first_and_last_year():
    assert window_of(partitioned_build_args("2017-18", "2020-21")) == \
        dict(zip(WINDOW_VARS, ("2017-18", "2020-21"), strict=True))


def test_every_school_year_is_a_full_build_with_no_window():
    args = partitioned_build_args(ALL[0], ALL[-1])
    assert args == ["build", "--full-refresh", *WITHOUT_UNIT_TESTS]


def test_the_last_school_year_alone_is_still_a_window():
    assert window_of(partitioned_build_args(ALL[-1], ALL[-1]))["school_year_to"] == ALL[-1]


@pytest.mark.parametrize("first, last", [("2020-21", "2019-20"), ("2019-2020", "2019-2020"),
                                         ("2030-31", "2030-31"), ("2019-20", "x")])
def test_an_inverted_window_or_an_unknown_school_year_is_refused(first, last):
    with pytest.raises(ValueError):
        partitioned_build_args(first, last)


def test_a_window_is_checked_against_the_partitions_it_is_given():
    years = ("2019-20", "2020-21")
    assert partitioned_build_args("2019-20", "2020-21", years) == \
        ["build", "--full-refresh", *WITHOUT_UNIT_TESTS]
    with pytest.raises(ValueError):
        partitioned_build_args("2018-19", "2019-20", years)


def test_the_plain_models_are_built_whole_without_a_window():
    assert plain_build_args() == ["build", *WITHOUT_UNIT_TESTS]


# ------------------------------------------------------------------------------- the split

@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(warehouse_dbt_project.manifest_path.read_text())


def models(manifest: dict) -> dict[str, dict]:
    return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def test_every_dbt_model_is_in_exactly_one_of_the_two_asset_definitions(manifest):
    partitioned = {k.path[-1] for k in school_year_dbt_models.keys}
    plain = {k.path[-1] for k in plain_dbt_models.keys}
    assert not partitioned & plain
    assert set(models(manifest)) <= partitioned | plain
    assert {"pupil_year", "school_year", "int_pupil_years", "stg_discimus_enrolments"} \
        <= partitioned
    assert {"okan_career", "naft_track", "zorgthuis__verification_list"} <= plain


def test_no_plain_model_feeds_a_partitioned_one_so_each_part_is_one_dbt_run(manifest):
    partitioned = {k.path[-1] for k in school_year_dbt_models.keys}
    by_id = manifest["nodes"]
    for node in models(manifest).values():
        if node["name"] in partitioned:
            parents = [by_id[p]["name"] for p in node["depends_on"]["nodes"] if p in by_id]
            assert set(parents) <= partitioned, node["name"]


def test_the_partitioned_assets_are_backfilled_in_one_run():
    assert school_year_dbt_models.partitions_def is not None
    assert school_year_dbt_models.backfill_policy.max_partitions_per_run is None  # single run
    assert plain_dbt_models.partitions_def is None


def test_every_incremental_model_replaces_its_window_and_filters_its_result_by_it(manifest):
    incremental = [n for n in models(manifest).values()
                   if n["config"]["materialized"] == "incremental"]
    assert len(incremental) >= 20
    for node in incremental:
        assert node["config"]["incremental_strategy"] == "school_year_window", node["name"]
        assert node["config"]["on_schema_change"] == "fail", node["name"]
        assert PARTITIONED_TAG in node["tags"], node["name"]
        # the filter comes after the final select, never inside an import CTE: every row is
        # computed from all the upstream rows it reads (previous and later school years)
        assert re.search(r"select \* from final\s+where \{\{ in_school_year_window\(\) \}\}\s*$",
                         node["raw_code"]), node["name"]
        assert "school_year" in node["columns"], f"{node['name']}: no documented school_year"


def test_a_test_reading_both_parts_belongs_to_a_plain_model_and_runs_in_the_plain_part(manifest):
    """The partitioned part runs with cautious indirect selection, so such a test waits for the
    plain part; were it attached to a partitioned model, its check would come from the wrong run."""
    assert INDIRECT_SELECTION == {"school_year_partitioned": "cautious", "plain": None}
    partitioned = {k.path[-1] for k in school_year_dbt_models.keys}
    nodes = manifest["nodes"]
    for node in nodes.values():
        if node["resource_type"] != "test" or not node.get("attached_node"):
            continue
        parents = {nodes[p]["name"] for p in node["depends_on"]["nodes"] if p in nodes}
        if parents & partitioned and parents - partitioned:
            assert nodes[node["attached_node"]]["name"] not in partitioned, node["name"]
