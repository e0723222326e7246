"""The warehouse's Dagster code location: merges the slices' definitions and adds the jobs that
span them. No logic of its own.

The recovery after a crash (``platform/recovery.py``: ``dead_run_sensor``) spans every job,
like the main jobs.

Each slice exports ``defs`` from its ``definitions`` module; ``Definitions.merge`` checks that no
two slices define the same object.
"""

import dagster as dg

from orchestration.compliance.definitions import defs as compliance
from orchestration.deliveries.definitions import defs as deliveries
from orchestration.ingestion.definitions import defs as ingestion
from orchestration.jobs import school_year_backfill_job, warehouse_job
from orchestration.linkage.definitions import defs as linkage
from orchestration.platform.automation import DEFAULT_SENSOR_STATUS
from orchestration.platform.recovery import build_dead_run_sensor
from orchestration.quality.definitions import defs as quality
from orchestration.retention.definitions import defs as retention
from orchestration.transform.definitions import defs as transform

defs = dg.Definitions.merge(
    ingestion, linkage, transform, quality, deliveries, retention, compliance,
    dg.Definitions(jobs=[warehouse_job, school_year_backfill_job],
                   sensors=[build_dead_run_sensor(DEFAULT_SENSOR_STATUS)]),
)
