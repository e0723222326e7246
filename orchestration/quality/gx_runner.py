"""Validate a Great Expectations suite against one DuckDB table, in SQL, with privacy-safe results.

Usage (e.g. from a Dagster asset check that runs in the ``duckdb`` pool)::

    outcome = validate_table(
        project_root="/work/main/expectations",        # holds gx/great_expectations.yml
        suite_name="raw_students",
        warehouse_path="/work/main/data/warehouse/warehouse.duckdb",
        table="raw.students",
        key_column="student_key",                     # a pseudonymous key, never a name or INSZ
    )
    for e in outcome.expectations:
        ...  # e.success, e.severity, e.unexpected_count, e.meta, e.unexpected_index_query
    index_html = build_data_docs("/work/main/expectations")

What it guarantees
------------------
* SQL only: the table is validated by DuckDB through GX's SQLAlchemy engine (the ``duckdb_sql``
  datasource of ``gx_duckdb``, which works around GX #11579); no pandas frame is built.
* No personal values leave it: GX runs with ``privacy_safe_result_format(key)`` (SUMMARY,
  ``partial_unexpected_count=0``, the key column as ``unexpected_index_column_names`` and
  ``return_unexpected_index_query``), and ``sanitize_validation_result`` removes value lists,
  ``details``, non-numeric column-level observed values (distinct / most common values) and
  quoted literals in error messages before the result is returned, logged or written to
  ``gx/uncommitted/validations`` (which Data Docs are built from). What remains: counts,
  percentages and a SQL query that finds the failing rows, for someone allowed to run it.
* An expectation that *raised* (bad column, SQL error, engine defect) raises
  ``ExpectationRaisedError`` instead of being reported as a data defect.
* Every engine is disposed before returning, so the DuckDB file is not left locked.
* GX analytics are off (``GX_ANALYTICS_ENABLED=false`` and ``analytics_enabled: false``).

Not thread-safe (GX keeps the current context in a global): run validations one at a time, as
the project's single-slot ``duckdb`` pool does. GX 1.24 has no regex / LIKE SQL for the duckdb
dialect ("Regex is not supported for dialect duckdb": raised, so reported as an error): write
format rules as ``UnexpectedRowsExpectation`` SQL (``regexp_full_match(col, '[0-9]{{11}}')``,
braces doubled because GX formats the query); its row count becomes ``unexpected_count``.

The datasource is stored in ``great_expectations.yml`` as ``type: duckdb_sql`` with
``connection_string: duckdb:///${GX_DUCKDB_PATH_<NAME>}``: the warehouse path is supplied per
run as a GX runtime variable, so the committed YAML holds no machine-specific path.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import unquote, urlparse

from orchestration.quality import gx_duckdb

logger = logging.getLogger(__name__)

#: Result keys that can hold row values (personal data); removed by the sanitiser.
VALUE_KEYS = frozenset(
    {
        "partial_unexpected_list",
        "partial_unexpected_counts",
        "partial_unexpected_index_list",
        "unexpected_list",
        "unexpected_index_list",
        "unexpected_rows",
        "details",  # e.g. value_counts of distinct values
    }
)
REDACTED = "<redacted>"
_COLUMN_DOMAIN_KWARGS = ("column", "column_A", "column_B", "column_list")


def privacy_safe_result_format(key_column: str | Sequence[str]) -> dict[str, Any]:
    """The GX result format for this project: counts, rates and a query, never values.

    ``key_column``: one pseudonymous key column, or several (e.g. ``source_file, source_row``).
    """
    keys = [key_column] if isinstance(key_column, str) else list(key_column)
    return {
        "result_format": "SUMMARY",
        "partial_unexpected_count": 0,
        "unexpected_index_column_names": keys,
        "return_unexpected_index_query": True,
    }


class ExpectationRaisedError(RuntimeError):
    """One or more expectations raised while being evaluated: a configuration or engine
    problem, not a data-quality finding."""

    def __init__(self, suite_name: str, table: str, failures: Sequence[tuple[str, dict, str]]):
        self.suite_name = suite_name
        self.table = table
        self.failures = list(failures)
        lines = [
            f"{len(self.failures)} expectation(s) of suite {suite_name!r} on {table} raised an "
            "error instead of evaluating the data (this is not a data defect):"
        ]
        for expectation_type, kwargs, message in self.failures:
            lines.append(f"  - {expectation_type}({_format_kwargs(kwargs)}): {message}")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class ExpectationOutcome:
    """The privacy-safe outcome of one expectation (plain data; ``json.dumps(asdict(x))`` works)."""

    expectation_type: str
    kwargs: dict[str, Any]
    meta: dict[str, Any]
    severity: str | None
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    unexpected_index_query: str | None
    observed_value: Any = None


@dataclass(frozen=True)
class TableValidation:
    """The outcome of one suite on one table. ``raw_result`` is GX's result, sanitised."""

    suite_name: str
    table: str
    success: bool
    run_name: str
    expectations: tuple[ExpectationOutcome, ...]
    raw_result: dict[str, Any] = field(repr=False, compare=False)

    @property
    def failed(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(e for e in self.expectations if not e.success)


# ---------------------------------------------------------------------------------------------
# Sanitiser


def _is_column_level(kwargs: Mapping[str, Any] | None) -> bool:
    return any(k in (kwargs or {}) for k in _COLUMN_DOMAIN_KWARGS)


def _safe_observed_value(value: Any, column_level: bool) -> Any:
    # Numbers are counts, rates or statistics. Other column-level observed values (distinct
    # values, the max of a text column, ...) can be personal data; table-level ones are
    # structural (column names, row counts).
    if value is None or isinstance(value, (bool, int, float)) or not column_level:
        return value
    return REDACTED


_QUOTED_OR_LONG_NUMBER = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|\b\d{6,}\b")


def scrub_text(text: Any) -> Any:
    """Redact quoted literals and long digit runs from an error message or traceback.

    Database errors can quote a row value (DuckDB: ``Could not convert string 'Jan Peeters' to
    INT32``); identifiers and SQL literals are redacted too, which keeps the error type readable.
    """
    if not isinstance(text, str):
        return text
    return _QUOTED_OR_LONG_NUMBER.sub(REDACTED, text)


def _sanitize_exception_info(info: Any) -> None:
    if not isinstance(info, dict):
        return
    nested = [v for v in info.values() if isinstance(v, dict)]
    for entry in [info, *nested]:
        for key in ("exception_message", "exception_traceback"):
            if key in entry:
                entry[key] = scrub_text(entry[key])


def _sanitize_result_dict(result: dict | None, column_level: bool) -> None:
    if not result:
        return
    for key in VALUE_KEYS & result.keys():
        del result[key]
    if "observed_value" in result:
        result["observed_value"] = _safe_observed_value(result["observed_value"], column_level)


def sanitize_validation_result(obj: Any) -> Any:
    """Strip row values from a GX validation result; keep counts, percentages and the query.

    Also scrubs exception messages and tracebacks (``scrub_text``).

    Accepts an ``ExpectationSuiteValidationResult`` or ``ExpectationValidationResult`` (changed
    in place and returned) or their JSON dict form (a sanitised deep copy is returned).
    """
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )

    if isinstance(obj, ExpectationSuiteValidationResult):
        for item in obj.results:
            sanitize_validation_result(item)
        return obj
    if isinstance(obj, ExpectationValidationResult):
        config = obj.expectation_config
        _sanitize_result_dict(obj.result, _is_column_level(config.kwargs if config else None))
        _sanitize_exception_info(obj.exception_info)
        return obj
    if isinstance(obj, Mapping):
        data = copy.deepcopy(dict(obj))
        if isinstance(data.get("results"), list):
            data["results"] = [sanitize_validation_result(r) for r in data["results"]]
        elif isinstance(data.get("result"), dict):
            kwargs = (data.get("expectation_config") or {}).get("kwargs")
            _sanitize_result_dict(data["result"], _is_column_level(kwargs))
        _sanitize_exception_info(data.get("exception_info"))
        return data
    raise TypeError(f"cannot sanitise a {type(obj).__name__}")


