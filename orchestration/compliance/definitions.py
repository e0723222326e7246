"""The compliance slice's Dagster objects: the audit log and the processing register (assets),
the morning job that refreshes them, the sensors that audit every run that ends, and the sensors
that e-mail the steward (off until an SMTP server is configured: ``notifications.py``)."""

import dagster as dg

from orchestration.compliance.assets import compliance_assets
from orchestration.compliance.jobs import (build_report_schedule, compliance_report_job,
                                           record_data_breach_job)
from orchestration.compliance.notifications import build_notification_sensors
from orchestration.compliance.sensors import build_run_audit_sensors
from orchestration.platform.automation import DEFAULT_SCHEDULE_STATUS, DEFAULT_SENSOR_STATUS

defs = dg.Definitions(
    assets=compliance_assets,
    jobs=[compliance_report_job, record_data_breach_job],
    schedules=[build_report_schedule(DEFAULT_SCHEDULE_STATUS)],
    sensors=[*build_run_audit_sensors(DEFAULT_SENSOR_STATUS),
             *build_notification_sensors(DEFAULT_SENSOR_STATUS)],
)
