"""dbt models as Dagster assets: staging -> intermediate -> marts -> deliveries, in two parts.

- ``school_year_dbt_models`` (dbt selector ``school_year_partitioned``): the models whose grain
  includes the school year, partitioned like the raw tables, and everything dbt builds before
  them (seeds, staging views, and the few cross-year intermediates they read, rebuilt whole). A
  run for some school years passes them to dbt as ``--vars``; the incremental models replace
  only those years' rows (``dbt_project/macros/school_year_window.sql``). A run over every
  school year is a plain full build (``--full-refresh``). One run per backfill
  (``BackfillPolicy.single_run``).
- ``plain_dbt_models`` (selector ``plain``): what spans school years (tracks, careers, NAFT) and
  the deliveries; built whole after the partitioned models.

Each dbt folder becomes an asset group; dbt sources map to the ``raw/<file_type>`` ingestion
assets (``meta.dagster.asset_key``), so lineage runs inbox -> raw -> staging -> marts. dbt tests
become asset checks (error severity = blocking). dbt runs as a subprocess on the warehouse file,
inside the ``duckdb`` pool so no other step holds the file meanwhile.
"""


import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, \
    dbt_assets

from orchestration.foundations import school_year, settings
from orchestration.platform.dbt_project import dbt_environment, dbt_executable, \
    warehouse_dbt_project
from orchestration.platform.partitions import school_year_partitions
from orchestration.foundations.warehouse import POOL
from orchestration.platform.recovery import RUN_ID_ENV

LAYERS = ("staging", "intermediate", "marts", "deliveries")
PARTITIONED_SELECTOR = "school_year_partitioned"  # dbt_project/selectors.yml
PLAIN_SELECTOR = "plain"
PARTITIONED_TAG = "school_year_partitioned"  # dbt_project.yml: the models with per-year rows
WINDOW_VARS = ("school_year_from", "school_year_to")
# dbt unit tests check the models' SQL on hand-made rows, not the data: they give the same answer
# in every run of the same code, so the warehouse builds leave them to the test suite
# (tests/integration/test_protocol_fidelity_on_sample.py runs them all) instead of spending
# about a fifth of every partitioned build on them.
WITHOUT_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]


