"""Whether schedules and sensors start running, and the time zone every schedule ticks in.

Schedules and sensors act only while the Dagster daemon runs (``make ui``). They ship RUNNING;
set ``RUNNING = False`` to ship them stopped.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

RUNNING = True
DEFAULT_SCHEDULE_STATUS = dg.DefaultScheduleStatus.RUNNING if RUNNING else \
    dg.DefaultScheduleStatus.STOPPED
DEFAULT_SENSOR_STATUS = dg.DefaultSensorStatus.RUNNING if RUNNING else \
    dg.DefaultSensorStatus.STOPPED

TIMEZONE = "Europe/Brussels"


def evaluation_day(context: dg.ScheduleEvaluationContext) -> dt.date:
    """The day (in Brussels) a schedule tick stands for."""
    when = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(TIMEZONE))
    return when.astimezone(ZoneInfo(TIMEZONE)).date()


def today_in_brussels() -> dt.date:
    return dt.datetime.now(ZoneInfo(TIMEZONE)).date()
