"""The synthetic twin of a delivery: same files and schema, no real row on the identifying
columns, marginals of the real file within tolerance, small cells never drawn. Real DuckDB,
real Parquet, the real writer."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.be import ssn

from orchestration.deliveries import datapackage, package_docs, synthetic_twin, writer
from orchestration.disclosure.policy import policy_from_registry
from orchestration.protocols import load_registry
from tests.deliveries.conftest import build, synthetic_insz

REGISTRY = load_registry()
ZORGTHUIS = REGISTRY.protocol("zorgthuis")
VERIFICATION = ZORGTHUIS.delivery_file("verification_list")
THRESHOLD = policy_from_registry(ZORGTHUIS, VERIFICATION).threshold


def _real_file(path, list_kinds: dict[str, int], *, schools: int = 100, branches: int = 400
               ) -> int:
    """A verification list as the writer writes it: ``list_kinds`` value -> rows."""
    n = sum(list_kinds.values())
    kinds = " union all ".join(f"select '{k}' as list_kind from range({c})"
                               for k, c in list_kinds.items() if c)
    insz = "[" + ", ".join(f"'{synthetic_insz(i)}'" for i in range(n)) + "]"
    con = duckdb.connect()
    con.execute(f"""copy (
        select {insz}[row_number() over ()] as insz, '2023-24' as school_year,
               (['first_school_day_of_october', 'january_15', 'first_school_day_of_february',
                 'may_15'])[1 + (row_number() over ()) % 4] as counting_date_name,
               date '2023-10-02' as counting_date, list_kind,
               (row_number() over ()) % 3 = 0 as mfc_non_voluntary,
               'SCH' || ((row_number() over ()) % {schools}) as institution_number,
               cast(1 + (row_number() over ()) % {branches} as integer) as branch_number
        from ({kinds})) to '{path}' (format parquet)""")
    con.close()
    return n


def _twin(tmp_path, list_kinds, **kw):
    real = tmp_path / "real.parquet"
    n = _real_file(real, list_kinds, **kw)
    con = duckdb.connect()
    plans = synthetic_twin.twin_table(con, ZORGTHUIS, VERIFICATION, real, "twin", "salt")
    return con, real, n, {p.name: p for p in plans}


def test_the_twin_keeps_the_schema_and_marginals_and_no_real_identifier(tmp_path):
    con, real, n, plans = _twin(tmp_path, {"VOORLOPIG": 600, "DEFINITIEF": 200})
    con.execute(f"create table real as select * from read_parquet('{real}')")
    assert con.execute("describe twin").fetchall() == con.execute("describe real").fetchall()
    assert con.execute("select count(*) from twin").fetchone()[0] == n
    # identifying: fresh, never a real one, never a valid INSZ, still unique
    assert plans["insz"].method == "fresh"
    assert con.execute("select count(*) from twin join real using (insz)").fetchone()[0] == 0
    twin_insz = [r[0] for r in con.execute("select insz from twin").fetchall()]
    assert all(len(x) == 11 and x.isdigit() and not ssn.is_valid(x) for x in twin_insz)
    assert len(set(twin_insz)) == n
    # marginals within tolerance (3 standard errors of a share)
    for column in ("list_kind", "counting_date_name", "mfc_non_voluntary"):
        real_share = dict(con.execute(f"select {column}::varchar, count(*) / {n} from real "
                                      "group by 1").fetchall())
        twin_share = dict(con.execute(f"select {column}::varchar, count(*) / {n} from twin "
                                      "group by 1").fetchall())
        assert set(twin_share) == set(real_share), column
        for value, share in real_share.items():
            tolerance = 3 * (share * (1 - share) / n) ** 0.5 + 1e-9
            assert abs(twin_share[value] - share) <= tolerance, (column, value)
    # a number whose values are all small cells: drawn from clamped bins, never an extreme
    assert plans["branch_number"].method == "binned"
    lo, hi, real_median = con.execute("select min(branch_number), max(branch_number), "
                                      "median(branch_number) from real").fetchone()
    t_lo, t_hi, t_median = con.execute("select min(branch_number), max(branch_number), "
                                       "median(branch_number) from twin").fetchone()
    assert lo < t_lo and t_hi < hi
    assert abs(t_median - real_median) <= (hi - lo) / 10
    # text whose values are all small cells: nothing kept, empty (the column may be)
    assert plans["institution_number"].method == "empty"
    assert plans["institution_number"].suppressed_cells == 100


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(voorlopig=st.integers(0, 60), definitief=st.integers(0, 60))
def test_a_value_held_by_fewer_rows_than_the_threshold_is_never_drawn(tmp_path, voorlopig,
                                                                      definitief):
    if voorlopig + definitief == 0:
        return
    con, _, n, plans = _twin(tmp_path, {"VOORLOPIG": voorlopig, "DEFINITIEF": definitief})
    drawn = {r[0] for r in con.execute("select distinct list_kind from twin").fetchall()}
    real = {"VOORLOPIG": voorlopig, "DEFINITIEF": definitief}
    for value, count in real.items():
        if 0 < count < THRESHOLD:
            assert value not in drawn or all(c < THRESHOLD for c in real.values()), \
                (value, count, drawn)
    kept = {v for v, c in real.items() if c >= THRESHOLD}
    if kept:
        assert drawn == kept
        assert plans["list_kind"].suppressed_cells == sum(0 < c < THRESHOLD
                                                          for c in real.values())
    else:  # nothing left: a registry code, uniformly (the column is required)
        assert drawn <= {"VOORLOPIG", "DEFINITIEF"} and plans["list_kind"].method == "fallback"


@pytest.mark.integration
def test_every_delivery_carries_a_valid_twin_with_the_same_files_and_schema(warehouse):
    build(warehouse, {"zorgthuis"}, rows=60, vault_people=60)
    outcome = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1))
    real, twin = outcome.folder, outcome.folder / synthetic_twin.TWIN_FOLDER
    data_files = sorted(p.name for p in real.iterdir() if p.suffix in (".csv", ".parquet")
                        and p.name != package_docs.CODEBOOK)
    assert data_files and sorted(p.name for p in twin.iterdir() if p.suffix in (
        ".csv", ".parquet") and p.name != package_docs.CODEBOOK) == data_files
    for name in package_docs.DOCUMENTS:
        assert (twin / name).is_file()
    assert "SYNTHETI" in (twin / "README.md").read_text(encoding="utf-8")
    assert (twin / package_docs.CODEBOOK).read_bytes() == (real / package_docs.CODEBOOK
                                                           ).read_bytes()
    validation = datapackage.validate(twin / "datapackage.json")
    assert validation.valid, validation.errors
    real_body = json.loads((real / "datapackage.json").read_text())
    twin_body = json.loads((twin / "datapackage.json").read_text())
    assert twin_body["synthetic"] is True and twin_body["twin_of_delivery"] == outcome.delivery_id
    schemas = {r["path"]: r.get("schema") for r in real_body["resources"]}
    assert {r["path"]: r.get("schema") for r in twin_body["resources"]} == schemas
    for name in data_files:
        if name.endswith(".parquet"):
            assert [(f.name, f.type) for f in pq.read_schema(twin / name)] == \
                [(f.name, f.type) for f in pq.read_schema(real / name)]
            identifying = synthetic_twin.identifying_columns(
                ZORGTHUIS.delivery_file(name.rsplit("_", 1)[0]))
            if identifying:
                columns = ", ".join(identifying)
                con = duckdb.connect()
                same = con.execute(
                    f"select count(*) from (select {columns} from '{twin / name}' intersect "
                    f"select {columns} from '{real / name}')").fetchone()[0]
                assert same == 0
                rows = con.execute(f"select count(*) from '{twin / name}'").fetchone()[0]
                assert rows == con.execute(f"select count(*) from '{real / name}'").fetchone()[0]
                con.close()


def test_the_same_salt_makes_the_same_twin_and_another_salt_another(tmp_path):
    real = tmp_path / "real.parquet"
    _real_file(real, {"VOORLOPIG": 300, "DEFINITIEF": 100}, schools=4, branches=9)

    def twin_bytes(salt: str, name: str) -> bytes:
        con = duckdb.connect()
        con.execute("set threads = 4; set preserve_insertion_order = false")
        synthetic_twin.twin_table(con, ZORGTHUIS, VERIFICATION, real, "twin", salt)
        csv, parquet = tmp_path / f"{name}.csv", tmp_path / f"{name}.parquet"
        datapackage.write_sorted(con, "select * from twin", csv, parquet)
        return csv.read_bytes() + parquet.read_bytes()

    assert twin_bytes("one", "a") == twin_bytes("one", "b")
    assert twin_bytes("one", "a") != twin_bytes("two", "c")
