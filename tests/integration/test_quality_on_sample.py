"""Article-7 quality in the main job on the clean synthetic sample: every suite runs as Dagster
asset checks, Data Docs are built and linked, the register is written, and the clean sample
yields no finding at all (no false positives) and holds back no delivery. Nothing personal in
results, docs or reports."""

from __future__ import annotations

from orchestration.ingestion.assets import raw_asset_key
from orchestration.quality import suites
from orchestration.quality.checks import DEADLINE_CHECK, FINDINGS_KEY, REPORTS_KEY
from orchestration.foundations.sources import SOURCE_FILES
from orchestration.foundations.warehouse import connect
from tests.quality import scan


def quality_checks(result):
    raw = {raw_asset_key(s.file_type) for s in SOURCE_FILES}
    return [e for e in result.get_asset_check_evaluations() if e.asset_key in raw]


def test_the_clean_sample_yields_no_article7_finding(pipeline):
    with connect(pipeline.paths, read_only=True) as con:
        assert con.execute("select count(*) from quality.findings").fetchone()[0] == 0
        assert con.execute("select count(*) from quality.finding_records").fetchone()[0] == 0
        assert con.execute("select count(*) from quality.delivery_holds").fetchone()[0] == 0
    reports = pipeline.paths.outbox / "quality"
    assert sorted(p.name for p in reports.iterdir()) == ["antwerpen_okan"]  # yearly summary only


def test_every_raw_suite_runs_as_asset_checks_and_passes_in_both_runs(pipeline):
    expected = {(raw_asset_key(s.file_type), e.check_name)
                for s in SOURCE_FILES for e in suites.raw_expectations(s.file_type)}
    expected |= {(raw_asset_key(s.file_type), DEADLINE_CHECK) for s in SOURCE_FILES}
    for result in (pipeline.first, pipeline.second):
        raw = quality_checks(result)
        assert {(e.asset_key, e.check_name) for e in raw} >= expected
        failed = [(e.asset_key.to_user_string(), e.check_name) for e in raw if not e.passed]
        assert failed == []


def test_the_register_and_reports_are_materialized_and_data_docs_linked(pipeline):
    materialized = {e.asset_key for e in pipeline.first.get_asset_materialization_events()}
    assert {FINDINGS_KEY, REPORTS_KEY} <= materialized
    raw = quality_checks(pipeline.first)
    docs = {e.metadata["data_docs"].value for e in raw if "data_docs" in e.metadata}
    assert len(docs) == 1
    index = docs.pop()
    assert index.endswith("results.html")  # the offline page (no CDN)
    html = open(index, encoding="utf-8").read()
    assert "raw_discimus_enrolments" in html and "staging_discimus_enrolments" not in html
    assert "https://" not in html and "http://" not in html
    urls = {e.metadata["data_docs_url"].value for e in raw if "data_docs_url" in e.metadata}
    assert urls and all(u.startswith("http://127.0.0.1:") for u in urls)
    one = next(e for e in raw if e.check_name == "duplicate_row")
    assert {"unexpected_count", "article7_category", "severity", "rule",
            "query_affected_rows"} <= set(one.metadata)


def test_no_personal_value_in_check_results_data_docs_or_reports(pipeline):
    p = pipeline.paths
    names, keys = scan.vault_names(p), scan.warehouse_keys(p)
    assert names and keys  # the scan has something to look for
    texts = scan.text_files(p.data / "quality", p.outbox / "quality")
    texts["check results"] = scan.check_results_text(pipeline.first)
    assert any(t.endswith(".html") for t in texts)
    assert scan.personal_values(texts, names, keys, scan.vault_insz(p),
                                scan.own_key_values(p)) == {}


def test_every_run_gives_dagster_the_findings_per_source_to_plot_and_keeps_a_snapshot(pipeline):
    """Quality over time: each materialisation of the register carries, per source, its open,
    overdue and new findings as ints (the UI plots each over the runs) and the table per source
    and rule, overdue first; ``quality.findings_history`` holds a snapshot per run."""
    from orchestration.foundations.sources import SOURCES

    with connect(pipeline.paths, read_only=True) as con:
        now = dict(con.execute("select source, count(*) from quality.findings "
                               "where status = 'open' group by source").fetchall())
    [event] = [e for e in pipeline.second.get_asset_materialization_events()
               if e.asset_key == FINDINGS_KEY]
    for source in SOURCES:  # the second run's figures are the register's now
        assert event.materialization.metadata[f"open__{source}"].value == now.get(source, 0)
    for result in (pipeline.first, pipeline.second):
        [event] = [e for e in result.get_asset_materialization_events()
                   if e.asset_key == FINDINGS_KEY]
        meta = event.materialization.metadata
        assert {f"{k}__{s}" for s in SOURCES for k in ("open", "overdue", "new")} <= set(meta)
        assert all(isinstance(meta[f"overdue__{s}"].value, int) for s in SOURCES)
        assert "over_time" in meta
    with connect(pipeline.paths, read_only=True) as con:
        runs = con.execute("select count(distinct recorded_at) from quality.findings_history "
                           "where source = '_run'").fetchone()[0]
    assert runs == 2
