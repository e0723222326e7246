"""GX 1.x on DuckDB: the engine fix, correct counts, privacy, raised expectations, file locks.

Every test uses a real DuckDB file and a real GX file context in ``tmp_path``.
"""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import pytest

from orchestration.quality import gx_duckdb, gx_runner, results_page
from orchestration.quality.gx_runner import ExpectationRaisedError, validate_table

pytestmark = pytest.mark.integration  # Great Expectations validations on DuckDB

# ---------------------------------------------------------------------------------------------
# helpers


def _make_warehouse(path: Path, *statements: str) -> Path:
    con = duckdb.connect(str(path))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()
    return path


def _scalar(path: Path, sql: str) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def _add_suite(project_root: Path, name: str, expectations: list) -> None:
    context = gx_runner.open_context(project_root)
    suite = context.suites.add(gx.ExpectationSuite(name=name))
    for expectation in expectations:
        suite.add_expectation(expectation)


def _assert_file_unlocked(path: Path) -> None:
    """A read-write connection from this process works, and can write."""
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE OR REPLACE TABLE main.lock_probe AS SELECT 1 AS x")
    finally:
        con.close()


# 100 rows in main.codes: id 0..99; status NULL for every 10th row (10 rows), 'zz' (not in the
# allowed set) for id % 7 == 0 and not NULL (13 rows), otherwise 'a' or 'b'.
CODES_TABLE = """
CREATE TABLE {table} AS
SELECT i AS id,
       CASE WHEN i % 10 = 0 THEN NULL
            WHEN i % 7 = 0 THEN 'zz'
            WHEN i % 2 = 0 THEN 'a' ELSE 'b' END AS status
FROM range(100) t(i)
"""


def _run_suite_directly(context, datasource, table_name: str, schema: str):
    """Validate not-null + in-set on ``schema.table_name`` through ``datasource``."""
    asset = datasource.add_table_asset(table_name, table_name=table_name, schema_name=schema)
    batch_definition = asset.add_batch_definition_whole_table("whole")
    suite = context.suites.add(gx.ExpectationSuite(name=f"codes_{datasource.name}"))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="status"))
    suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["a", "b"]))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"v_{datasource.name}", data=batch_definition, suite=suite)
    )
    try:
        return definition.run(result_format=gx_runner.privacy_safe_result_format("id"))
    finally:
        execution_engine = datasource.execution_engine
        if execution_engine is not None:
            execution_engine.close()
        datasource.get_engine().dispose()


# ---------------------------------------------------------------------------------------------
# the fix


def test_install_is_idempotent_and_explicit():
    first = gx_duckdb.install()
    assert gx_duckdb.install() is first
    assert gx_duckdb.is_installed()
    assert first.__fields__["type"].default == gx_duckdb.DATASOURCE_TYPE


def test_stock_sql_datasource_fails_on_duckdb_and_the_fix_gives_exact_counts(tmp_path):
    """Upstream GX #11579: the stock `sql` datasource returns no metrics on DuckDB.

    The stock datasource is used side by side with the fixed one in the same process: the fix
    is a separate datasource type, not a patch of GX. If the stock datasource ever starts
    working, upstream has fixed the defect and `gx_duckdb` can go (see its docstring).
    """
    warehouse = _make_warehouse(tmp_path / "w.duckdb", CODES_TABLE.format(table="main.codes"))
    context = gx_runner.open_context(tmp_path / "expectations")
    url = f"duckdb:///{warehouse}"

    stock = context.data_sources.add_sql("stock", connection_string=url)
    broken = _run_suite_directly(context, stock, "codes", "main")
    assert broken.success is False
    for result in broken.results:
        messages = gx_runner._raised_messages(result.exception_info)
        assert messages, "expected the stock engine to raise on DuckDB (GX #11579)"
        assert "unexpected_count" not in result.result
    all_messages = " ".join(
        m for r in broken.results for m in gx_runner._raised_messages(r.exception_info)
    )
    assert "list index out of range" in all_messages

    fixed_source = context.data_sources.add_duckdb_sql("fixed", connection_string=url)
    fixed = _run_suite_directly(context, fixed_source, "codes", "main")
    by_type = {r.expectation_config.type: r for r in fixed.results}
    for result in fixed.results:
        assert not gx_runner._raised_messages(result.exception_info)
    not_null = by_type["expect_column_values_to_not_be_null"].result
    in_set = by_type["expect_column_values_to_be_in_set"].result
    assert (not_null["element_count"], not_null["unexpected_count"]) == (100, 10)
    assert (in_set["element_count"], in_set["unexpected_count"]) == (100, 13)
    assert not_null["unexpected_percent"] == pytest.approx(10.0)
    _assert_file_unlocked(warehouse)


