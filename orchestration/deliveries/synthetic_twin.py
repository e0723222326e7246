"""The synthetic twin of a delivery: the same files, schema, codebook and value distributions as
the real package, but rows of no real person, in ``<delivery>/synthetic_twin/``.

A recipient writes and tests code on the twin before the real data arrive, or outside the
secure environment. How each column of each file is made, in DuckDB, set-based:

- **identifying columns** (the registry's ``identifier`` columns and every column the writer
  fills from the vault or a request: INSZ, names, address) are made anew. A pseudonym keeps its
  prefix and key version, with 32 fresh letters from a keyed hash under a random salt of this
  twin only, so the twin's files still join on it the way the real ones do (the same codes
  recur across files), while no code is a real one; an 11-digit national number becomes 11
  digits whose check digits are deliberately wrong (no real INSZ, a validator flags it); other
  text becomes ``SYN-<letters>``. The values are then shuffled, so row order says nothing.
- **every other column** is drawn on its own from its marginal distribution in the real file,
  after the disclosure rule of the protocol (``orchestration.disclosure`` policy: values held by
  fewer than ``threshold`` rows are suppressed, i.e. never drawn). A number or date whose kept
  values cover less than half of the rows is drawn instead from ``k`` equal-frequency bins
  (``k`` = rows / threshold, at most 20) with the outer tails clamped to the inner cut points, so
  no extreme (one person's) value is ever kept. A column with nothing left to draw from is empty
  when it may be, else a fresh code (text), a registry code value (coded columns) or 0 / the
  first of the year of the median (numbers, dates).

Columns are drawn independently: combinations across columns are not those of real people.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from orchestration.deliveries import datapackage, package_docs
from orchestration.deliveries.pseudonyms import CODE_ALPHABET
from orchestration.deliveries.spec import fills_of
from orchestration import disclosure
from orchestration.protocols.codebook import load_codebook
from orchestration.protocols.registry import DeliveryFile, Protocol

TWIN_FOLDER = "synthetic_twin"
MAX_BINS = 20
NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "DOUBLE", "FLOAT")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _path(path: Path) -> str:
    return str(path).replace("'", "''")


def identifying_columns(delivery: DeliveryFile) -> list[str]:
    """The columns a twin never draws from the real values: identifiers and vault fills."""
    filled = {f.column for f in fills_of(delivery)}
    return [v.name for v in delivery.variables if v.identifier or v.name in filled]


@dataclass(frozen=True)
class ColumnPlan:
    """How one column of a twin is made (for the metadata and the tests)."""

    name: str
    method: str  # fresh | marginal | binned | empty | fallback
    kept_cells: int = 0
    suppressed_cells: int = 0


def _letters(expr: str, salt: str, length: int = 32) -> str:
    """``length`` letters of the code alphabet from md5(salt || expr), in SQL."""
    hexed = f"md5('{salt}' || coalesce(cast({expr} as varchar), ''))"
    if length > 32:
        hexed = f"({hexed} || md5('{salt}x' || coalesce(cast({expr} as varchar), '')))"
    return f"translate(left({hexed}, {length}), '0123456789abcdef', '{CODE_ALPHABET}')"


def _fresh_identifier(con: duckdb.DuckDBPyConnection, column: str, salt: str) -> str:
    """SQL of a fresh value of an identifying column of ``__twin_real``, per real value."""
    c = _q(column)
    digits = con.execute(f"select count(*) filter (where {c} is not null), count(*) filter "
                         f"(where regexp_full_match({c}, '[0-9]{{11}}')), max(regexp_extract("
                         f"{c}, '^([A-Z]{{2,5}}[0-9]+-)', 1)) from __twin_real").fetchone()
    non_null, elevens, prefix = digits
    if non_null and elevens == non_null:
        # 9 digits from the hash, then check digits that fail both INSZ checksums
        h = f"(hash('{salt}' || {c}) % 1000000000)"
        good_19 = f"(97 - {h} % 97)"
        good_20 = f"(97 - (2000000000 + {h}) % 97)"
        bad = (f"(case when ({good_19} + 1) % 97 = {good_20} then ({good_19} + 2) % 97 "
               f"else ({good_19} + 1) % 97 end)")
        return (f"case when {c} is null then null else lpad(cast({h} as varchar), 9, '0') || "
                f"lpad(cast({bad} as varchar), 2, '0') end")
    if prefix:
        return f"case when {c} is null then null else '{prefix}' || {_letters(c, salt)} end"
    return f"case when {c} is null then null else 'SYN-' || {_letters(c, salt, 12)} end"


def _uniform(salt: str, stream: str, row: str) -> str:
    """SQL of a uniform draw in [0, 1) keyed by this twin's salt, the draw's ``stream`` (file,
    column, purpose) and ``row``: the same salt gives the same twin, byte for byte, whatever
    order or threads DuckDB runs in (``random()`` does not); a fresh salt, a fresh twin."""
    return f"((hash('{salt}', '{stream}', {row}) >> 11) / 9007199254740992.0)"


def _marginal_cells(con: duckdb.DuckDBPyConnection, column: str, threshold: int
                    ) -> tuple[int, int, int]:
    """Kept cells, suppressed cells and rows in kept cells (NULL is always kept)."""
    return con.execute(
        f"select count(*) filter (where n >= {threshold} or v is null), "
        f"count(*) filter (where n < {threshold} and v is not null), "
        f"coalesce(sum(n) filter (where n >= {threshold} or v is null), 0) "
        f"from (select {_q(column)} as v, count(*) as n from __twin_real group by 1)").fetchone()


def _draw_marginal(column: str, threshold: int, salt: str, stream: str) -> str:
    """A relation (i, v): one value per twin row drawn from the kept cells, set-based."""
    c = _q(column)
    return f"""(
        with cells as (select {c} as v, count(*) as n from __twin_real group by 1
                       having count(*) >= {threshold} or {c} is null),
             cum as (select v, sum(n) over (order by v nulls last) - n as lo,
                            sum(n) over (order by v nulls last) as hi from cells),
             total as (select sum(n) as t from cells),
             draws as (select i, floor({_uniform(salt, stream, 'i')} * (select t from total)) as u
                       from __twin_rows)
        select draws.i, cum.v from draws join cum on draws.u >= cum.lo and draws.u < cum.hi)"""


def _draw_binned(con: duckdb.DuckDBPyConnection, column: str, type_: str, threshold: int,
                 salt: str, stream: str) -> tuple[str, int]:
    c = _q(column)
    is_date = type_ == "DATE"
    x = f"({c} - date '1970-01-01')" if is_date else f"cast({c} as double)"
    non_null, null_rows = con.execute(f"select count({c}), count(*) - count({c}) "
                                      f"from __twin_real").fetchone()
    k = min(MAX_BINS, non_null // threshold)
    if k < 3:
        return "", k
    cuts = con.execute(f"select quantile_cont({x}, [{', '.join(str(i / k) for i in range(1, k))}])"
                       f" from __twin_real").fetchone()[0]
    edges = [cuts[0], *cuts, cuts[-1]]  # tails clamped: no extreme value kept
    edge_list = "[" + ", ".join(repr(float(e)) for e in edges) + "]"
    value = (f"(list_extract({edge_list}, b + 1) + {_uniform(salt, stream + '/value', 'i')} * "
             f"(list_extract({edge_list}, b + 2) - list_extract({edge_list}, b + 1)))")
    if is_date:
        value = f"date '1970-01-01' + cast(round({value}) as integer)"
    null_share = null_rows / (non_null + null_rows)
    return f"""(
        select i, case when {_uniform(salt, stream + '/null', 'i')} < {null_share} then null
                       else {value} end as v
        from (select i, cast(floor({_uniform(salt, stream + '/bin', 'i')} * {k}) as integer) as b
              from __twin_rows))""", k


def _fallback(variable, type_: str, salt: str, stream: str) -> str:
    if variable.nullable:
        return "null"
    if variable.allowed_values:
        values = ", ".join(repr(v) if not isinstance(v, bool) else str(v).lower()
                           for v in variable.allowed_values)
        draw = _uniform(salt, stream, "i")
        return (f"list_extract([{values}], 1 + cast(floor({draw} * "
                f"{len(variable.allowed_values)}) as integer))")
    if type_ == "BOOLEAN":
        return f"{_uniform(salt, stream, 'i')} < 0.5"
    if type_ == "DATE":
        return ("(select date_trunc('year', quantile_disc(" + "{c}" + ", 0.5)) from __twin_real)")
    if type_.startswith(NUMERIC) or type_.startswith("DECIMAL"):
        return "0"
    return f"'SYN-' || {_letters('i', salt, 12)}"


def twin_table(con: duckdb.DuckDBPyConnection, protocol: Protocol, delivery: DeliveryFile,
               real_parquet: Path, table: str, salt: str) -> list[ColumnPlan]:
    """Create ``table``: the twin of one real file (its Parquet), same columns and types."""
    threshold = disclosure.policy_from_registry(protocol, delivery).threshold
    codebook = load_codebook()
    con.execute(f"create or replace temp table __twin_real as select * from "
                f"read_parquet('{_path(real_parquet)}')")
    types = {name: type_ for name, type_, *_ in con.execute("describe __twin_real").fetchall()}
    n = con.execute("select count(*) from __twin_real").fetchone()[0]
    con.execute(f"create or replace temp table __twin_rows as select range as i from range({n})")
    identifying = set(identifying_columns(delivery))
    variables = {v.name: v for v in delivery.variables}
    plans, selects, joins = [], [], []
    for index, name in enumerate(types):
        type_, alias = types[name], f"c{index}"
        stream = f"{delivery.id}/{index}"
        variable = variables.get(name)
        if name in identifying:
            fresh = _fresh_identifier(con, name, salt)
            # shuffled: the order keyed by the real value (rows sharing it get the same
            # fresh value, so ties change nothing), a stream of its own per column
            relation = (f"(select row_number() over (order by u, v) - 1 as i, v from (select "
                        f"{_uniform(salt, stream, _q(name))} as u, {fresh} as v "
                        f"from __twin_real))")
            plans.append(ColumnPlan(name, "fresh"))
        else:
            kept, suppressed, kept_rows = _marginal_cells(con, name, threshold)
            coded = variable is not None and codebook.is_coded(variable)
            numeric = type_ == "DATE" or type_.startswith(NUMERIC) or type_.startswith("DECIMAL")
            relation, method = "", "marginal"
            if numeric and not coded and kept_rows * 2 < n:
                relation, _ = _draw_binned(con, name, type_, threshold, salt, stream)
                method = "binned"
            if not relation and kept_rows > 0 and (kept > 1 or kept_rows * 2 >= n or not numeric):
                relation, method = _draw_marginal(name, threshold, salt, stream), "marginal"
            if not relation:
                fill = _fallback(variable, type_, salt, stream) if variable else "null"
                relation = f"(select i, {fill.replace('{c}', _q(name))} as v from __twin_rows)"
                method = "empty" if fill == "null" else "fallback"
            plans.append(ColumnPlan(name, method, kept, suppressed))
        joins.append(f"left join {relation} as {alias} on {alias}.i = r.i")
        selects.append(f"cast({alias}.v as {type_}) as {_q(name)}")
    con.execute(f"create or replace temp table {table} as select {', '.join(selects)} "
                f"from __twin_rows r {' '.join(joins)}")
    con.execute("drop table __twin_real; drop table __twin_rows")
    return plans


def write_twin(con: duckdb.DuckDBPyConnection, protocol: Protocol,
               parts: list[datapackage.WrittenPart], folder: Path,
               properties: dict[str, Any], *, salt: str | None = None
               ) -> tuple[Path, dict[str, list[ColumnPlan]]]:
    """Write the twin of the package in ``folder`` (its real ``parts``) to
    ``folder/synthetic_twin/``: files, ``datapackage.json`` and documents; returns the twin's
    package path and how each column of each file was made. ``salt`` (tests only) makes the
    twin again, byte for byte; by default a fresh one, so its codes are no real one."""
    twin = folder / TWIN_FOLDER
    twin.mkdir(mode=0o700, exist_ok=True)
    salt = salt or secrets.token_hex(16)
    written, plans = [], {}
    for part in parts:
        table = "__twin"
        plans[part.name] = twin_table(con, protocol, part.delivery, part.parquet, table, salt)
        columns = ", ".join(_q(c) for c in part.delivery.column_names)
        csv_path, parquet_path = twin / part.csv.name, twin / part.parquet.name
        rows = datapackage.write_sorted(con, f"select {columns} from {table}", csv_path,
                                        parquet_path)
        con.execute(f"drop table {table}")
        written.append(datapackage.WrittenPart(part.delivery, part.name, rows, csv_path,
                                               parquet_path))
    twin_properties = {
        **{k: v for k, v in properties.items() if k not in ("licenses", "documentation",
                                                            "synthetic")},
        "title": f"SYNTHETIC TWIN of {properties.get('title', protocol.id)}",
        "delivery_id": f"{properties.get('delivery_id')}-synthetic-twin",
        "twin_of_delivery": properties.get("delivery_id"),
        "key_version": None, "forced_reason": None,
        **package_docs.package_properties(protocol, synthetic=True),
    }
    package = datapackage.write(written, twin, properties=twin_properties)
    package_docs.write(protocol, [(w.name, w.rows, w.delivery) for w in written], twin,
                       twin_properties, synthetic=True)
    return package, plans