class WarehouseTranslator(DagsterDbtTranslator):
    """Groups follow the dbt folder layers; deliveries are grouped per protocol. Metadata says how
    a model treats the school-year partitions."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props.get("resource_type") == "seed":
            return "reference"
        layer = fqn[1] if len(fqn) > 2 else None
        if layer == "deliveries" and len(fqn) > 3:
            return f"delivery_{fqn[2]}"
        return layer if layer in LAYERS else super().get_group_name(dbt_resource_props)

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        metadata = dict(super().get_metadata(dbt_resource_props))
        mode = school_year_mode(dbt_resource_props)
        if mode:
            metadata["school_year_partitions"] = mode
        return metadata


def school_year_mode(dbt_resource_props: Mapping[str, Any]) -> str | None:
    """How a model treats the school-year window, for its asset metadata (None = plain model)."""
    config = dbt_resource_props.get("config", {})
    if PARTITIONED_TAG not in (dbt_resource_props.get("tags") or []):
        return None
    if config.get("materialized") == "incremental":
        return "incremental: a run replaces the rows of its school years only"
    return "view: recreated in every run"


class SchoolYearTranslator(WarehouseTranslator):
    """The partitioned part follows its inputs: when a raw partition changes (a new file from the
    inbox sensor, an erasure), the models that read it are rebuilt for that school year only
    (``school_year_automation_sensor``, orchestration/jobs.py)."""

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]
                                 ) -> dg.AutomationCondition | None:
        return dg.AutomationCondition.eager()


_translator_settings = DagsterDbtTranslatorSettings(enable_source_tests_as_checks=False)
translator = WarehouseTranslator(settings=_translator_settings)
school_year_translator = SchoolYearTranslator(settings=_translator_settings)


def partitioned_build_args(first: str, last: str,
                           school_years: Sequence[str] = school_year.ALL) -> list[str]:
    """The ``dbt build`` of the school years ``first``..``last`` (partition keys, in order).

    Every school year: a full build (``--full-refresh``, no window), exactly what one build of
    everything gives. Fewer: the window as ``--vars``, so the incremental models replace only the
    window's rows. (A window run re-parses the project, about 15 s: dbt parses again whenever
    the vars change.)
    """
    years = list(school_years)
    for key in (first, last):
        if key not in years:
            raise ValueError(f"not a school-year partition: {key!r}")
    if years.index(first) > years.index(last):
        raise ValueError(f"school-year window ends ({last}) before it starts ({first})")
    if (first, last) == (years[0], years[-1]):
        return ["build", "--full-refresh", *WITHOUT_UNIT_TESTS]
    window = dict(zip(WINDOW_VARS, (first, last), strict=True))
    return ["build", "--vars", json.dumps(window), *WITHOUT_UNIT_TESTS]


def plain_build_args() -> list[str]:
    """The models that span school years are built whole: no window, nothing incremental."""
    return ["build", *WITHOUT_UNIT_TESTS]


# dbt's indirect test selection per part (dagster-dbt reads DBT_INDIRECT_SELECTION and may override
# it with "empty" when checks are deselected). A test reading models of both parts (e.g. a plain
# track mart's relationship to pupil_year) must wait for the plain part: "cautious" runs a test
# only when all its models are built in this invocation; the plain part keeps dbt's "eager".
INDIRECT_SELECTION = {PARTITIONED_SELECTOR: "cautious", PLAIN_SELECTOR: None}


def _run_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, args: list[str],
             part: str):
    os.environ.update(dbt_environment())
    # dbt outlives a SIGKILL of this process: the run id lets recovery find and stop it
    os.environ[RUN_ID_ENV] = context.run_id
    if INDIRECT_SELECTION[part]:
        os.environ["DBT_INDIRECT_SELECTION"] = INDIRECT_SELECTION[part]
    else:
        os.environ.pop("DBT_INDIRECT_SELECTION", None)
    (settings.paths().tmp / "duckdb").mkdir(parents=True, exist_ok=True)
    context.log.info(f"dbt {' '.join(args)}")
    invocation = dbt.cli(args, context=context)
    yield from invocation.stream()
    keep_partial_parse(invocation.target_path)


PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def keep_partial_parse(invocation_target: Path) -> None:
    """Hand this invocation's parse to the next one.

    dagster-dbt gives every invocation a target folder of its own and seeds it with the
    project's ``target/partial_parse.msgpack``. That file came from ``make manifest``; when the
    run's profile differed from it (another warehouse path or memory limit: dbt hashes the
    connection settings), dbt said "profile has changed" and parsed the whole project again,
    in every invocation. The fresh parse is copied back (atomically: concurrent processes may
    read it), so the next invocation with the same profile and vars parses only what changed.
    """
    fresh = Path(invocation_target) / PARTIAL_PARSE_FILE
    target = Path(warehouse_dbt_project.project_dir) / "target"
    if not fresh.exists() or not target.is_dir():
        return
    temporary = target / f".{PARTIAL_PARSE_FILE}.{os.getpid()}"
    shutil.copyfile(fresh, temporary)
    os.replace(temporary, target / PARTIAL_PARSE_FILE)


@dbt_assets(manifest=warehouse_dbt_project.manifest_path, project=warehouse_dbt_project,
            selector=PARTITIONED_SELECTOR, name="school_year_dbt_models",
            partitions_def=school_year_partitions,
            backfill_policy=dg.BackfillPolicy.single_run(),
            dagster_dbt_translator=school_year_translator, pool=POOL)
def school_year_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    window = context.partition_key_range
    yield from _run_dbt(context, dbt, partitioned_build_args(window.start, window.end),
                        PARTITIONED_SELECTOR)


@dbt_assets(manifest=warehouse_dbt_project.manifest_path, project=warehouse_dbt_project,
            selector=PLAIN_SELECTOR, name="plain_dbt_models",
            dagster_dbt_translator=translator, pool=POOL)
def plain_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from _run_dbt(context, dbt, plain_build_args(), PLAIN_SELECTOR)


dbt_model_assets = [school_year_dbt_models, plain_dbt_models]


dbt_resource = DbtCliResource(project_dir=warehouse_dbt_project,
                              dbt_executable=dbt_executable())