def test_fix_reflects_columns_outside_the_main_schema(tmp_path):
    """duckdb-engine 0.17 cannot reflect columns on SQLAlchemy >= 2.0.45; GX then queries the
    table without its schema. The fixed engine reads DuckDB's catalogue instead."""
    warehouse = _make_warehouse(
        tmp_path / "w.duckdb", "CREATE SCHEMA raw", CODES_TABLE.format(table="raw.codes")
    )
    context = gx_runner.open_context(tmp_path / "expectations")
    fixed_source = context.data_sources.add_duckdb_sql(
        "fixed", connection_string=f"duckdb:///{warehouse}"
    )
    engine = fixed_source.get_execution_engine()
    try:
        columns = engine.get_inspector().get_columns("codes", schema="raw")
        assert [c["name"] for c in columns] == ["id", "status"]
        assert [type(c["type"]).__name__ for c in columns] == ["BIGINT", "String"]
        assert engine.get_inspector().has_table("codes", schema="raw")
    finally:
        fixed_source.dispose()

    result = _run_suite_directly(context, fixed_source, "codes", "raw")
    counts = sorted(r.result["unexpected_count"] for r in result.results)
    assert counts == [10, 13]


# ---------------------------------------------------------------------------------------------
# the runner


def test_counts_on_one_million_rows(tmp_path, capsys):
    rows = 1_000_000
    warehouse = _make_warehouse(
        tmp_path / "w.duckdb",
        "CREATE SCHEMA marts",
        f"""
        CREATE TABLE marts.enrolments AS
        SELECT i AS enrolment_key,
               CASE WHEN i % 1000 = 0 THEN NULL ELSE 'code_' || (i % 5) END AS status,
               (i % 100)::INTEGER AS score
        FROM range({rows}) t(i)
        """,
    )
    expected_nulls = _scalar(
        warehouse, "SELECT count(*) FROM marts.enrolments WHERE status IS NULL"
    )
    expected_not_in_set = _scalar(
        warehouse, "SELECT count(*) FROM marts.enrolments WHERE status = 'code_4'"
    )
    expected_out_of_range = _scalar(
        warehouse, "SELECT count(*) FROM marts.enrolments WHERE score NOT BETWEEN 0 AND 89"
    )
    assert (expected_nulls, expected_not_in_set, expected_out_of_range) == (1000, 200000, 100000)

    root = tmp_path / "expectations"
    _add_suite(
        root,
        "enrolments",
        [
            gxe.ExpectColumnValuesToNotBeNull(column="status", meta={"rule": "status_present"}),
            gxe.ExpectColumnValuesToBeInSet(
                column="status", value_set=["code_0", "code_1", "code_2", "code_3"]
            ),
            gxe.ExpectColumnValuesToBeBetween(column="score", min_value=0, max_value=89),
        ],
    )
    started = time.perf_counter()
    outcome = validate_table(
        project_root=root,
        suite_name="enrolments",
        warehouse_path=warehouse,
        table="marts.enrolments",
        key_column="enrolment_key",
    )
    elapsed = time.perf_counter() - started
    with capsys.disabled():  # shown in a normal `pytest -q` run
        print(f"\n[timing] GX SQL validation, 3 expectations, {rows:,} rows: {elapsed:.2f} s")

    by_type = {e.expectation_type: e for e in outcome.expectations}
    assert by_type["expect_column_values_to_not_be_null"].unexpected_count == expected_nulls
    assert by_type["expect_column_values_to_be_in_set"].unexpected_count == expected_not_in_set
    assert by_type["expect_column_values_to_be_between"].unexpected_count == expected_out_of_range
    assert all(e.element_count == rows for e in outcome.expectations)
    assert outcome.success is False and len(outcome.failed) == 3
    assert by_type["expect_column_values_to_not_be_null"].meta == {"rule": "status_present"}
    assert by_type["expect_column_values_to_not_be_null"].unexpected_percent == pytest.approx(0.1)
    query = by_type["expect_column_values_to_not_be_null"].unexpected_index_query
    assert "enrolment_key" in query and "marts.enrolments" in query
    _assert_file_unlocked(warehouse)


