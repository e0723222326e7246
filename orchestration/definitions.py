"""The warehouse's Dagster definitions: gathers the parts, applies no logic of its own."""

import dagster as dg

from orchestration.dbt_assets import dbt_resource, warehouse_dbt_models
from orchestration.ingestion.assets import inbox_specs, source_assets
from orchestration.jobs import warehouse_job

defs = dg.Definitions(
    assets=[*inbox_specs, *source_assets, warehouse_dbt_models],
    jobs=[warehouse_job],
    resources={"dbt": dbt_resource},
)
