"""Schedules: one per periodic protocol, generated from the registry, plus retention and reports.

A delivery schedule ticks every morning on the days that can be an exchange day or a catch-up day
(cron from ``exchanges.cron_schedules``); the evaluation asks ``exchanges.decide`` whether a
delivery is due today. When it is, it requests the protocol's delivery job with the run key of
the exchange, so each exchange starts once however many ticks see it; otherwise it skips with the
reason (next exchange, or the validity end of an expired protocol). Protocols whose periodicity is
``once`` (naft_evaluation) or ``on_request`` have a job and no schedule.
"""

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.operations import exchanges
from orchestration.operations.jobs import (DELIVERY_JOB_PARTITIONS, delivery_group,
                                           delivery_job_name, operations_report_job,
                                           retention_job)
from orchestration.partitions import school_years_tags
from orchestration.protocols.registry import Protocol, Registry

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

TIMEZONE = "Europe/Brussels"


def evaluation_day(context: dg.ScheduleEvaluationContext) -> dt.date:
    when = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(TIMEZONE))
    return when.astimezone(ZoneInfo(TIMEZONE)).date()


def _job_without_assets(context: dg.ScheduleEvaluationContext, job_name: str) -> bool:
    """True when the definitions are at hand and the delivery job selects no asset yet."""
    try:
        repo = context.repository_def
    except dg.DagsterInvariantViolationError:  # evaluated without definitions (unit tests)
        return False
    try:
        return not repo.get_job(job_name).asset_layer.executable_asset_keys
    except Exception:  # no job of that name, or an API change: let the run request decide
        return False


def build_delivery_schedule(protocol: Protocol, job: "UnresolvedAssetJobDefinition",
                            default_status: dg.DefaultScheduleStatus
                            = dg.DefaultScheduleStatus.RUNNING) -> dg.ScheduleDefinition:
    pid = protocol.id

    @dg.schedule(
        name=f"{delivery_job_name(pid)}_schedule",
        cron_schedule=exchanges.cron_schedules(protocol),
        job=job,
        execution_timezone=TIMEZONE,
        default_status=default_status,
        description=(f"{pid}: {protocol.periodicity.description} Ticks daily in the exchange "
                     "windows; requests a delivery on the exchange day (run key per exchange)."),
        tags={"protocol": pid},
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        day = evaluation_day(context)
        decision = exchanges.decide(protocol, day)
        if not decision.due:
            return dg.SkipReason(decision.reason)
        if _job_without_assets(context, job.name):
            due = ", ".join(e.run_key for e in decision.due)
            return dg.SkipReason(f"{pid} exchange due ({due}) but {job.name} has no assets yet: "
                                 f"group {delivery_group(pid)} is empty")
        # every school year in one run: see DELIVERY_JOB_PARTITIONS
        years = school_years_tags() if DELIVERY_JOB_PARTITIONS else {}
        return [dg.RunRequest(run_key=e.run_key, tags={**e.tags(), **years})
                for e in decision.due]

    return _schedule


def build_delivery_schedules(
        registry: Registry, jobs: "dict[str, UnresolvedAssetJobDefinition]",
        default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> dict[str, dg.ScheduleDefinition]:
    return {pid: build_delivery_schedule(registry.protocol(pid), jobs[pid], default_status)
            for pid in registry.ids if exchanges.is_scheduled(registry.protocol(pid))}


def build_retention_schedule(default_status: dg.DefaultScheduleStatus
                             = dg.DefaultScheduleStatus.RUNNING) -> dg.ScheduleDefinition:
    @dg.schedule(name="retention_daily", cron_schedule="30 2 * * *", job=retention_job,
                 execution_timezone=TIMEZONE, default_status=default_status,
                 description="Apply the retention rules every night (erases; a run started by "
                             "hand from the job is a dry run).")
    def _retention(context: dg.ScheduleEvaluationContext):
        day = evaluation_day(context)
        return dg.RunRequest(run_key=f"retention/{day.isoformat()}", run_config={
            "ops": {"apply_retention": {"config": {"dry_run": False,
                                                   "today": day.isoformat()}}}})

    return _retention


def build_report_schedule(default_status: dg.DefaultScheduleStatus
                          = dg.DefaultScheduleStatus.RUNNING) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="operations_report_daily", cron_schedule="0 6 * * *", job=operations_report_job,
        execution_timezone=TIMEZONE, default_status=default_status,
        description="Verify the audit chain and regenerate the processing register every morning.")
