"""The plain-DuckDB reference of the benchmark: the same work as the warehouse's stages, written
as short DuckDB scripts with nothing around them, so ``make benchmark`` can print how far each
stage is from what DuckDB alone needs (``python -m tools.benchmark_reference STAGE ...``).

- ``ingestion``: every source file read with ``read_csv`` (all text), the contract's row rules
  as SQL (the same conditions as ingestion, the INSZ checksum as mod 97 in SQL), the INSZ turned
  into its keyed hash (the same HMAC macro), rows inserted into one table per file type;
- ``models``: the SQL dbt compiled and executed in the main job's dbt invocations, run in one
  DuckDB connection in the order dbt ran it, on a copy of the warehouse (no tests, no dbt);
- ``deliveries``: every delivery model copied to Parquet and to CSV (semicolon, header).

Each stage runs as its own process (``tools.benchmark`` measures it with ``wait4``). The
reference never writes into the benchmark's warehouse or outbox: it works in ``reference/``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import duckdb

from orchestration.foundations import pseudonymisation as pseudo
from orchestration.foundations.sources import SOURCE_FILES, SourceFile


def _connect(path: Path, memory_limit: str, temp: Path) -> duckdb.DuckDBPyConnection:
    temp.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), config={
        "threads": "2", "memory_limit": memory_limit, "preserve_insertion_order": "false",
        "temp_directory": str(temp)})


def _spec_of(path: Path) -> SourceFile | None:
    return next((s for s in SOURCE_FILES if s.source == path.parent.name and s.match(path.name)),
                None)


# INSZ (NN and BIS): 11 digits, check digits = 97 - (first nine mod 97), with a 2 prefixed to
# the first nine for people born from 2000 on. (The project's own rule also checks the date.)
INSZ_OK = ("(length({v}) = 11 and regexp_full_match({v}, '[0-9]{{11}}') and "
           "(97 - (cast(left({v}, 9) as bigint) % 97) = cast(right({v}, 2) as int) or "
           "97 - ((2000000000 + cast(left({v}, 9) as bigint)) % 97) = cast(right({v}, 2) as int)))")


def ingestion(source: Path, work: Path, memory_limit: str) -> None:
    from orchestration.ingestion.load import _rule_checks, _value

    started = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    target = work / "ingestion.duckdb"
    target.unlink(missing_ok=True)
    con = _connect(target, memory_limit, work / "tmp")
    pseudo.register_hmac(con, "pupil", pseudo.pupil_key_secret(pseudo.master_key()))
    created: set[str] = set()
    for path in sorted(source.glob("*/*.csv")):
        spec = _spec_of(path)
        if path.parent.name.startswith("_") or spec is None:
            continue
        types = ", ".join(f"'{c.name}': 'VARCHAR'" for c in spec.columns)
        checks = []
        for rule, column, condition in _rule_checks(spec):
            if rule == "invalid_insz":
                c = next(c for c in spec.columns if c.header == column)
                v = f"regexp_replace({_value(c)}, '\\D', '', 'g')"
                condition = f"{_value(c)} is not null and not coalesce({INSZ_OK.format(v=v)}, false)"
            checks.append(f"coalesce({condition}, false)")
        broken = " or ".join(checks) or "false"
        columns = []
        for c in spec.columns:
            if c.sensitivity == "insz":
                columns.append(f"hmac_pupil(regexp_replace({_value(c)}, '\\D', '', 'g')) "
                               f"as pupil_key")
            elif c.sensitivity == "plain":
                columns.append(f"{_value(c)} as \"{c.name}\"")
        select = (f"select {', '.join(columns)}, ({broken}) as _broken from read_csv('{path}', "
                  f"delim=';', quote='\"', escape='\"', header=true, auto_detect=false, "
                  f"columns={{{types}}}, encoding='utf-8')")
        table = f"raw_{spec.file_type}"
        if table in created:
            con.execute(f"insert into {table} {select}")
        else:
            con.execute(f"create table {table} as {select}")
            created.add(table)
    con.close()
    _record_seconds(work, "ingestion", time.perf_counter() - started)


def _executed_models(target: Path, run_id: str) -> list[dict]:
    """The models of the main job's dbt invocations, in the order dbt ran them: the
    invocations' own ``run_results.json`` (compiled SQL and relation) and manifests, in the
    target folders dagster-dbt names ``<op>-<run id, 7 characters>-<random>``."""
    runs = sorted(target.glob(f"*-{run_id[:7]}-*/run_results.json"),
                  key=lambda p: p.stat().st_mtime)
    models = []
    for run_results in runs:
        manifest = json.loads((run_results.parent / "manifest.json").read_text())
        for result in json.loads(run_results.read_text())["results"]:
            node = manifest["nodes"].get(result["unique_id"], {})
            if node.get("resource_type") != "model" or result.get("status") != "success":
                continue
            models.append({"relation": result.get("relation_name") or node["relation_name"],
                           "materialized": node["config"]["materialized"],
                           "sql": result.get("compiled_code") or node["compiled_code"]})
    return models


def models(warehouse: Path, dbt_target: Path, run_id: str, work: Path,
           memory_limit: str) -> None:
    from orchestration.deliveries.pseudonyms import register_pseudonym_macros
    from orchestration.protocols import load_registry

    plan = _executed_models(dbt_target, run_id)
    if not plan:
        raise SystemExit(f"no dbt invocation of run {run_id} in {dbt_target}")
    copy = work / "models" / warehouse.name  # same file name: the same catalog name as dbt's SQL
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(warehouse, copy)
    (work / "models" / "plan.json").write_text(json.dumps(plan))
    started = time.perf_counter()  # the copy above is set-up, not the reference's work
    con = _connect(copy, memory_limit, work / "tmp")
    register_pseudonym_macros(con, load_registry())
    for model in plan:
        kind = "view" if model["materialized"] == "view" else "table"
        for other in ("table", "view"):  # DuckDB drops a name only as the kind it is
            try:
                con.execute(f"drop {other} if exists {model['relation']}")
            except duckdb.CatalogException:
                pass
        con.execute(f"create or replace {kind} {model['relation']} as {model['sql']}")
    con.close()
    _record_seconds(work, "models", time.perf_counter() - started)


def _record_seconds(work: Path, stage: str, seconds: float) -> None:
    """The stage's own work in seconds (no interpreter start, no set-up copy), for the ratio."""
    (work / f"{stage}_seconds.json").write_text(json.dumps({"seconds": round(seconds, 1)}))


