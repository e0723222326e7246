"""Great Expectations 1.x on DuckDB (through duckdb-engine): the workarounds, in one place.

Why
---
1. fivetran/great_expectations #11579 (present in GX 1.24.1): GX computes every SQL metric
   through ``SqlAlchemyExecutionEngine.execute_query``, which runs the query inside
   ``with self.get_connection() as connection:`` and returns the *unfetched* cursor result
   after that block has closed the connection. Closing returns the DBAPI connection to the pool,
   which rolls it back; DuckDB then drops the pending result, so GX reads zero rows and every
   metric fails with "list index out of range" (validation reports ``success=False`` with
   ``raised_exception`` on every expectation, or empty metrics). Pool settings do not help
   (``pool_reset_on_return=None``, StaticPool, NullPool, AUTOCOMMIT were all seen failing).

   Fix: ``BufferedDuckDBExecutionEngine.execute_query`` fetches the result into memory
   (``result.freeze()()``: a FrozenResult called again gives a fresh, fully buffered Result
   with the same API) *before* the connection closes. GX only reads aggregates and rows it has
   already LIMITed (``partial_unexpected_count``), so buffering costs nothing measurable. Caveat:
   with ``result_format="COMPLETE"`` GX reads up to 200 unexpected rows through ``fetchmany``
   and the buffer fetches all of them first; the project does not use COMPLETE (privacy).

2. duckdb-engine 0.17 with SQLAlchemy >= 2.0.45 (Mause/duckdb_engine #1379/#1391, fix proposed in
   PR #1393; DuckDB #22069): column reflection (``inspector.get_columns``) is broken: SQLAlchemy's
   PostgreSQL reflection query selects from ``pg_catalog.pg_collation``, which DuckDB lacks, and on
   SQLAlchemy 2.1 duckdb-engine also calls ``PGDialect._get_columns_info`` with an outdated
   signature. GX then falls back to ``SELECT * FROM <table>`` *without the schema*, so every
   column expectation on a table outside ``main`` raises "table does not exist", and column types
   are unknown. Fix: the engine's inspector reads columns and types from DuckDB's own catalogue
   (``duckdb_columns()``); every other inspector call goes to SQLAlchemy unchanged.

Why a datasource type, not a monkeypatch
-----------------------------------------
``install()`` registers a GX fluent datasource type ``duckdb_sql`` (a subclass of the stock
``SQLDatasource``, through GX's own extension mechanism) whose ``execution_engine_type`` is
``BufferedDuckDBExecutionEngine``. Nothing in GX is modified: stock ``sql`` datasources (other
databases, or the test that shows the defect) keep upstream behaviour in the same process, the
fix is scoped to the engines this type builds, and the YAML (``type: duckdb_sql``) says which
datasources depend on this module. A process that loads such a context without ``install()``
fails at ``gx.get_context`` ("type duckdb_sql was not found") instead of silently validating
with the defective engine; a global monkeypatch would fail open (forget the import and you get
empty metrics again) and would change GX for every database in the process. The class is
created inside ``install()`` because GX registers a datasource type when its class is defined,
so importing this module has no side effect. ``install()`` is idempotent and thread-safe; call it
before ``gx.get_context(...)`` (``gx_runner.open_context`` does).

Overridden GX surface: ``SqlAlchemyExecutionEngine.execute_query``,
``execute_query_in_transaction``, ``get_inspector`` and ``close`` (public), calling
``get_connection`` and the private ``_execute_query_with_recovery`` (PendingRollback recovery).
``tests/quality/test_gx_duckdb.py`` fails if any of these change.

How to remove
-------------
When GX ships a fix for #11579 (or the native DuckDB datasource of PR #12084, open) and
duckdb-engine ships a release that reflects columns on the SQLAlchemy in use (PR #1393 or later):
switch ``type: duckdb_sql`` to the upstream type in ``great_expectations.yml`` and in
``gx_runner._ensure_datasource``, delete this module and its ``install()`` calls. The test
``test_stock_sql_datasource_fails_on_duckdb...`` starts failing on its "stock is broken" half when
upstream is fixed: that is the signal.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, List, Literal, Type

import sqlalchemy as sa
from great_expectations.execution_engine.sqlalchemy_execution_engine import (
    SqlAlchemyExecutionEngine,
)

logger = logging.getLogger(__name__)

#: The GX fluent datasource ``type`` (``context.data_sources.add_duckdb_sql(...)``).
DATASOURCE_TYPE = "duckdb_sql"

_install_lock = threading.Lock()
_datasource_class: type | None = None


def _buffered(result: Any) -> Any:
    """Fetch a row-returning result into memory so it survives the connection closing."""
    if getattr(result, "returns_rows", False):
        return result.freeze()()
    return result


#: DuckDB type names that SQLAlchemy's PostgreSQL type table spells differently.
_TYPE_ALIASES = {
    "double": "double precision",
    "decimal": "numeric",
    "blob": "bytea",
    "timestamp with time zone": "timestamptz",
}

_COLUMNS_SQL = sa.text(
    "SELECT column_name, data_type, is_nullable, column_default FROM duckdb_columns() "
    "WHERE database_name = current_database() "  # DuckDB identifiers are case-insensitive
    "AND lower(schema_name) = lower(coalesce(:schema_name, current_schema())) "
    "AND lower(table_name) = lower(:table_name) "
    "ORDER BY column_index"
)


def _sqlalchemy_type(dialect: Any, data_type: str) -> Any:
    """A SQLAlchemy type for a DuckDB type name (``DECIMAL(18,3)``, ``VARCHAR``, ...)."""
    base, _, params = data_type.partition("(")
    name = _TYPE_ALIASES.get(base.strip().lower(), base.strip().lower())
    type_class = getattr(dialect, "ischema_names", {}).get(name)
    if type_class is None or data_type.endswith("]"):  # lists, structs, maps, unions
        return sa.types.NullType()
    args = [int(p) for p in params.rstrip(")").split(",") if p.strip().isdigit()]
    try:
        return type_class(*args)
    except TypeError:
        return type_class()


class _DuckDBCatalogInspector:
    """An Inspector whose ``get_columns`` reads DuckDB's own catalogue (``duckdb_columns()``).

    Everything else is delegated to the SQLAlchemy inspector.
    """

    def __init__(self, inspector: Any, engine: Any) -> None:
        self._inspector = inspector
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inspector, name)

    def get_columns(self, table_name: str, schema: str | None = None, **_: Any) -> list:
        with self._engine.connect() as connection:
            rows = connection.execute(
                _COLUMNS_SQL, {"schema_name": schema, "table_name": str(table_name)}
            ).fetchall()
        if not rows:
            raise sa.exc.NoSuchTableError(f"{schema}.{table_name}" if schema else table_name)
        return [
            {
                "name": name,
                "type": _sqlalchemy_type(self._engine.dialect, data_type),
                "nullable": bool(nullable),
                "default": default,
                "autoincrement": False,
                "comment": None,
            }
            for name, data_type, nullable, default in rows
        ]


class BufferedDuckDBExecutionEngine(SqlAlchemyExecutionEngine):
    """GX SQL execution engine for DuckDB that buffers query results (see module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dialect_name = getattr(getattr(self.engine, "dialect", None), "name", None)
        if dialect_name != "duckdb":
            self.close()
            raise ValueError(
                f"{type(self).__name__} is for DuckDB (duckdb-engine) only; got the "
                f"{dialect_name!r} dialect. Use a stock GX SQL datasource for other databases."
            )

    def get_inspector(self) -> Any:  # type: ignore[override]
        """The SQLAlchemy inspector, with column reflection from DuckDB's catalogue (fix 2)."""
        inspector = super().get_inspector()
        if isinstance(inspector, _DuckDBCatalogInspector):
            return inspector
        self._inspector = _DuckDBCatalogInspector(inspector, self.engine)  # type: ignore
        return self._inspector

    def execute_query(self, query: Any) -> Any:  # type: ignore[override]
        """Run ``query`` and return a fully buffered result (workaround for GX #11579)."""
        with self.get_connection() as connection:
            return _buffered(self._execute_query_with_recovery(connection, query))

    def execute_query_in_transaction(self, query: Any) -> Any:  # type: ignore[override]
        """Buffered like ``execute_query``; GX uses this only for temp-table DDL."""
        with self.get_connection() as connection:
            result = _buffered(self._execute_query_with_recovery(connection, query))
            if connection.in_transaction():
                connection.commit()
        return result

    def close(self) -> None:
        """Dispose every pooled DuckDB connection, so the database file is unlocked."""
        try:
            super().close()
        finally:
            engine = getattr(self, "engine", None)
            if isinstance(engine, sa.Engine):
                engine.dispose()


def _define_datasource_class() -> type:
    # Imported here: defining a Datasource subclass registers it with GX (metaclass side effect).
    from great_expectations.datasource.fluent.sql_datasource import SQLDatasource

    class DuckDBSQLDatasource(SQLDatasource):
        """GX SQL datasource for a DuckDB file through duckdb-engine, with the fixes above.

        Same fields as the stock ``sql`` datasource, e.g.
        ``context.data_sources.add_duckdb_sql(name, connection_string="duckdb:////abs/w.duckdb")``.
        """

        # GX registers the type under this field's default; it must equal DATASOURCE_TYPE.
        type: Literal["duckdb_sql"] = "duckdb_sql"  # type: ignore[assignment]

        @property
        def execution_engine_type(self) -> Type[SqlAlchemyExecutionEngine]:
            return BufferedDuckDBExecutionEngine

        def dispose(self) -> None:
            """Close the execution engine and the datasource's own engine (unlocks the file)."""
            engine = self._execution_engine
            if engine is not None:
                engine.close()
            if self._engine is not None:
                self._engine.dispose()

    DuckDBSQLDatasource.__module__ = __name__
    return DuckDBSQLDatasource


def install() -> type:
    """Register the ``duckdb_sql`` GX datasource type. Idempotent; returns the datasource class.

    Call before ``gx.get_context(...)`` loads a context that holds a ``duckdb_sql`` datasource.
    """
    global _datasource_class
    with _install_lock:
        if _datasource_class is None:
            _datasource_class = _define_datasource_class()
            logger.debug("registered GX datasource type %r", DATASOURCE_TYPE)
        return _datasource_class


def is_installed() -> bool:
    """Whether ``install()`` has run in this process."""
    return _datasource_class is not None


__all__: List[str] = [
    "DATASOURCE_TYPE",
    "BufferedDuckDBExecutionEngine",
    "install",
    "is_installed",
]
