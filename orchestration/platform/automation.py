"""Whether schedules and sensors start running, and the time zone every schedule ticks in.

Schedules and sensors act only while the Dagster daemon runs (``make ui``). What ships running,
deliberately:

- RUNNING: the inbox sensors (a file the audit trail shows as ingested, e.g. by ``make run``,
  starts nothing), the run-audit sensors, the notification sensors (they send nothing until an
  SMTP host is configured), the dead-run sensor (recovery), the school-year
  automation sensor, the delivery schedules of periodic protocols (the protocols oblige the
  exchanges on their days; an expired protocol's schedule skips) and the morning compliance
  report (reads and writes a page only);
- STOPPED: ``retention_daily``, because it erases data for good. A steward switches it on in
  the UI (Automation -> retention_daily) once the retention plan has been reviewed
  (``python -m orchestration.retention`` is the dry run).

``RUNNING = False`` ships everything stopped.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

RUNNING = True
DEFAULT_SCHEDULE_STATUS = dg.DefaultScheduleStatus.RUNNING if RUNNING else \
    dg.DefaultScheduleStatus.STOPPED
DEFAULT_SENSOR_STATUS = dg.DefaultSensorStatus.RUNNING if RUNNING else \
    dg.DefaultSensorStatus.STOPPED

# Erasure is irreversible: never switched on by merely starting the daemon.
RETENTION_SCHEDULE_STATUS = dg.DefaultScheduleStatus.STOPPED

TIMEZONE = "Europe/Brussels"


def evaluation_day(context: dg.ScheduleEvaluationContext) -> dt.date:
    """The day (in Brussels) a schedule tick stands for."""
    when = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(TIMEZONE))
    return when.astimezone(ZoneInfo(TIMEZONE)).date()


def today_in_brussels() -> dt.date:
    return dt.datetime.now(ZoneInfo(TIMEZONE)).date()