FAKE_PEOPLE = [
    # (person_key, full_name, insz): INSZ-like strings, some badly formatted, one duplicated
    ("p01", "Jan Peeters", "85073003328"),
    ("p02", "Marie Janssens", "90.02.14-123.45"),
    ("p03", "luc MAES", "77111512345"),
    ("p04", "Sofie Jacobs-Vandenbroucke", "77111512345"),
    ("p05", "Ahmed El Amrani", "02.10.05-987.61"),
    ("p06", "Els Willems", None),
]
SECRET_VALUES = sorted({v for _, name, insz in FAKE_PEOPLE for v in (name, insz) if v})


def test_results_and_data_docs_never_contain_personal_values(tmp_path):
    values = ", ".join(
        "(" + ", ".join("NULL" if v is None else f"'{v}'" for v in row) + ")" for row in FAKE_PEOPLE
    )
    warehouse = _make_warehouse(
        tmp_path / "w.duckdb",
        "CREATE SCHEMA raw",
        "CREATE TABLE raw.people (person_key VARCHAR, full_name VARCHAR, insz VARCHAR)",
        f"INSERT INTO raw.people VALUES {values}",
    )
    root = tmp_path / "expectations"
    _add_suite(
        root,
        "people",
        [
            # GX 1.24 has no regex/LIKE SQL for the duckdb dialect ("Regex is not supported"):
            # format rules are written as SQL (braces doubled: GX formats the query).
            gxe.UnexpectedRowsExpectation(
                unexpected_rows_query=(
                    "SELECT person_key, insz FROM {batch} "
                    "WHERE NOT regexp_full_match(insz, '[0-9]{{11}}')"
                ),
                description="INSZ has 11 digits",
                meta={"article7": "accuracy", "rule": "insz_format"},
            ),
            gxe.ExpectColumnValueLengthsToEqual(column="insz", value=11),
            gxe.ExpectColumnValueLengthsToBeBetween(
                column="full_name", max_value=14, severity="warning"
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="insz"),
            gxe.ExpectColumnValuesToBeUnique(column="insz"),
            gxe.ExpectColumnDistinctValuesToBeInSet(column="insz", value_set=["00000000000"]),
            gxe.ExpectColumnMostCommonValueToBeInSet(column="full_name", value_set=["Nobody"]),
        ],
    )
    outcome = validate_table(
        project_root=root,
        suite_name="people",
        warehouse_path=warehouse,
        table="raw.people",
        key_column="person_key",
    )
    by_key = {(e.expectation_type, e.kwargs.get("column")): e for e in outcome.expectations}
    insz_format = by_key[("unexpected_rows_expectation", None)]
    assert insz_format.unexpected_count == 2
    assert insz_format.meta == {"article7": "accuracy", "rule": "insz_format"}
    assert by_key[("expect_column_value_lengths_to_equal", "insz")].unexpected_count == 2
    name_length = by_key[("expect_column_value_lengths_to_be_between", "full_name")]
    assert name_length.unexpected_count == 2 and name_length.severity == "warning"
    assert by_key[("expect_column_values_to_not_be_null", "insz")].unexpected_count == 1
    assert by_key[("expect_column_values_to_be_unique", "insz")].unexpected_count == 2
    assert not outcome.success

    returned = json.dumps([asdict(e) for e in outcome.expectations])
    raw = json.dumps(outcome.raw_result)
    docs_index = gx_runner.build_data_docs(root)
    assert docs_index.name == "index.html" and docs_index.is_file()
    html_files = list(docs_index.parent.rglob("*.html"))
    assert len(html_files) > 1  # index + suite page + validation page
    validation_pages = [p for p in html_files if "validations" in p.parts]
    assert validation_pages, "Data Docs rendered no validation result page"
    stored = list((root / "gx" / "uncommitted" / "validations").rglob("*.json"))
    assert stored

    for value in SECRET_VALUES:
        assert value not in returned, f"{value!r} in the returned outcomes"
        assert value not in raw, f"{value!r} in the raw GX result"
        for path in [*html_files, *stored]:
            assert value not in path.read_text(encoding="utf-8"), f"{value!r} in {path}"
    # what is there instead: counts and a query over the key column
    query = by_key[("expect_column_value_lengths_to_equal", "insz")].unexpected_index_query
    assert "person_key" in query and "raw.people" in query

    # our offline page: no CDN, no external reference, the counts of every expectation
    page = results_page.render(root)
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", text), "external reference"
    assert "http://" not in text and "https://" not in text
    for value in SECRET_VALUES:
        assert value not in text
    assert "people" in text and f"{len(outcome.expectations) - sum(e.success for e in outcome.expectations)}" in text
    rows = re.findall(r"<tr class='(pass|fail)'>(.*?)</tr>", text)
    assert len(rows) == len(outcome.expectations)
    numbers = {re.sub(r"<[^>]+>", "|", r[1]) for r in rows}
    assert any("|2|" in n for n in numbers) and any("|1|" in n for n in numbers)  # the counts
    _assert_file_unlocked(warehouse)


