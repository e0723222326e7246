"""The article-7 rule catalogue: complete, well formed, and SQL that runs and agrees with Python."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest

from orchestration.foundations import calendar
from orchestration.ingestion.load import _ensure_raw_table, ensure_schema as ensure_ingest
from orchestration.quality import register, rules
from orchestration.quality.ground_truth import RULES_BY_KIND
from orchestration.foundations.sources import SOURCE_FILES, identify
from tools.synthetic import defects


def test_every_defect_kind_the_generator_injects_has_a_rule_that_finds_it():
    kinds = set(defects.ROW_KINDS) | set(defects.FILE_KINDS)
    assert kinds <= set(RULES_BY_KIND)
    assert all(RULES_BY_KIND[k] for k in kinds), {k for k in kinds if not RULES_BY_KIND[k]}


def test_every_rule_names_its_article_7_category_severity_and_a_readable_explanation():
    for r in rules.all_rules():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", r.id), r.key
        assert r.category in rules.CATEGORIES, r.key
        assert r.severity in ("critical", "warning"), r.key
        assert not r.blocking or r.severity == "critical", f"{r.key}: blocking needs critical"
        assert r.title and r.description and rules.BATCH in r.sql, r.key


def test_the_catalogue_covers_all_six_categories_and_every_file_type():
    assert {r.category for r in rules.all_rules()} == set(rules.CATEGORIES)
    assert {r.file_type for r in rules.raw_rules()} == {s.file_type for s in SOURCE_FILES}


def test_rows_ingestion_held_back_do_not_block_and_wrong_loaded_values_do():
    by_key = rules.by_key()
    assert not by_key["discimus_enrolments.invalid_insz"].blocking
    assert not by_key["discimus_enrolments.missing_required"].blocking
    assert not by_key["discimus_enrolments.expected_file_missing"].blocking
    for key in ("discimus_enrolments.unknown_code_hoofdstructuur",
                "discimus_enrolments.study_year_impossible_for_level",
                "discimus_enrolments.birth_date_contradicts_insz",
                "duo_registrations.duplicate_row", "duo_registrations.reference_date_stale",
                "duo_registrations.not_compulsory_school_age",
                "binc_naft_trajectories.outside_naft_protocol_period"):
        assert by_key[key].blocking, key


def test_the_gx_query_names_the_batch_and_doubles_every_other_brace():
    rule = rules.by_key()["duo_registrations.brin_format_invalid"]
    assert "[0-9]{2}" in rule.sql_for() and "raw.duo_registrations" in rule.sql_for()
    query = rule.gx_query()
    assert "[0-9]{{2}}" in query and "(select * from {batch})" in query
    assert query.replace("{{", "{").replace("}}", "}").replace(
        "(select * from {batch})", "raw.duo_registrations") == rule.sql_for()


def test_the_leerplicht_sql_agrees_with_the_calendar():
    births = [dt.date(2002, 7, 1), dt.date(2004, 2, 29), dt.date(2006, 6, 30),
              dt.date(2006, 7, 1), dt.date(2008, 12, 31), dt.date(2014, 1, 1),
              dt.date(2015, 12, 31), dt.date(2016, 2, 29), dt.date(2019, 9, 1),
              dt.date(2020, 1, 1)]
    days = [dt.date(y, m, d) for y in range(2019, 2027) for m, d in
            ((2, 15), (2, 28), (3, 1), (6, 30), (7, 1), (8, 31), (9, 1), (10, 15), (12, 15))]
    pairs = [(b, d) for b in births for d in days]
    con = duckdb.connect()
    con.execute("create table t (born date, on_day date)")
    con.executemany("insert into t values (?, ?)", pairs)
    sql = rules.not_compulsory_school_age_sql("born", "on_day")
    got = {(b, d): flag for b, d, flag in con.execute(
        f"select born, on_day, {sql} from t").fetchall()}
    want = {(b, d): not calendar.is_compulsory_school_age(b, d) for b, d in pairs}
    assert got == want


def test_expected_file_names_are_the_names_the_sources_use():
    for spec in SOURCE_FILES:
        slots = rules.expected_slots(spec)
        assert slots, spec.file_type
        for _, slot, name, superseded_by in slots:
            found = identify(name)
            assert found and found[0].file_type == spec.file_type, name
            assert slot.startswith(spec.file_type + "/")
            assert superseded_by is None or "voorlopig" in slot


@pytest.fixture
def empty_warehouse(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(f"attach '{tmp_path / 'v.duckdb'}' as vault")
    ensure_ingest(con)
    for spec in SOURCE_FILES:
        _ensure_raw_table(con, spec)
    con.execute("create schema linkage")
    con.execute("create table linkage.duo_review (record_key varchar, peildatum date, "
                "reason varchar, best_score double, candidate_count integer, "
                "rijksregister_date date)")
    register.ensure_schema(con)
    yield con
    con.close()


def test_every_rule_runs_on_an_empty_warehouse_and_finds_nothing(empty_warehouse):
    for rule in rules.all_rules():
        cur = empty_warehouse.execute(f"select * from ({rule.sql_for()}) r")
        assert [d[0] for d in cur.description] == list(rules.OUTPUT_COLUMNS), rule.key
        assert cur.fetchall() == [], rule.key
