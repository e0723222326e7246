"""The retention slice's Dagster objects: the retention job and its nightly schedule."""

import dagster as dg

from orchestration.platform.automation import RETENTION_SCHEDULE_STATUS
from orchestration.retention.jobs import build_retention_schedule, retention_job

defs = dg.Definitions(jobs=[retention_job],
                      schedules=[build_retention_schedule(RETENTION_SCHEDULE_STATUS)])
