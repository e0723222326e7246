"""Jobs and automation over the whole warehouse: the main job, the backfill of a school year, and
the sensor that keeps the school-year partitions up to date with the raw partitions.

Both are partitioned by school year. ``warehouse_job`` runs over every school year in one run
(``python -m orchestration.main``): ingestion, a full dbt build, checks, deliveries.
``school_year_backfill_job`` reprocesses the school years of its run (one partition, or a range
in one run): ingests their new files and rebuilds their partitions of the per-year models only,
leaving every other school year's rows as they are; no delivery goes out.
``school_year_automation_sensor``: when a raw partition changes (the inbox sensor's ingestion run
of a new file, an erasure), the partitioned models that read that table are rebuilt for that
school year only (one new counting-date file recomputes only what depends on it); the plain
models and the deliveries wait for the next delivery or main run.
"""

import dagster as dg

from orchestration.dbt_assets import school_year_dbt_models
from orchestration.operations.definitions import DEFAULT_SENSOR_STATUS
from orchestration.operations.recovery import EXCLUSIVE_TAG
from orchestration.partitions import school_year_partitions

warehouse_job = dg.define_asset_job(
    "warehouse_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("inbox"),
    partitions_def=school_year_partitions,
    # one main job at a time: the command line refuses a second, the UI's run queue holds it
    tags={EXCLUSIVE_TAG: "main"},
    description="Ingest every source's new files, then build staging, marts and deliveries.",
)

school_year_backfill_job = dg.define_asset_job(
    "school_year_backfill_job",
    # the per-year dbt models and what they read: raw (same partitions) and the DUO linkage
    selection=(dg.AssetSelection.assets(school_year_dbt_models).upstream()
               - dg.AssetSelection.groups("inbox")),
    partitions_def=school_year_partitions,
    tags={EXCLUSIVE_TAG: "main"},
    description="Reprocess past school years: ingest their new files, rebuild their rows of the "
                "per-year models (staging to pupil_year, school_year, compulsory_education_status) "
                "and leave every other school year as it is. Models that span school years "
                "(tracks, deliveries) are rebuilt by the next warehouse_job or delivery run. "
                "Launch with one partition or a range (one run, dbt --vars window).",
)


school_year_automation_sensor = dg.AutomationConditionSensorDefinition(
    "school_year_automation_sensor",
    target=dg.AssetSelection.assets(school_year_dbt_models),
    default_status=DEFAULT_SENSOR_STATUS,
    minimum_interval_seconds=60,
    description="Rebuilds the school-year partitions of the per-year models whose raw input "
                "changed (AutomationCondition.eager on the partitioned dbt assets): one run per "
                "change, for that school year only, with the window as dbt --vars.",
)
