"""The article-7 rule catalogue: complete, well formed, and SQL that runs and agrees with Python."""

from __future__ import annotations

import dataclasses
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
    # a code staging repairs is reported, and blocks nothing
    assert not by_key["discimus_enrolments.code_not_canonical_onderwijsvorm"].blocking
    for key in ("discimus_enrolments.unknown_code_hoofdstructuur",
                "discimus_enrolments.study_year_impossible_for_level",
                "discimus_enrolments.birth_date_contradicts_insz",
                "duo_registrations.duplicate_row", "duo_registrations.reference_date_stale",
                "duo_registrations.not_compulsory_school_age",
                "binc_naft_trajectories.outside_protocol_period",
                "binc_naft_trajectories.unknown_provider_aanbieder_id",
                "discimus_absences.halve_dagen_afwezig_out_of_bounds",
                "rijksregister_children.key_conflict"):
        assert by_key[key].blocking, key


def test_the_gx_query_names_the_batch_and_doubles_every_other_brace():
    rule = rules.by_key()["duo_registrations.invalid_format_brin"]
    assert "[0-9]{2}" in rule.sql_for() and "raw.duo_registrations" in rule.sql_for()
    query = rule.gx_query()
    assert "[0-9]{{2}}" in query and "(select * from {batch})" in query
    assert query.replace("{{", "{").replace("}}", "}").replace(
        "(select * from {batch})", "raw.duo_registrations") == rule.sql_for()


def test_rules_read_the_typed_layer_and_never_parse_raw_text_themselves():
    """Dates are parsed once, in typed_relation; a rule's own SQL holds no parsing."""
    typed_layer = [rules.typed_relation(spec) for spec in SOURCE_FILES]
    for rule in rules.all_rules():
        own = rule.sql
        for relation in typed_layer:
            own = own.replace(relation, "<typed>")
        assert "strptime" not in own, rule.key
        assert "try_cast" not in own, rule.key
    typed = rules.typed_relation(rules.BY_FILE_TYPE["duo_registrations"])
    assert "try_strptime(r.peildatum, '%d-%m-%Y')::date as peildatum" in typed


def _columns_with_meaning(spec):
    return [c for c in spec.columns if c.sensitivity == "plain" and (
        c.codes or c.pattern or c.refers_to or c.within or c.not_before
        or c.minimum is not None or c.maximum is not None or c.at_most)]


@pytest.mark.parametrize("spec", SOURCE_FILES, ids=lambda s: s.file_type)
def test_every_column_meaning_in_the_contract_brings_its_rules(spec):
    """Generated from the contract: each meaning a column declares gives its rule(s)."""
    ids = {r.id for r in rules.raw_rules(spec.file_type)}
    for c in _columns_with_meaning(spec):
        if c.codes is not None:
            assert {f"unknown_code_{c.name}", f"code_not_canonical_{c.name}"} <= ids, c.name
        if c.pattern:
            assert {f"invalid_format_{c.name}", f"code_not_canonical_{c.name}"} <= ids, c.name
        if c.refers_to:
            assert f"unknown_{c.refers_to}_{c.name}" in ids, c.name
        if c.within == "school_year":
            assert f"{c.name}_outside_school_year" in ids, c.name
        if c.within == "reference_date":
            assert f"{c.name}_after_reference_date" in ids, c.name
        if c.not_before:
            assert f"{c.name}_before_{c.not_before.lower()}" in ids, c.name
        if c.minimum is not None or c.maximum is not None or c.at_most:
            assert f"{c.name}_out_of_bounds" in ids, c.name
    assert {"duplicate_row", "key_conflict"} <= ids


def test_a_new_column_brings_its_checks_with_it():
    spec = rules.BY_FILE_TYPE["discimus_absences"]
    extra = dataclasses.replace(
        spec, columns=(*spec.columns, rules.Column("Halve_dagen_gewettigd", "int", minimum=0,
                                                   at_most="Halve_dagen_afwezig")))
    assert "halve_dagen_gewettigd_out_of_bounds" in {r.id for r in rules.contract_rules(extra)}


def test_school_days_follow_the_flemish_calendar():
    days = {y: rules.school_days(y) for y in ("2023-24", "2024-25")}
    assert all(170 <= n <= 185 for n in days.values()), days


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