def test_sanitiser_strips_values_from_a_complete_gx_result(tmp_path):
    """COMPLETE copies values into the result; the sanitiser removes them (counts stay)."""
    warehouse = _make_warehouse(
        tmp_path / "w.duckdb",
        "CREATE TABLE main.people (person_key VARCHAR, full_name VARCHAR)",
        "INSERT INTO main.people VALUES "
        "('p1', 'Jan Peeters'), ('p2', 'Marie Janssens'), ('p3', 'x')",
    )
    context = gx_runner.open_context(tmp_path / "expectations")
    source = context.data_sources.add_duckdb_sql("w", connection_string=f"duckdb:///{warehouse}")
    asset = source.add_table_asset("people", table_name="people")
    batch_definition = asset.add_batch_definition_whole_table("all")
    suite = context.suites.add(gx.ExpectationSuite(name="names"))
    suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="full_name", value_set=["x"]))
    suite.add_expectation(
        gxe.ExpectColumnDistinctValuesToBeInSet(column="full_name", value_set=["x"])
    )
    try:
        result = gx.ValidationDefinition(name="complete", data=batch_definition, suite=suite).run(
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": ["person_key"],
            }
        )
    finally:
        source.dispose()
    assert "Jan Peeters" in json.dumps(result.to_json_dict())  # GX does copy values

    as_dict = gx_runner.sanitize_validation_result(result.to_json_dict())
    gx_runner.sanitize_validation_result(result)
    for sanitised in (as_dict, result.to_json_dict()):
        text = json.dumps(sanitised)
        assert "Jan Peeters" not in text and "Marie Janssens" not in text
        in_set = sanitised["results"][0]["result"]
        assert in_set["unexpected_count"] == 2 and in_set["element_count"] == 3
        assert not set(in_set) & gx_runner.VALUE_KEYS
        assert sanitised["results"][1]["result"].get("observed_value") in (None, gx_runner.REDACTED)


