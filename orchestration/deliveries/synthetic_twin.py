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

Every draw is a keyed hash of the twin's salt (random per delivery), the file, the column and
the row, not ``random()``: one salt gives one twin, byte for byte. A file takes a fixed number
of queries, not a few per column.
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
FEW_CELLS = 32  # a column of at most this many kept cells is drawn without a join
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


def _identifier_facts(con: duckdb.DuckDBPyConnection, columns: list[str]
                      ) -> dict[str, tuple[int, int, str | None]]:
    """Per identifying column, in one scan: non-null values, 11-digit values, a code prefix."""
    if not columns:
        return {}
    aggregates = ", ".join(
        f"count({c}), count(*) filter (where regexp_full_match({c}, '[0-9]{{11}}')), "
        f"max(regexp_extract({c}, '^([A-Z]{{2,5}}[0-9]+-)', 1))"
        for c in map(_q, columns))
    facts = con.execute(f"select {aggregates} from __twin_real").fetchone()
    return {name: facts[3 * k:3 * k + 3] for k, name in enumerate(columns)}


def _fresh_identifier(column: str, facts: tuple[int, int, str | None], salt: str) -> str:
    """SQL of a fresh value of an identifying column of ``__twin_real``, per real value."""
    c = _q(column)
    non_null, elevens, prefix = facts
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
    """SQL of a uniform draw in [0, 1) keyed by this twin's salt, the draw's ``stream`` (SQL of
    a text: file, column, purpose) and ``row``: the same salt gives the same twin, byte for byte,
    whatever order or threads DuckDB runs in (``random()`` does not); a fresh salt, a fresh
    twin."""
    return f"((hash('{salt}', {stream}, {row}) >> 11) / 9007199254740992.0)"


def _cells(con: duckdb.DuckDBPyConnection, columns: dict[str, str], threshold: int
           ) -> tuple[dict[str, tuple[int, int, int, int]], dict[str, str]]:
    """``__twin_cells``: every value of every column (``columns``: name -> type) with its rows,
    in one scan (the columns of one type unpivoted into one value column, ``v<k>``), its
    column's position ``j`` and, over the kept cells (held by ``threshold`` rows or more, or
    NULL), the rows before it in value order (``lo``). Returns, per column: kept cells,
    suppressed cells, rows in kept cells and non-null rows; and the value column of each."""
    names = list(columns)
    by_type: dict[str, list[str]] = {}
    for name, type_ in columns.items():
        by_type.setdefault(type_, []).append(name)
    value_column = {name: f"v{k}" for k, group in enumerate(by_type.values()) for name in group}
    parts = []
    for k, group in enumerate(by_type.values()):
        positions = ", ".join(f"{_q(name)} as \"{names.index(name)}\"" for name in group)
        unpivoted = ", ".join(f'"{names.index(name)}"' for name in group)
        parts.append(f"select cast(name as integer) as j, value as v{k}, value is null as is_null, "
                     f"count(*) as n from (select {positions} from __twin_real) "
                     f"unpivot include nulls (value for name in ({unpivoted})) group by all")
    in_order = ", ".join(f"v{k} nulls last" for k in range(len(by_type)))  # one varies within j
    con.execute(f"""create or replace temp table __twin_cells as
        select *, n >= {threshold} or is_null as kept,
               sum(n) filter (where n >= {threshold} or is_null)
                   over (partition by j order by {in_order}) - n as lo
        from ({' union all by name '.join(parts)})""")
    found = {j: facts for j, *facts in con.execute(
        "select j, count(*) filter (where kept), count(*) filter (where not kept), "
        "coalesce(sum(n) filter (where kept), 0), coalesce(sum(n) filter (where not is_null), 0)"
        " from __twin_cells group by j").fetchall()}
    return ({name: tuple(found.get(j, (0, 0, 0, 0))) for j, name in enumerate(names)},
            value_column)


