"""A main job with nothing new since the last one (the shared run's third run, same day, same
inbox): it rebuilds nothing, says which run's build is current, and leaves the warehouse, the
outbox and the audit trail's deliveries as they were."""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.foundations import audit
from orchestration.main import UP_TO_DATE_SELECTION
from orchestration.platform import up_to_date

pytestmark = pytest.mark.integration


def _materialised(result) -> set:
    return {e.asset_key for e in result.get_asset_materialization_events()}


def test_nothing_new_rebuilds_nothing_and_names_the_current_build(pipeline):
    run = pipeline.up_to_date
    assert run is not None and run.success
    assert run.dagster_run.tags[up_to_date.UP_TO_DATE_TAG] == pipeline.second.run_id
    assert _materialised(run) == set(UP_TO_DATE_SELECTION)
    assert f"up to date: nothing new since the warehouse job {pipeline.second.run_id}" \
        in pipeline.console_up_to_date
    assert "nothing attempted" in pipeline.console_up_to_date
    # the rebuild before it did build: models and deliveries were materialised
    assert len(_materialised(pipeline.second)) > 50


def test_nothing_new_changes_no_table_and_no_file_record(pipeline):
    assert pipeline.counts_after_up_to_date == pipeline.counts_after_second
    assert pipeline.files_after_up_to_date == pipeline.files_after_second


def test_the_record_matches_what_the_inbox_and_warehouse_hold_now(pipeline):
    p = pipeline.paths
    record = up_to_date.load_record(p)
    assert record is not None and record.run_id == pipeline.second.run_id
    now = up_to_date.current_state(p, today=dt.date.fromisoformat(record.state.day))
    assert now.differences(record.state) == []
    assert up_to_date.runs_since(pipeline.instance, record) == []


def test_the_up_to_date_run_attempted_no_delivery(pipeline):
    """No delivery, refusal or vault use in the audit trail after the up-to-date run started:
    it attempted nothing (the runs before it recorded theirs)."""
    record = pipeline.instance.get_run_record_by_id(pipeline.up_to_date.run_id)
    started = record.create_timestamp.replace(tzinfo=None).isoformat()
    after = [e.event for e in audit.entries(audit.log_path(pipeline.paths)) if e.at >= started]
    assert not {"delivery", "delivery_refused", "vault_use"} & set(after), after