# ---------------------------------------------------------------------------------------------
# Context and datasource


def _project_root_dir(project_root: str | os.PathLike) -> Path:
    """The folder that holds ``gx/``; a path to the ``gx`` folder itself is accepted too."""
    path = Path(project_root).resolve()
    return path.parent if path.name == "gx" else path


def _path_variable(datasource_name: str) -> str:
    return "GX_DUCKDB_PATH_" + re.sub(r"\W", "_", datasource_name).upper()


def open_context(
    project_root: str | os.PathLike, runtime_environment: Mapping[str, str] | None = None
) -> Any:
    """A GX file context at ``project_root`` (created if missing), with the DuckDB datasource
    type installed, analytics off and progress bars off."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    gx_duckdb.install()  # before the context parses `type: duckdb_sql` datasources
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(
        mode="file",
        project_root_dir=str(_project_root_dir(project_root)),
        runtime_environment=dict(runtime_environment or {}),
    )
    if context.config.analytics_enabled is not False:
        context.enable_analytics(False)  # persisted once in great_expectations.yml
    # no tqdm bars in logs (saved to great_expectations.yml with the next config write)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _template(value: Any) -> str:
    return getattr(value, "template_str", None) or str(value)


def _ensure_datasource(context: Any, name: str, engine_kwargs: dict[str, Any]) -> Any:
    """Get (or create / repair) the ``duckdb_sql`` datasource ``name``."""
    connection_string = "duckdb:///${%s}" % _path_variable(name)
    try:
        datasource = context.data_sources.get(name)
    except (KeyError, ValueError):
        datasource = None
    if datasource is not None and (
        getattr(datasource, "type", None) == gx_duckdb.DATASOURCE_TYPE
        and _template(datasource.connection_string) == connection_string
        and dict(datasource.kwargs or {}) == engine_kwargs
    ):
        return datasource
    if datasource is not None:
        logger.info("re-creating GX datasource %r as %s", name, gx_duckdb.DATASOURCE_TYPE)
        context.data_sources.delete(name)
    return context.data_sources.add_duckdb_sql(
        name=name, connection_string=connection_string, kwargs=engine_kwargs
    )


def _ensure_batch_definition(datasource: Any, schema: str, table_name: str) -> Any:
    asset_name = f"{schema}.{table_name}"
    try:
        asset = datasource.get_asset(asset_name)
    except LookupError:
        asset = datasource.add_table_asset(asset_name, table_name=table_name, schema_name=schema)
    try:
        return asset.get_batch_definition("whole_table")
    except (KeyError, LookupError):
        return asset.add_batch_definition_whole_table("whole_table")


def _ensure_validation_definition(context: Any, suite: Any, batch_definition: Any) -> Any:
    import great_expectations as gx
    from great_expectations.exceptions import DataContextError

    asset = batch_definition.data_asset
    name = f"{suite.name}__{asset.datasource.name}.{asset.name}"
    try:
        existing = context.validation_definitions.get(name)
    except DataContextError:
        existing = None
    if existing is not None:
        if (
            existing.suite.name == suite.name
            and existing.suite.id == suite.id
            and existing.batch_definition.id == batch_definition.id
        ):
            return existing
        context.validation_definitions.delete(name)
    return context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
    )


def _dispose_engines(context: Any, *datasources: Any) -> None:
    """Close every DuckDB engine the context or the given datasources hold."""
    candidates = list(datasources)
    try:
        candidates.extend(context.data_sources.all().values())
    except Exception:  # noqa: BLE001 - disposal must not hide the real outcome
        logger.debug("could not list datasources for disposal", exc_info=True)
    seen: set[int] = set()
    for datasource in candidates:
        if datasource is None or id(datasource) in seen:
            continue
        seen.add(id(datasource))
        dispose = getattr(datasource, "dispose", None)
        if dispose is not None:
            dispose()


# ---------------------------------------------------------------------------------------------
# Validation


def _format_kwargs(kwargs: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _raised_messages(exception_info: Any) -> list[str]:
    """Messages of raised exceptions; GX nests them per metric or gives one flat dict."""
    if not exception_info:
        return []
    if "raised_exception" in exception_info:
        infos = [exception_info]
    else:
        infos = [v for v in exception_info.values() if isinstance(v, Mapping)]
    messages = []
    for info in infos:
        if info.get("raised_exception"):
            message = str(scrub_text(info.get("exception_message")) or "").strip()
            messages.append(message.splitlines()[0][:500] if message else "unknown error")
    return messages


def _severity(value: Any) -> str | None:
    """``critical`` / ``warning`` / ``info`` (GX's FailureSeverity enum or a plain string)."""
    if value is None:
        return None
    return str(getattr(value, "value", value)).lower()


def _outcome(result: Any) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs = {k: v for k, v in dict(config.kwargs).items() if k != "batch_id"}
    details = result.result or {}
    unexpected_count = details.get("unexpected_count")
    if unexpected_count is None and config.type == "unexpected_rows_expectation":
        unexpected_count = details.get("observed_value")  # the number of rows the query found
    return ExpectationOutcome(
        expectation_type=config.type,
        kwargs=json.loads(json.dumps(kwargs, default=str)),
        meta=json.loads(json.dumps(dict(config.meta or {}), default=str)),
        severity=_severity(getattr(config, "severity", None)),
        success=bool(result.success),
        element_count=details.get("element_count"),
        unexpected_count=unexpected_count,
        unexpected_percent=details.get("unexpected_percent"),
        unexpected_index_query=details.get("unexpected_index_query"),
        observed_value=_safe_observed_value(
            details.get("observed_value"), _is_column_level(kwargs)
        ),
    )


def _sanitise_on_store(context: Any) -> None:
    """Make this context's validation-results store sanitise before it writes, so a result with
    values never reaches ``uncommitted/validations`` (instance attribute; GX is not patched)."""
    store = context.validation_results_store
    if getattr(store.set, "_sanitises", False):
        return
    original_set = store.set

    def set_sanitised(key: Any, value: Any, **kwargs: Any) -> Any:
        return original_set(key, sanitize_validation_result(value), **kwargs)

    set_sanitised._sanitises = True  # type: ignore[attr-defined]
    store.set = set_sanitised


def _store_sanitised(context: Any, results: Any, suite_name: str, run_name: str) -> None:
    """Overwrite the stored result with the sanitised one (Data Docs read the store). A safety
    net for ``_sanitise_on_store``, in case GX wrote through another store object."""
    store = context.validation_results_store
    keys = [
        key
        for key in store.list_keys()
        if getattr(key, "run_id", None) is not None
        and key.run_id.run_name == run_name
        and key.expectation_suite_identifier.name == suite_name
    ]
    if not keys:
        raise RuntimeError(f"GX stored no validation result for run {run_name!r}")
    for key in keys:
        store.set(key, results)


def validate_table(
    *,
    project_root: str | os.PathLike,
    suite_name: str,
    warehouse_path: str | os.PathLike,
    table: str,
    key_column: str | Sequence[str],
    datasource_name: str = "warehouse",
    duckdb_config: Mapping[str, Any] | None = None,
    run_name: str | None = None,
) -> TableValidation:
    """Validate suite ``suite_name`` of the file context at ``project_root`` against ``table``
    (``schema.table``; ``main`` if no schema) in the DuckDB file ``warehouse_path``.

    ``key_column`` is the (pseudonymous) key put in the unexpected-rows query (one column or a
    sequence of columns).
    ``duckdb_config`` is passed to ``duckdb.connect(config=...)``; in one process every
    connection to a file must use the same configuration, so pass the warehouse's settings.
    Raises ``ExpectationRaisedError`` if any expectation raised. The engines are disposed on
    return, so the file can be opened read-write right after.
    """
    return validate_tables(
        project_root=project_root,
        warehouse_path=warehouse_path,
        items=[(suite_name, table, key_column)],
        datasource_name=datasource_name,
        duckdb_config=duckdb_config,
        run_name=run_name,
    )[0]


def validate_tables(
    *,
    project_root: str | os.PathLike,
    warehouse_path: str | os.PathLike,
    items: Sequence[tuple[str, str, str | Sequence[str]]],
    datasource_name: str = "warehouse",
    duckdb_config: Mapping[str, Any] | None = None,
    run_name: str | None = None,
) -> list[TableValidation]:
    """``validate_table`` for several (suite name, table, key column) items with one GX context
    (opening a file context costs about half a second), in order. Same guarantees; the first
    item whose expectations raise raises ``ExpectationRaisedError`` (earlier results are stored).
    """
    warehouse = Path(warehouse_path).resolve()
    if not warehouse.is_file():
        raise FileNotFoundError(f"DuckDB warehouse not found: {warehouse}")
    engine_kwargs: dict[str, Any] = (
        {"connect_args": {"config": dict(duckdb_config)}} if duckdb_config else {}
    )
    context = open_context(
        project_root, runtime_environment={_path_variable(datasource_name): str(warehouse)}
    )
    outcomes = []
    for suite_name, table, key_column in items:
        outcomes.append(
            _validate_in_context(
                context, suite_name, table, key_column, datasource_name, engine_kwargs,
                run_name if len(items) == 1 else None,
            )
        )
    return outcomes


def _validate_in_context(
    context: Any,
    suite_name: str,
    table: str,
    key_column: str | Sequence[str],
    datasource_name: str,
    engine_kwargs: dict[str, Any],
    run_name: str | None,
) -> TableValidation:
    from great_expectations.core.run_identifier import RunIdentifier

    schema, _, table_name = table.rpartition(".")
    schema = schema or "main"
    qualified = f"{schema}.{table_name}"
    run_name = run_name or f"{qualified}-{uuid.uuid4().hex[:12]}"

    datasource = None
    validation_definition = None
    try:
        suite = context.suites.get(suite_name)
        datasource = _ensure_datasource(context, datasource_name, engine_kwargs)
        batch_definition = _ensure_batch_definition(datasource, schema, table_name)
        validation_definition = _ensure_validation_definition(context, suite, batch_definition)
        _sanitise_on_store(context)
        results = validation_definition.run(
            result_format=privacy_safe_result_format(key_column),
            run_id=RunIdentifier(run_name=run_name),
        )
    finally:
        run_datasource = (
            validation_definition.batch_definition.data_asset.datasource
            if validation_definition is not None
            else None
        )
        _dispose_engines(context, datasource, run_datasource)

    sanitize_validation_result(results)
    _store_sanitised(context, results, suite_name, run_name)

    raised = [
        (
            r.expectation_config.type,
            {k: v for k, v in dict(r.expectation_config.kwargs).items() if k != "batch_id"},
            "; ".join(dict.fromkeys(messages)),
        )
        for r in results.results
        if (messages := _raised_messages(r.exception_info))
    ]
    if raised:
        raise ExpectationRaisedError(suite_name, qualified, raised)

    outcomes = tuple(_outcome(r) for r in results.results)
    outcome = TableValidation(
        suite_name=suite_name,
        table=qualified,
        success=bool(results.success),
        run_name=run_name,
        expectations=outcomes,
        raw_result=sanitize_validation_result(results.to_json_dict()),
    )
    logger.info(
        "GX suite %s on %s: %s (%d of %d expectations failed)",
        suite_name,
        qualified,
        "passed" if outcome.success else "FAILED",
        len(outcome.failed),
        len(outcomes),
    )
    return outcome


def build_data_docs(project_root: str | os.PathLike) -> Path:
    """Build the local Data Docs site from the stored (sanitised) results; return index.html."""
    context = open_context(project_root)
    try:
        sites = context.build_data_docs()
    finally:
        _dispose_engines(context)
    url = sites.get("local_site") or next(iter(sites.values()), None)
    if not url:
        raise RuntimeError("no Data Docs site is configured in great_expectations.yml")
    parsed = urlparse(url)
    path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(url)
    if not path.is_file():
        raise RuntimeError(f"Data Docs index was not written: {path}")
    return path


__all__ = [
    "REDACTED",
    "VALUE_KEYS",
    "ExpectationOutcome",
    "ExpectationRaisedError",
    "TableValidation",
    "build_data_docs",
    "open_context",
    "privacy_safe_result_format",
    "sanitize_validation_result",
    "scrub_text",
    "validate_table",
    "validate_tables",
]