def test_expectation_that_raised_is_an_error_not_a_data_defect(tmp_path):
    warehouse = _make_warehouse(
        tmp_path / "w.duckdb",
        CODES_TABLE.format(table="main.codes"),
        "ALTER TABLE main.codes ADD COLUMN full_name VARCHAR DEFAULT 'Jan Peeters'",
    )
    root = tmp_path / "expectations"
    _add_suite(
        root,
        "codes",
        [
            gxe.ExpectColumnValuesToNotBeNull(column="status"),
            gxe.ExpectColumnValuesToNotBeNull(column="does_not_exist"),
            # DuckDB's error quotes the row value: "Could not convert string 'Jan Peeters'"
            gxe.ExpectColumnValuesToBeInSet(column="full_name", value_set=[1, 2]),
        ],
    )
    with pytest.raises(ExpectationRaisedError) as raised:
        validate_table(
            project_root=root,
            suite_name="codes",
            warehouse_path=warehouse,
            table="codes",
            key_column="id",
        )
    error = raised.value
    assert [(f[0], f[1]["column"]) for f in error.failures] == [
        ("expect_column_values_to_not_be_null", "does_not_exist"),
        ("expect_column_values_to_be_in_set", "full_name"),
    ]
    assert "does_not_exist" in str(error) and "not a data defect" in str(error)
    assert "Could not convert string" in str(error)  # the cause stays readable ...
    assert "Jan Peeters" not in str(error)  # ... without the value
    for path in (root / "gx" / "uncommitted").rglob("*.json"):
        assert "Jan Peeters" not in path.read_text(encoding="utf-8"), path
    _assert_file_unlocked(warehouse)


def test_context_with_duckdb_datasource_fails_loudly_without_install(tmp_path):
    """Without `gx_duckdb.install()` GX refuses to load the context (instead of validating with
    the defective stock engine), and importing `gx_duckdb` alone installs nothing. Run in a
    fresh interpreter."""
    warehouse = _make_warehouse(tmp_path / "w.duckdb", CODES_TABLE.format(table="main.codes"))
    root = tmp_path / "expectations"
    _add_suite(root, "codes", [gxe.ExpectColumnValuesToNotBeNull(column="status")])
    validate_table(
        project_root=root,
        suite_name="codes",
        warehouse_path=warehouse,
        table="codes",
        key_column="id",
    )
    script = (
        "import great_expectations as gx\n"
        "import orchestration.quality.gx_duckdb as m\n"
        "assert not m.is_installed()\n"
        f"gx.get_context(mode='file', project_root_dir={str(root)!r})\n"
    )
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],  # the project root, for `orchestration`
        timeout=300,
    )
    assert done.returncode != 0
    assert "type duckdb_sql was not found" in done.stderr


def test_warehouse_file_is_not_locked_after_validation(tmp_path):
    warehouse = _make_warehouse(
        tmp_path / "w.duckdb", "CREATE SCHEMA raw", CODES_TABLE.format(table="raw.codes")
    )
    root = tmp_path / "expectations"
    _add_suite(root, "codes", [gxe.ExpectColumnValuesToNotBeNull(column="status")])
    for _ in range(2):  # second run reuses the stored datasource, asset and definition
        outcome = validate_table(
            project_root=root,
            suite_name="codes",
            warehouse_path=warehouse,
            table="raw.codes",
            key_column="id",
        )
        assert outcome.expectations[0].unexpected_count == 10
        _assert_file_unlocked(warehouse)
    # the committed config holds no machine-specific path
    config = (root / "gx" / "great_expectations.yml").read_text()
    assert "type: duckdb_sql" in config and str(warehouse) not in config
    assert "analytics_enabled: false" in config
