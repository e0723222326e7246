"""Backfill of one past school year through Dagster, on a copy of the sample warehouse the main job
built: the backfilled year comes out exactly as the full build made it (even after its rows were
deleted first), every other school year and every other table stays byte-identical (content hash
per table and school year), and dbt ran for that window only: one dbt invocation with the window
as vars (its run_results.json), every incremental model deleted and inserted only the window's
rows (the SQL dbt ran), and only that partition was recorded. No delivery goes out."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import dagster as dg
import pytest

from orchestration.foundations import settings
from orchestration.transform.assets import plain_dbt_models, school_year_dbt_models
from orchestration.platform.dbt_project import warehouse_dbt_project
from orchestration.foundations.warehouse import connect

pytestmark = pytest.mark.slow(main_job_runs=1)  # the backfill job on a copy of the warehouse
YEAR = "2019-20"  # the past school year to backfill
SCHEMAS = ("raw", "intermediate", "marts", "deliveries", "reference", "linkage")


def content_hashes(p: settings.Paths) -> dict[str, tuple[str, int]]:
    """md5 of the rows (as text, sorted) per table and school year; per table when it has no
    school_year column. Views are left out: they hold no rows of their own."""
    out: dict[str, tuple[str, int]] = {}
    with connect(p, read_only=True) as con:
        tables = con.execute(f"""
            select t.table_schema, t.table_name,
                   bool_or(c.column_name = 'school_year') as by_year
            from information_schema.tables as t
            inner join information_schema.columns as c
                on t.table_schema = c.table_schema and t.table_name = c.table_name
            where t.table_type = 'BASE TABLE' and t.table_schema in {SCHEMAS}
              and t.table_catalog = current_database()
            group by all order by all""").fetchall()
        for schema, table, by_year in tables:
            group = "school_year" if by_year else "'all'"
            rows = con.execute(f"""
                select {group} as part, md5(string_agg(r, chr(10) order by r)), count(*)
                from (select {group if by_year else "null"} as school_year, t::varchar as r
                      from {schema}.{table} as t)
                group by all""").fetchall()
            for part, digest, n in rows:
                out[f"{schema}.{table}/{part}"] = (digest, n)
    return out


def incremental_models() -> list[dict]:
    manifest = json.loads(warehouse_dbt_project.manifest_path.read_text())
    return [n for n in manifest["nodes"].values()
            if n["resource_type"] == "model" and n["config"]["materialized"] == "incremental"]


def file_hashes(folder: Path) -> dict[str, str]:
    return {f.relative_to(folder).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file()}


def dbt_runs(op_name: str, run_id: str) -> list[Path]:
    """The target folders dagster-dbt gave the dbt invocations of one op in one run."""
    return sorted((warehouse_dbt_project.project_dir / "target").glob(f"{op_name}-{run_id[:7]}-*"))


def dbt_args(target: Path) -> dict:
    return json.loads((target / "run_results.json").read_text())["args"]


def executed_sql(target: Path, model: dict) -> str:
    return (target / "run" / model["package_name"] / model["original_file_path"]).read_text()


@pytest.fixture(scope="module")
def backfill(pipeline, tmp_path_factory):
    """Copy the built warehouse, alter two things, backfill YEAR through Dagster."""
    assert pipeline.second.success
    data = tmp_path_factory.mktemp("backfill") / "data"
    shutil.copytree(pipeline.paths.data, data)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.ENV_DATA_DIR, str(data))
        mp.setenv(settings.ENV_MEMORY_LIMIT, "4GB")
        mp.setenv("WAREHOUSE_PATH", str(data / "warehouse" / "warehouse.duckdb"))
        mp.delenv("PROTOCOL_WAREHOUSE_MASTER_KEY", raising=False)
        mp.delenv("PROTOCOL_WAREHOUSE_ALLOW_DEVELOPMENT_KEY", raising=False)
        p = settings.paths()
        full_build = content_hashes(p)
        outbox_before = file_hashes(p.outbox)
        with connect(p) as con:
            # the window's rows are gone: the backfill must bring them back exactly
            con.execute("delete from marts.pupil_year where school_year = ?", [YEAR])
            con.execute("delete from intermediate.int_pupil_years where school_year = ?", [YEAR])
        before = content_hashes(p)
        from orchestration.definitions import defs
        result = defs.resolve_job_def("school_year_backfill_job").execute_in_process(
            partition_key=YEAR, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
        yield {"result": result, "full_build": full_build, "before": before,
               "after": content_hashes(p), "outbox_before": outbox_before,
               "outbox_after": file_hashes(p.outbox)}


def test_the_backfill_of_one_school_year_succeeds(backfill):
    assert backfill["result"].success


def test_the_backfilled_year_is_exactly_what_the_full_build_made(backfill):
    full, after = backfill["full_build"], backfill["after"]
    window = {k for k in full if k.endswith(f"/{YEAR}")}
    assert {"marts.pupil_year/" + YEAR, "marts.school_year/" + YEAR,
            "intermediate.int_pupil_years/" + YEAR,
            "intermediate.int_pupil_enrolments/" + YEAR} <= window
    assert {k: after.get(k) for k in window} == {k: full[k] for k in window}


def test_every_other_school_year_and_table_stays_byte_identical(backfill):
    before, after = backfill["before"], backfill["after"]
    others = {k for k in before if not k.endswith(f"/{YEAR}")}
    assert len(others) > 200
    assert {k for k in after if not k.endswith(f"/{YEAR}")} == others
    assert {k: after[k] for k in others} == {k: before[k] for k in others}


def test_dbt_ran_once_for_the_window_only(backfill):
    result = backfill["result"]
    [target] = dbt_runs("school_year_dbt_models", result.run_id)
    args = dbt_args(target)
    assert args["vars"] == {"school_year_from": YEAR, "school_year_to": YEAR}
    assert not args.get("full_refresh")
    assert not dbt_runs("plain_dbt_models", result.run_id)
    window = f"school_year between '{YEAR}' and '{YEAR}'"
    models = incremental_models()
    assert len(models) >= 20
    for model in models:  # delete the window's rows, insert the window's rows, nothing else
        sql = executed_sql(target, model).lower()
        assert sql.count(window) == 2 and "delete from" in sql and "insert into" in sql, \
            model["name"]
        assert "create table" not in sql.split("delete from")[0], model["name"]
    materialized = result.get_asset_materialization_events()
    dbt_events = [e for e in materialized if e.asset_key in set(school_year_dbt_models.keys)]
    assert dg.AssetKey(["marts", "pupil_year"]) in {e.asset_key for e in dbt_events}
    assert {e.partition for e in dbt_events} == {YEAR}
    assert {e.partition for e in materialized if e.asset_key.path[0] == "raw"} == {YEAR}
    assert not {e.asset_key for e in materialized} & set(plain_dbt_models.keys)


def test_no_delivery_went_out(backfill):
    assert backfill["outbox_after"] == backfill["outbox_before"]
    assert not any(e.asset_key.path[0] == "delivery"
                   for e in backfill["result"].get_asset_materialization_events())


def test_the_main_job_builds_every_school_year_in_one_full_dbt_build(pipeline):
    [target] = dbt_runs("school_year_dbt_models", pipeline.first.run_id)
    args = dbt_args(target)
    assert args.get("full_refresh") and not args.get("vars")  # an ordinary full build, no window
    assert len(dbt_runs("plain_dbt_models", pipeline.first.run_id)) == 1
