"""The ingestion slice's Dagster objects: inbox and raw assets, one job and one sensor per source."""

import dagster as dg

from orchestration.ingestion.assets import inbox_specs, source_assets
from orchestration.ingestion.jobs import ingestion_jobs
from orchestration.ingestion.sensors import build_inbox_sensor
from orchestration.platform.automation import DEFAULT_SENSOR_STATUS

inbox_sensors = {s: build_inbox_sensor(s, job, default_status=DEFAULT_SENSOR_STATUS)
                 for s, job in ingestion_jobs.items()}

defs = dg.Definitions(
    assets=[*inbox_specs, *source_assets],
    jobs=list(ingestion_jobs.values()),
    sensors=list(inbox_sensors.values()),
)