def _draw_marginals(columns: dict[str, tuple[int, int]], value_column: dict[str, str],
                    positions: dict[str, int], salt: str, file_id: str) -> str:
    """A relation (i, one column per name): per twin row, each column's value drawn from its
    kept cells (``columns``: name -> (its ``j`` among the cells, rows in kept cells)), all
    columns in one pass: the draws of every column, long, as-of joined to the cells, back to
    wide."""
    streams = ", ".join(f"({j}, '{file_id}/{positions[name]}', {kept_rows})"
                        for name, (j, kept_rows) in columns.items())
    wide = ", ".join(f"any_value({value_column[name]}) filter (where j = {j}) as {_q(name)}"
                     for name, (j, _) in columns.items())
    return f"""(
        with draws as (
            select s.j, r.i, floor({_uniform(salt, 's.stream', 'r.i')} * s.t) as u
            from __twin_rows r cross join (values {streams}) as s(j, stream, t)),
             picked as (
            select draws.i, draws.j, cells.* exclude (j)
            from draws asof join (select * from __twin_cells where kept) as cells
              on draws.j = cells.j and draws.u >= cells.lo)
        select i, {wide} from picked group by i)"""


def _quantiles(con: duckdb.DuckDBPyConnection, columns: dict[str, tuple[str, int]]
               ) -> dict[str, list[float]]:
    """The inner cut points of ``k`` equal-frequency bins of each number or date column
    (``columns``: name -> (its value as a number in SQL, k)), in one scan."""
    if not columns:
        return {}
    aggregates = ", ".join(f"quantile_cont({x}, [{', '.join(str(i / k) for i in range(1, k))}])"
                           for x, k in columns.values())
    cuts = con.execute(f"select {aggregates} from __twin_real").fetchone()
    return dict(zip(columns, cuts))


def _draw_binned(column: str, type_: str, k: int, cuts: list[float], null_share: float,
                 salt: str, stream: str) -> str:
    """SQL of a value per twin row (``r.i``) from ``k`` bins between ``cuts``, tails clamped."""
    edges = [cuts[0], *cuts, cuts[-1]]  # tails clamped: no extreme value kept
    edge_list = "[" + ", ".join(repr(float(e)) for e in edges) + "]"
    b = f"cast(floor({_uniform(salt, repr(stream + '/bin'), 'r.i')} * {k}) as integer)"
    value = (f"(list_extract({edge_list}, {b} + 1) + "
             f"{_uniform(salt, repr(stream + '/value'), 'r.i')} * "
             f"(list_extract({edge_list}, {b} + 2) - list_extract({edge_list}, {b} + 1)))")
    if type_ == "DATE":
        value = f"date '1970-01-01' + cast(round({value}) as integer)"
    return (f"case when {_uniform(salt, repr(stream + '/null'), 'r.i')} < {null_share} then null "
            f"else {value} end")


def _numeric(type_: str) -> str | None:
    """A number or date column's value as a number in SQL (for its bins); None otherwise."""
    if type_ == "DATE":
        return "({c} - date '1970-01-01')"
    if type_.startswith(NUMERIC) or type_.startswith("DECIMAL"):
        return "cast({c} as double)"
    return None


def _fallback(variable, type_: str, salt: str, stream: str) -> str:
    if variable.nullable:
        return "null"
    if variable.allowed_values:
        values = ", ".join(repr(v) if not isinstance(v, bool) else str(v).lower()
                           for v in variable.allowed_values)
        draw = _uniform(salt, repr(stream), "r.i")
        return (f"list_extract([{values}], 1 + cast(floor({draw} * "
                f"{len(variable.allowed_values)}) as integer))")
    if type_ == "BOOLEAN":
        return f"{_uniform(salt, repr(stream), 'r.i')} < 0.5"
    if type_ == "DATE":
        return ("(select date_trunc('year', quantile_disc(" + "{c}" + ", 0.5)) from __twin_real)")
    if type_.startswith(NUMERIC) or type_.startswith("DECIMAL"):
        return "0"
    return f"'SYN-' || {_letters('r.i', salt, 12)}"


