"""The operations layer's Dagster objects, as lists for ``orchestration/definitions.py``:

- ``operations_jobs``: ``deliver_<protocol_id>`` for every protocol in the registry,
  ``ingest_<source>_job`` for every source, ``retention_job``, ``operations_report_job``;
- ``operations_schedules``: ``deliver_<protocol_id>_schedule`` for every periodic or yearly
  protocol, ``retention_daily``, ``operations_report_daily``;
- ``operations_sensors``: ``inbox_<source>_sensor`` for every source,
  ``audit_run_success_sensor``, ``audit_run_failure_sensor``, ``dead_run_sensor`` (recovery
  after a crash);
- ``operations_assets``: ``operations/audit_log`` (with the check ``audit_chain_intact``) and
  ``operations/processing_register``.

Generated from the protocol registry at import time. Schedules and sensors start RUNNING (they
act only while the Dagster daemon runs); change ``DEFAULT_STATUS`` to ship them stopped.
"""

import dagster as dg

from orchestration.operations.assets import operations_assets_list
from orchestration.operations.jobs import (build_delivery_jobs, ingestion_jobs,
                                           operations_report_job, retention_job)
from orchestration.operations.schedules import (build_delivery_schedules, build_report_schedule,
                                                build_retention_schedule)
from orchestration.operations.recovery import build_dead_run_sensor
from orchestration.operations.sensors import build_inbox_sensor, build_run_audit_sensors
from orchestration.protocols import load_registry

RUNNING = True
DEFAULT_SCHEDULE_STATUS = dg.DefaultScheduleStatus.RUNNING if RUNNING else \
    dg.DefaultScheduleStatus.STOPPED
DEFAULT_SENSOR_STATUS = dg.DefaultSensorStatus.RUNNING if RUNNING else \
    dg.DefaultSensorStatus.STOPPED

_registry = load_registry()
delivery_jobs = build_delivery_jobs(_registry)
delivery_schedules = build_delivery_schedules(_registry, delivery_jobs, DEFAULT_SCHEDULE_STATUS)
inbox_sensors = {s: build_inbox_sensor(s, job, default_status=DEFAULT_SENSOR_STATUS)
                 for s, job in ingestion_jobs.items()}

operations_jobs = [*delivery_jobs.values(), *ingestion_jobs.values(), retention_job,
                   operations_report_job]
operations_schedules = [*delivery_schedules.values(),
                        build_retention_schedule(DEFAULT_SCHEDULE_STATUS),
                        build_report_schedule(DEFAULT_SCHEDULE_STATUS)]
operations_sensors = [*inbox_sensors.values(), *build_run_audit_sensors(DEFAULT_SENSOR_STATUS),
                      build_dead_run_sensor(DEFAULT_SENSOR_STATUS)]
operations_assets = list(operations_assets_list)

__all__ = ["operations_assets", "operations_jobs", "operations_schedules", "operations_sensors",
           "delivery_jobs", "delivery_schedules", "inbox_sensors"]
