"""The jobs that span every slice: the main job and the backfill of a school year.

Both are partitioned by school year. ``warehouse_job`` runs over every school year in one run
(``python -m orchestration.main``): ingestion, a full dbt build, checks, deliveries.
``school_year_backfill_job`` reprocesses the school years of its run (one partition, or a range
in one run): ingests their new files and rebuilds their partitions of the per-year models only,
leaving every other school year's rows as they are; no delivery goes out.
"""

import dagster as dg

from orchestration.platform.partitions import school_year_partitions
from orchestration.transform.assets import school_year_dbt_models
from orchestration.platform.recovery import EXCLUSIVE_TAG

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
