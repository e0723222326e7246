"""The GX file context in expectations/: generated from the catalogue, loadable, tagged, and its
counts equal the register's (one SQL per rule, two consumers)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from orchestration.foundations import settings
from orchestration.quality import gx_runner, register, suites
from orchestration.quality.rules import raw_rules
from orchestration.foundations.warehouse import connect
from tests.quality import kit

META_KEYS = {"article7_category", "severity", "rule", "protocols", "blocking"}


pytestmark = pytest.mark.usefixtures("test_master_key")


def test_the_committed_suites_are_exactly_what_the_catalogue_generates():
    assert suites.out_of_date() == [], "run: python -m orchestration.quality.suites"


def test_one_suite_per_source_file_type_and_layer():
    names = {p.stem for p in suites.SUITES_DIR.glob("*.json")}
    from orchestration.foundations.sources import SOURCE_FILES

    expected = {f"{layer}_{s.file_type}" for s in SOURCE_FILES for layer in ("raw", "staging")}
    assert names == expected | {suites.LINKAGE_SUITE}


def test_every_expectation_is_tagged_with_its_article_7_category_severity_and_blocking():
    for path in suites.SUITES_DIR.glob("*.json"):
        suite = json.loads(path.read_text(encoding="utf-8"))
        assert suite["expectations"], path.name
        for e in suite["expectations"]:
            assert META_KEYS <= set(e["meta"]), (path.name, e["meta"])
            assert e["severity"] == e["meta"]["severity"] in ("critical", "warning")
            assert not e["meta"]["blocking"] or e["severity"] == "critical"


def test_raw_format_rules_are_sql_because_gx_has_no_regex_on_duckdb():
    raw = json.loads((suites.SUITES_DIR / "raw_duo_registrations.json").read_text())
    assert {e["type"] for e in raw["expectations"]} == {"unexpected_rows_expectation"}
    staging = json.loads((suites.SUITES_DIR / "staging_discimus_enrolments.json").read_text())
    assert "expect_column_values_to_be_in_set" in {e["type"] for e in staging["expectations"]}


@pytest.mark.integration
def test_the_working_copy_loads_in_gx_and_runs_never_touch_the_committed_context(data_dir):
    before = {p: p.read_bytes() for p in suites.GX_DIR.rglob("*") if p.is_file()}
    root = suites.runtime_context(data_dir)
    assert root == data_dir.data / "quality"
    context = gx_runner.open_context(root)
    assert {s.name for s in context.suites.all()} == \
        {p.stem for p in suites.SUITES_DIR.glob("*.json")}
    kit.write(data_dir, "duo_registrations", "duo_onderwijsdeelnemers_2024-10-15.csv", [{}])
    kit.ingest(data_dir, "duo")
    with connect(data_dir) as con:
        register.ensure_schema(con)
    gx_runner.validate_table(project_root=root, suite_name="raw_duo_registrations",
                             warehouse_path=data_dir.warehouse, table="raw.duo_registrations",
                             key_column="_source_row",
                             duckdb_config=settings.duckdb_config(data_dir))
    after = {p: p.read_bytes() for p in suites.GX_DIR.rglob("*") if p.is_file()}
    assert after == before


@pytest.mark.integration
def test_gx_counts_the_same_records_as_the_register(data_dir):
    kit.write(data_dir, "duo_registrations", "duo_onderwijsdeelnemers_2024-10-15.csv",
              [{}, {}, {"Fictief_nummer": "F2", "BRIN": "05K1"},
               {"Fictief_nummer": "F3", "Geboortedatum": "01-02-2001"},
               {"Fictief_nummer": "F4", "Achternaam": ""}])
    kit.ingest(data_dir, "duo")
    with connect(data_dir) as con:
        register.ensure_schema(con)
    outcome = gx_runner.validate_table(
        project_root=suites.runtime_context(data_dir), suite_name="raw_duo_registrations",
        warehouse_path=data_dir.warehouse, table="raw.duo_registrations",
        key_column="_source_row", duckdb_config=settings.duckdb_config(data_dir))
    gx_counts = {o.meta["rule"]: o.unexpected_count for o in outcome.expectations}
    kit.refresh(data_dir, dt.date(2024, 11, 4), rules=raw_rules("duo_registrations"))
    register_counts = dict(kit.query(data_dir, "select rule_id, sum(affected_records) from "
                                               "quality.findings group by all"))
    assert {k: v for k, v in gx_counts.items() if v} == register_counts == {
        "duplicate_row": 1, "brin_format_invalid": 1, "not_compulsory_school_age": 1,
        "missing_required": 1}
