"""The retention job (a dry run when launched by hand) and its nightly schedule (erases)."""

import datetime as dt

import dagster as dg

from orchestration.foundations.warehouse import POOL
from orchestration.platform.asset_keys import raw_asset_key
from orchestration.platform.automation import TIMEZONE, evaluation_day
from orchestration.retention.erasure import run_retention


class RetentionConfig(dg.Config):
    """Retention run settings. The default is a dry run that only lists what would go."""

    dry_run: bool = True
    today: str | None = None  # ISO date to evaluate as of (rehearsal, tests); default today
    confirm_placeholder_dates: bool = False  # also erase what waits for a placeholder date
    reason: str = ""  # required with confirm_placeholder_dates (recorded as a forced action)


@dg.op(pool=POOL, description="Plan retention from the registry; unless dry_run, erase rows and "
                              "files, rebuild the DuckDB files, verify their bytes, audit it.")
def apply_retention(context: dg.OpExecutionContext, config: RetentionConfig):
    today = dt.date.fromisoformat(config.today) if config.today else None
    outcome = run_retention(today=today, dry_run=config.dry_run,
                            confirm_placeholder_dates=config.confirm_placeholder_dates,
                            reason=config.reason)
    plan = outcome.plan
    for a in plan.actions:
        verb = "would" if config.dry_run or a.is_held else "will"
        context.log.info(f"{verb} {a.kind}: {a.target} ({a.rows} rows) under {a.rule}"
                         + (f" [held: {a.held}]" if a.is_held else ""))
    for note in plan.notes:
        context.log.warning(note)
    metadata: dict[str, dg.MetadataValue] = {
        "dry_run": dg.MetadataValue.bool(config.dry_run),
        "evaluated_on": dg.MetadataValue.text(plan.today.isoformat()),
        "plan": dg.MetadataValue.md(plan.markdown()),
        **{k: dg.MetadataValue.int(v) for k, v in plan.summary().items()},
        "persons_forgotten" if outcome.report else "persons_that_would_be_forgotten":
            dg.MetadataValue.int(outcome.persons_to_forget),
    }
    if outcome.report is not None:
        r = outcome.report
        metadata["erased"] = dg.MetadataValue.json(r.totals())
        metadata["databases_rebuilt"] = dg.MetadataValue.text(", ".join(r.rebuilt) or "none")
        metadata["bytes_verified"] = dg.MetadataValue.bool(r.bytes_verified)
        for file_type, year in sorted(r.touched_partitions):
            # The raw partition changed: what is built from it is now stale in the UI.
            yield dg.AssetMaterialization(asset_key=raw_asset_key(file_type), partition=year,
                                          metadata={"changed_by": "retention_job",
                                                    "evaluated_on": plan.today.isoformat()})
    yield dg.Output(None, metadata=metadata)


@dg.job(name="retention_job", tags={"operations": "retention"},
        description="Retention and erasure from the registry's rules. Launched by hand it is a "
                    "dry run (set dry_run: false to erase); the daily schedule erases.")
def retention_job():
    apply_retention()


def build_retention_schedule(default_status: dg.DefaultScheduleStatus
                             = dg.DefaultScheduleStatus.STOPPED) -> dg.ScheduleDefinition:
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
