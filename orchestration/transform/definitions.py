"""The transform slice's Dagster objects: the dbt assets, the dbt resource, the automation sensor."""

import dagster as dg

from orchestration.platform.automation import DEFAULT_SENSOR_STATUS
from orchestration.transform.assets import dbt_model_assets, dbt_resource, school_year_dbt_models

school_year_automation_sensor = dg.AutomationConditionSensorDefinition(
    "school_year_automation_sensor",
    target=dg.AssetSelection.assets(school_year_dbt_models),
    default_status=DEFAULT_SENSOR_STATUS,
    minimum_interval_seconds=60,
    description="Rebuilds the school-year partitions of the per-year models whose raw input "
                "changed (AutomationCondition.eager on the partitioned dbt assets): one run per "
                "change, for that school year only, with the window as dbt --vars.",
)

defs = dg.Definitions(assets=dbt_model_assets, sensors=[school_year_automation_sensor],
                      resources={"dbt": dbt_resource})
