"""Delivery schedules: one per periodic protocol, generated from the registry.

A delivery schedule ticks every morning on the days that can be an exchange day or a catch-up day
(cron from ``exchanges.cron_schedules``); the evaluation asks ``exchanges.decide`` whether a
delivery is due today. When it is, it requests the protocol's delivery job with the run key of
the exchange, so each exchange starts once however many ticks see it; otherwise it skips with the
reason (next exchange, or the validity end of an expired protocol). Protocols whose periodicity is
``once`` (naft_evaluation) or ``on_request`` have a job and no schedule.
"""

from typing import TYPE_CHECKING

import dagster as dg

from orchestration.deliveries import exchanges
from orchestration.deliveries.jobs import (DELIVERY_JOB_PARTITIONS, delivery_group,
                                           delivery_job_name, stale_selection)
from orchestration.foundations import settings
from orchestration.platform import up_to_date
from orchestration.platform.automation import TIMEZONE, evaluation_day
from orchestration.platform.partitions import school_years_tags
from orchestration.protocols.registry import Protocol, Registry

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )



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


def _stale_selection(context: dg.ScheduleEvaluationContext, protocol_id: str
                     ) -> list[dg.AssetKey] | None:
    """Only what changed since the last main job, with the definitions at hand (else None:
    the whole job, as in unit tests that evaluate the schedule without definitions)."""
    try:
        asset_graph = context.repository_def.asset_graph
    except dg.DagsterInvariantViolationError:
        return None
    return stale_selection(protocol_id, asset_graph,
                           up_to_date.changed_file_types(settings.paths()))


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
        selection = _stale_selection(context, pid)
        return [dg.RunRequest(run_key=e.run_key, tags={**e.tags(), **years},
                              asset_selection=selection)
                for e in decision.due]

    return _schedule


def build_delivery_schedules(
        registry: Registry, jobs: "dict[str, UnresolvedAssetJobDefinition]",
        default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> dict[str, dg.ScheduleDefinition]:
    return {pid: build_delivery_schedule(registry.protocol(pid), jobs[pid], default_status)
            for pid in registry.ids if exchanges.is_scheduled(registry.protocol(pid))}
