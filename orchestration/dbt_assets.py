"""dbt models as Dagster assets: staging -> intermediate -> marts -> deliveries.

Each dbt folder becomes an asset group; dbt sources map to the ``raw/<file_type>`` ingestion
assets (``meta.dagster.asset_key``), so lineage runs inbox -> raw -> staging -> marts. dbt tests
become asset checks (error severity = blocking). dbt runs as a subprocess on the warehouse file,
inside the ``duckdb`` pool so no other step holds the file meanwhile.
"""


import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, \
    dbt_assets

from orchestration import settings
from orchestration.dbt_project import warehouse_dbt_project
from orchestration.warehouse import POOL

LAYERS = ("staging", "intermediate", "marts", "deliveries")


class WarehouseTranslator(DagsterDbtTranslator):
    """Groups follow the dbt folder layers; deliveries are grouped per protocol."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props.get("resource_type") == "seed":
            return "reference"
        layer = fqn[1] if len(fqn) > 2 else None
        if layer == "deliveries" and len(fqn) > 3:
            return f"delivery_{fqn[2]}"
        return layer if layer in LAYERS else super().get_group_name(dbt_resource_props)


translator = WarehouseTranslator(settings=DagsterDbtTranslatorSettings(
    enable_source_tests_as_checks=False))


def dbt_environment(p: settings.Paths | None = None) -> dict[str, str]:
    """What the dbt profile reads: the same warehouse file and DuckDB settings as Python."""
    p = p or settings.paths()
    config = settings.duckdb_config(p)
    return {"WAREHOUSE_PATH": str(p.warehouse), "DUCKDB_MEMORY_LIMIT": config["memory_limit"],
            "DUCKDB_TEMP_DIRECTORY": config["temp_directory"]}


def dbt_build_args() -> list[str]:
    """One ``dbt build`` per run: seeds, models and their tests in dependency order."""
    return ["build"]


@dbt_assets(manifest=warehouse_dbt_project.manifest_path, project=warehouse_dbt_project,
            dagster_dbt_translator=translator, pool=POOL)
def warehouse_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    os.environ.update(dbt_environment())
    (settings.paths().tmp / "duckdb").mkdir(parents=True, exist_ok=True)
    yield from dbt.cli(dbt_build_args(), context=context).stream()


def _dbt_executable() -> str:
    """The dbt of this interpreter's environment, so no activated venv is needed."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


dbt_resource = DbtCliResource(project_dir=warehouse_dbt_project,
                              dbt_executable=_dbt_executable())
