"""When the main job counts the warehouse as up to date (``platform/up_to_date.py``): the
comparison of its inputs and the record a successful run leaves, on real files."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from orchestration.platform import up_to_date

pytestmark = pytest.mark.unit


def _state(**changes) -> up_to_date.State:
    base = dict(inbox={"zorgthuis/zorgthuis_2026-05-18_definitief.csv": [100, 1]},
                ingested="a", file_types={"zorgthuis_lists": "z"}, linkage_decisions="b",
                code="c", day="2026-12-07")
    return up_to_date.State(**{**base, **changes})


def test_equal_inputs_differ_in_nothing():
    assert _state().differences(_state()) == []


@pytest.mark.parametrize("change, words", [
    ({"inbox": {}}, "gone from the inbox"),
    ({"inbox": {"zorgthuis/zorgthuis_2026-05-18_definitief.csv": [100, 2]}}, "changed file"),
    ({"inbox": {"zorgthuis/zorgthuis_2026-05-18_definitief.csv": [100, 1],
                "requests/vtc_2015_35/r1.csv": [5, 1]}}, "1 new file(s)"),
    ({"ingested": "x"}, "ingested files"),
    ({"linkage_decisions": "x"}, "review decisions"),
    ({"code": "x"}, "code"),
    ({"day": "2026-12-08"}, "a new day"),
])
def test_each_input_that_changed_is_named(change, words):
    differences = _state(**change).differences(_state())
    assert len(differences) == 1 and words in differences[0], differences


def test_the_record_keeps_the_inbox_as_found_less_what_the_run_moved_out(data_dir):
    kept = data_dir.inbox / "zorgthuis" / "zorgthuis_2026-05-18_definitief.csv"
    moved = data_dir.inbox / "zorgthuis" / "unknown.csv"
    for f in (kept, moved):
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("INSZ;Teldatum\n")
    at_start = up_to_date.current_state(data_dir, today=dt.date(2026, 12, 7))
    assert set(at_start.inbox) == {"zorgthuis/zorgthuis_2026-05-18_definitief.csv",
                                   "zorgthuis/unknown.csv"}
    moved.unlink()  # refused: moved out by the run
    up_to_date.record_build(data_dir, "run-1", 1.0, at_start)
    record = up_to_date.load_record(data_dir)
    assert record is not None and record.run_id == "run-1"
    assert set(record.state.inbox) == {"zorgthuis/zorgthuis_2026-05-18_definitief.csv"}
    again = up_to_date.current_state(data_dir, today=dt.date(2026, 12, 7))
    assert again.differences(record.state) == []
    kept.write_text("INSZ;Teldatum\n1;2\n")  # a corrected list under the same name
    assert up_to_date.current_state(data_dir, today=dt.date(2026, 12, 7)) \
        .differences(record.state) == ["1 changed file(s) in the inbox"]


def test_without_a_record_or_after_forgetting_it_the_job_builds(data_dir):
    instance = dg.DagsterInstance.ephemeral()
    state = up_to_date.current_state(data_dir)
    assert up_to_date.verdict(data_dir, instance, state).since is None
    up_to_date.record_build(data_dir, "run-1", 0.0, state)
    assert up_to_date.verdict(data_dir, instance, state).since == "run-1"
    up_to_date.forget_build(data_dir)
    assert up_to_date.verdict(data_dir, instance, state).since is None


def test_another_run_since_the_recorded_one_makes_the_build_out_of_date(data_dir):
    instance = dg.DagsterInstance.ephemeral()

    @dg.op
    def touch():
        return None

    @dg.job
    def some_other_job():
        touch()

    state = up_to_date.current_state(data_dir)
    up_to_date.record_build(data_dir, "run-1", 0.0, state)
    some_other_job.execute_in_process(instance=instance)
    found = up_to_date.verdict(data_dir, instance, state)
    assert found.since is None and "some_other_job" in found.reasons[0]


def test_the_code_digest_follows_the_source_and_ignores_build_output(tmp_path):
    (tmp_path / "orchestration").mkdir()
    (tmp_path / "dbt_project" / "models").mkdir(parents=True)
    (tmp_path / "dbt_project" / "target").mkdir()
    (tmp_path / "orchestration" / "a.py").write_text("x = 1\n")
    (tmp_path / "dbt_project" / "models" / "m.sql").write_text("select 1\n")
    first = up_to_date.code_digest(tmp_path)
    (tmp_path / "dbt_project" / "target" / "manifest.json").write_text("{}")
    assert up_to_date.code_digest(tmp_path) == first
    (tmp_path / "dbt_project" / "models" / "m.sql").write_text("select 2\n")
    assert up_to_date.code_digest(tmp_path) != first


@pytest.mark.parametrize("damage", [
    b"", b"{", b"\xff\xfe not utf-8", b"[]", b'{"run_id": "run-1"}',
    b'{"run_id": "run-1", "started_at": "yesterday", "state": {}}',
    b'{"run_id": "run-1", "started_at": 0, "state": {"inbox": {}}}',
    "a folder",
])
def test_a_damaged_or_unreadable_record_means_a_full_build(data_dir, damage):
    """A record cut short by a crash, edited by hand or replaced by a folder is never taken as
    'up to date': the job builds."""
    instance = dg.DagsterInstance.ephemeral()
    state = up_to_date.current_state(data_dir)
    up_to_date.record_build(data_dir, "run-1", 0.0, state)
    path = up_to_date.record_path(data_dir)
    if damage == "a folder":
        path.unlink()
        path.mkdir()
    else:
        path.write_bytes(damage)
    found = up_to_date.verdict(data_dir, instance, state)
    assert found.since is None and found.reasons == ["no successful main job recorded"]