def twin_table(con: duckdb.DuckDBPyConnection, protocol: Protocol, delivery: DeliveryFile,
               real_parquet: Path, table: str, salt: str) -> list[ColumnPlan]:
    """Create ``table``: the twin of one real file (its Parquet), same columns and types.

    A fixed number of queries per file, whatever its columns: one scan for the identifying
    columns' forms, one (unpivot) for every other column's cells, one for the cut points
    of the binned columns, and one that draws every column."""
    threshold = disclosure.policy_from_registry(protocol, delivery).threshold
    codebook = load_codebook()
    con.execute(f"create or replace temp table __twin_real as select * from "
                f"read_parquet('{_path(real_parquet)}')")
    types = {name: type_ for name, type_, *_ in con.execute("describe __twin_real").fetchall()}
    n = con.execute("select count(*) from __twin_real").fetchone()[0]
    con.execute(f"create or replace temp table __twin_rows as select range as i from range({n})")
    identifying = [name for name in types if name in set(identifying_columns(delivery))]
    drawn = [name for name in types if name not in identifying]
    variables = {v.name: v for v in delivery.variables}
    facts = _identifier_facts(con, identifying)
    cells, value_column = _cells(con, {name: types[name] for name in drawn}, threshold) \
        if drawn else ({}, {})
    positions = {name: index for index, name in enumerate(types)}
    # which columns are binned: a number or date (not coded) whose kept cells hold less than
    # half the rows, and at least 3 bins of ``threshold`` rows
    to_bin = {}
    for name in drawn:
        x, variable = _numeric(types[name]), variables.get(name)
        coded = variable is not None and codebook.is_coded(variable)
        k = min(MAX_BINS, cells[name][3] // threshold)
        if x and not coded and cells[name][2] * 2 < n and k >= 3:
            to_bin[name] = (x.format(c=_q(name)), k)
    cuts = _quantiles(con, to_bin)
    plans, marginal, values, joins = {}, {}, {}, []
    for name in types:
        type_, index, variable = types[name], positions[name], variables.get(name)
        stream = f"{delivery.id}/{index}"
        if name in identifying:
            fresh = _fresh_identifier(name, facts[name], salt)
            # shuffled: the order keyed by the real value (rows sharing it get the same
            # fresh value, so ties change nothing), a stream of its own per column
            alias = f"c{index}"
            joins.append(f"left join (select row_number() over (order by u, v) - 1 as i, v "
                         f"from (select {_uniform(salt, repr(stream), _q(name))} as u, "
                         f"{fresh} as v from __twin_real)) as {alias} on {alias}.i = r.i")
            values[name] = f"{alias}.v"
            plans[name] = ColumnPlan(name, "fresh")
            continue
        kept, suppressed, kept_rows, non_null = cells[name]
        numeric = _numeric(type_) is not None
        if name in to_bin:
            values[name] = _draw_binned(name, type_, to_bin[name][1], cuts[name],
                                        (n - non_null) / n, salt, stream)
            method = "binned"
        elif kept_rows > 0 and (kept > 1 or kept_rows * 2 >= n or not numeric):
            marginal[name] = (drawn.index(name), kept_rows)
            values[name] = f"m.{_q(name)}"
            method = "marginal"
        else:
            fill = _fallback(variable, type_, salt, stream) if variable else "null"
            values[name] = fill.replace("{c}", _q(name))
            method = "empty" if fill == "null" else "fallback"
        plans[name] = ColumnPlan(name, method, kept, suppressed)
    # a column of few kept cells is drawn by its cells' upper bounds (a case over the draw, no
    # join); the others all at once through the cells table (``_draw_marginals``)
    few = {j: bounds for j, bounds in con.execute(
        f"select j, list(lo + n order by lo) from __twin_cells where kept group by j "
        f"having count(*) <= {FEW_CELLS}").fetchall()} if marginal else {}
    lists = []
    for name, (j, kept_rows) in list(marginal.items()):
        if j not in few:
            continue
        u = f"floor({_uniform(salt, repr(f'{delivery.id}/{positions[name]}'), 'r.i')} * {kept_rows})"
        cases = " ".join(f"when {u} < {hi} then {k + 1}" for k, hi in enumerate(few[j][:-1]))
        index = f"(case {cases} else {len(few[j])} end)" if cases else "1"
        lists.append(f"list({value_column[name]} order by lo) filter (where j = {j}) as l{j}")
        values[name] = f"list_extract(few.l{j}, {index})"
        del marginal[name]
    if lists:
        joins.append(f"cross join (select {', '.join(lists)} from __twin_cells where kept) as few")
    if marginal:
        drawn_wide = _draw_marginals(marginal, value_column, positions, salt, delivery.id)
        joins.append(f"left join {drawn_wide} as m on m.i = r.i")
    selects = ", ".join(f"cast({values[name]} as {types[name]}) as {_q(name)}" for name in types)
    con.execute(f"create or replace temp table {table} as select {selects} "
                f"from __twin_rows r {' '.join(joins)}")
    con.execute("drop table __twin_real; drop table __twin_rows; "
                "drop table if exists __twin_cells")
    return [plans[name] for name in types]


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