def deliveries(work: Path, memory_limit: str) -> None:
    started = time.perf_counter()
    copy = next((work / "models").glob("*.duckdb"))
    out = work / "deliveries"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    con = _connect(copy, memory_limit, work / "tmp")
    tables = [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where schema_name = 'deliveries' "
        "order by all").fetchall()]
    for table in tables:
        query = f"select * from deliveries.\"{table}\""
        con.execute(f"copy ({query}) to '{out / table}.csv' "
                    "(format csv, header true, delimiter ';', quote '\"')")
        con.execute(f"copy ({query}) to '{out / table}.parquet' (format parquet)")
    con.close()
    _record_seconds(work, "deliveries", time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmark_reference",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=("ingestion", "models", "deliveries"))
    parser.add_argument("--work", type=Path, required=True, help="the reference's own folder")
    parser.add_argument("--source", type=Path, help="ingestion: the population's folder")
    parser.add_argument("--warehouse", type=Path, help="models: the main job's warehouse")
    parser.add_argument("--dbt-target", type=Path, help="models: dbt's target folder")
    parser.add_argument("--run-id", default="", help="models: the main job's Dagster run id")
    parser.add_argument("--memory-limit", default="12GB")
    args = parser.parse_args(argv)
    if args.stage == "ingestion":
        ingestion(args.source, args.work, args.memory_limit)
    elif args.stage == "models":
        models(args.warehouse, args.dbt_target, args.run_id, args.work, args.memory_limit)
    else:
        deliveries(args.work, args.memory_limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
