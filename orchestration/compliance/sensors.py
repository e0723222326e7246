"""The audit of every run that ends: one audit entry per successful or failed run."""

import dagster as dg

from orchestration.foundations import audit

def run_fields(context: dg.RunStatusSensorContext, status: str) -> dict:
    """Audit fields of an ended run: job, status, partition, assets materialised (keys only)."""
    run = context.dagster_run
    records = context.instance.get_records_for_run(
        run_id=run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    assets = sorted({r.event_log_entry.dagster_event.asset_key.to_user_string()
                     for r in records if r.event_log_entry.dagster_event
                     and r.event_log_entry.dagster_event.asset_key})
    tags = run.tags or {}
    start = tags.get("dagster/asset_partition_range_start")
    partition = tags.get("dagster/partition") or (
        f"{start}..{tags.get('dagster/asset_partition_range_end')}" if start else None)
    return {"run_id": run.run_id, "job": run.job_name, "status": status, "partition": partition,
            "assets": assets, "asset_count": len(assets),
            "protocol": tags.get("protocol"), "source": tags.get("source")}


def build_run_audit_sensors(default_status: dg.DefaultSensorStatus
                            = dg.DefaultSensorStatus.RUNNING) -> list[dg.SensorDefinition]:
    @dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, name="audit_run_success_sensor",
                          default_status=default_status,
                          description="Records every successful run in the audit trail.")
    def audit_run_success(context: dg.RunStatusSensorContext):
        audit.record("materialisation", **run_fields(context, "success"))

    @dg.run_status_sensor(run_status=dg.DagsterRunStatus.FAILURE, name="audit_run_failure_sensor",
                          default_status=default_status,
                          description="Records every failed run in the audit trail.")
    def audit_run_failure(context: dg.RunStatusSensorContext):
        audit.record("materialisation", **run_fields(context, "failure"))

    return [audit_run_success, audit_run_failure]
