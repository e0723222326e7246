"""Quality over time: per source and rule over the runs, overdue deadlines first (the snapshot
history the article-7 step appends to, and the per-source counts it gives Dagster to plot)."""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.foundations.sources import SOURCES
from orchestration.foundations.warehouse import connect
from orchestration.quality import register
from orchestration.quality.checks import over_time_table
from tests.quality import kit

DAY = dt.date(2026, 6, 1)

pytestmark = pytest.mark.usefixtures("test_master_key")


def _snapshot(p, day, at):
    kit.refresh(p, day)
    kit.report(p, day)
    with connect(p) as con:
        register.record_history(con, now=at)


def test_findings_per_source_and_rule_over_runs_with_overdue_first(data_dir):
    kit.write(data_dir, "binc_naft_beneficiaries", "binc_naft_begunstigden_2024-2025.csv",
              [{"Geslacht": "Q"}])
    kit.ingest(data_dir, "binc")
    _snapshot(data_dir, DAY, dt.datetime(2026, 6, 1, 8))
    # a month and more later: the BINC findings are past naft_evaluation's one-month deadline,
    # and DUO sends a file with a finding of its own
    between = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    kit.write(data_dir, "duo_registrations", "duo_onderwijsdeelnemers_2025-10-15.csv",
              [{}, {}])
    kit.ingest(data_dir, "duo")
    later = DAY + dt.timedelta(days=40)
    _snapshot(data_dir, later, dt.datetime(2026, 7, 11, 8))
    with connect(data_dir) as con:
        trend = register.over_time(con)
        counts = register.by_source(con, since=between)
    assert trend[0]["source"] == "binc" and trend[0]["overdue"] >= 1
    binc = [t for t in trend if t["source"] == "binc"]
    assert all(t["trend"] == [1, 1] and t["overdue"] == 1 for t in binc)
    duo = [t for t in trend if t["source"] == "duo"]
    assert duo and all(t["trend"][0] == 0 and t["trend"][-1] >= 1 and t["overdue"] == 0
                       for t in duo)
    assert [t["overdue"] for t in trend] == sorted((t["overdue"] for t in trend), reverse=True)
    assert set(counts) == set(SOURCES)
    assert counts["binc"]["overdue"] >= 1 and counts["binc"]["new"] == 0
    assert counts["duo"]["new"] == len(duo) and counts["discimus"] == \
        {"open": 0, "overdue": 0, "new": 0}
    table = over_time_table(trend)
    assert all(line.startswith("| binc |")
               for line in table.splitlines()[2:2 + len(binc)]) and "1 → 1" in table


def test_a_run_without_findings_shows_as_a_zero_in_the_trend(data_dir):
    kit.write(data_dir, "binc_naft_beneficiaries", "binc_naft_begunstigden_2024-2025.csv",
              [{"Geslacht": "Q"}])
    kit.ingest(data_dir, "binc")
    _snapshot(data_dir, DAY, dt.datetime(2026, 6, 1, 8))
    kit.write(data_dir, "binc_naft_beneficiaries", "binc_naft_begunstigden_2024-2025.csv",
              [{}])  # the corrected file
    kit.ingest(data_dir, "binc")
    _snapshot(data_dir, DAY + dt.timedelta(days=2), dt.datetime(2026, 6, 3, 8))
    with connect(data_dir) as con:
        [row] = [t for t in register.over_time(con) if t["rule_id"] == "unknown_code_geslacht"]
    assert row["trend"] == [1, 0] and row["open"] == 0 and row["overdue"] == 0
