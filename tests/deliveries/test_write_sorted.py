"""A delivery file and its Parquet twin hold the same rows in the same order at any size.

The warehouse runs DuckDB with ``preserve_insertion_order = false`` (settings.duckdb_config).
A CSV read back from a Parquet of several row groups then comes out in any order: at 1.2 million
pupils every vtc_2015_34 and naft_evaluation package failed its twin check that way, while the
600-pupil sample (one row group) passed. This test writes several row groups under the
warehouse's own settings."""

from __future__ import annotations

import duckdb
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from orchestration.deliveries import datapackage
from orchestration.foundations import settings

ROWS = 700_000  # about six Parquet row groups


def test_csv_and_parquet_hold_the_same_rows_in_the_same_sorted_order(data_dir, tmp_path):
    config = settings.duckdb_config(data_dir)
    assert config["preserve_insertion_order"] == "false"  # the warehouse's setting, tested here
    con = duckdb.connect(config=config)
    con.execute(f"""create table t as
                    select (i * 7919) % 1000003 as a, (i * 31) % 97 as b,
                           'x' || ((i * 13) % 1009) as c from range({ROWS}) r(i)""")
    csv_path, parquet_path = tmp_path / "f.csv", tmp_path / "f.parquet"
    rows = datapackage.write_sorted(con, "select a, b, c from t", csv_path, parquet_path)
    assert rows == ROWS
    assert pq.ParquetFile(parquet_path).metadata.num_row_groups > 1
    from_parquet = pq.read_table(parquet_path)
    from_csv = pa_csv.read_csv(csv_path, parse_options=pa_csv.ParseOptions(delimiter=";"))
    assert from_csv.column_names == from_parquet.column_names == ["a", "b", "c"]
    for name in ("a", "b", "c"):
        assert from_csv[name].to_pylist() == from_parquet[name].to_pylist(), name
    a = from_parquet["a"].to_pylist()
    assert a == sorted(a)
