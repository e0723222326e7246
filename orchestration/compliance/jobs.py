"""The job that verifies the audit trail and regenerates the processing register, every morning."""

import dagster as dg

from orchestration.platform.automation import TIMEZONE

COMPLIANCE_GROUP = "compliance"

compliance_report_job = dg.define_asset_job(
    "compliance_report_job", selection=dg.AssetSelection.groups(COMPLIANCE_GROUP),
    description="Verify the audit trail and regenerate the processing register.")


def build_report_schedule(default_status: dg.DefaultScheduleStatus
                          = dg.DefaultScheduleStatus.RUNNING) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="compliance_report_daily", cron_schedule="0 6 * * *", job=compliance_report_job,
        execution_timezone=TIMEZONE, default_status=default_status,
        description="Verify the audit chain and regenerate the processing register every morning.")
