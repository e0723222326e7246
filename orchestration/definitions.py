"""The warehouse's Dagster definitions: gathers the parts, applies no logic of its own."""

import dagster as dg

from orchestration.dbt_assets import dbt_model_assets, dbt_resource
from orchestration.deliveries.assets import delivery_assets, delivery_column_checks
from orchestration.ingestion.assets import inbox_specs, source_assets
from orchestration.jobs import (school_year_automation_sensor, school_year_backfill_job,
                                warehouse_job)
from orchestration.linkage.assets import linkage_assets
from orchestration.quality.checks import quality_assets, quality_checks
from orchestration.operations.definitions import (operations_assets, operations_jobs,
                                                  operations_schedules, operations_sensors)

defs = dg.Definitions(
    assets=[*inbox_specs, *source_assets, *linkage_assets, *dbt_model_assets,
            *delivery_assets,
            *operations_assets, *quality_assets],
    asset_checks=[delivery_column_checks, *quality_checks],
    jobs=[warehouse_job, school_year_backfill_job, *operations_jobs],
    schedules=operations_schedules,
    sensors=[*operations_sensors, school_year_automation_sensor],
    resources={"dbt": dbt_resource},
)
