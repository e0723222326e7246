"""What a scheduled delivery run rebuilds (``deliveries.jobs.stale_selection``): only its job's
assets downstream of the raw tables that changed since the last main job, and the writer."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.definitions import defs
from orchestration.deliveries.jobs import delivery_selection, stale_selection
from orchestration.platform.asset_keys import delivery_asset_key

pytestmark = pytest.mark.unit
GRAPH = defs.resolve_asset_graph()


def _names(keys) -> set[str]:
    return {k.to_user_string() for k in keys}


def test_a_new_zorgthuis_list_rebuilds_the_zorgthuis_models_not_the_enrolments():
    selected = _names(stale_selection("zorgthuis", GRAPH, {"zorgthuis_lists"}))
    assert {"staging/stg_zorgthuis_lists", "deliveries/zorgthuis__verification_list",
            "deliveries/zorgthuis__funding_counts", "delivery/zorgthuis"} <= selected
    assert "intermediate/int_pupil_enrolments" not in selected
    assert "marts/pupil_year_counting_date" not in selected
    whole = delivery_selection("zorgthuis").resolve(GRAPH)
    assert selected < _names(whole)


def test_new_enrolments_rebuild_what_reads_them_within_the_job():
    selected = _names(stale_selection("zorgthuis", GRAPH, {"discimus_enrolments"}))
    assert {"intermediate/int_pupil_enrolments", "marts/pupil_year_counting_date",
            "delivery/zorgthuis"} <= selected
    assert "staging/stg_zorgthuis_lists" not in selected
    # never an asset outside the delivery job's own selection
    assert selected <= _names(delivery_selection("zorgthuis").resolve(GRAPH))


def test_nothing_changed_runs_the_writer_alone_and_unknown_runs_the_whole_job():
    assert stale_selection("zorgthuis", GRAPH, set()) == [delivery_asset_key("zorgthuis")]
    assert stale_selection("zorgthuis", GRAPH, None) is None


def test_the_selection_is_a_valid_subset_of_the_delivery_job():
    job = defs.resolve_job_def("deliver_zorgthuis")
    keys = stale_selection("zorgthuis", GRAPH, {"zorgthuis_lists"})
    subset = job.get_subset(asset_selection=set(keys))
    assert {dg.AssetKey(k.path) for k in keys} <= set(subset.asset_layer.executable_asset_keys)
