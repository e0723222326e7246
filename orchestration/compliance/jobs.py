"""The job that verifies the audit trail and regenerates the processing register, every morning;
the job that records a data breach and writes its notifications."""

import datetime as dt

import dagster as dg
from pydantic import Field

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


class DataBreachConfig(dg.Config):
    """A data breach as the steward records it (no personal values in any field)."""

    what: str = Field(description="What happened, without personal values")
    discovered_at: str = Field(description="When it was discovered, ISO (2026-12-07T09:30)")
    occurred_on: str | None = Field(default=None, description="The day it happened, if known")
    protocols: list[str] = Field(default_factory=list,
                                 description="Protocols concerned (ids of the registry)")
    deliveries: list[str] = Field(default_factory=list,
                                  description="Delivery ids concerned (their protocols and "
                                              "recipients follow from the audit trail)")


@dg.op(description="Record a data breach in the audit trail and the processing register and "
                   "write the notifications to each protocol's data-protection officers, with "
                   "the deadline (orchestration/compliance/breach.py).")
def record_data_breach(context: dg.OpExecutionContext, config: DataBreachConfig) -> dg.Output:
    from orchestration.compliance import breach

    recorded = breach.record_breach(
        config.what, dt.datetime.fromisoformat(config.discovered_at),
        protocols=config.protocols, deliveries=config.deliveries,
        occurred_on=dt.date.fromisoformat(config.occurred_on) if config.occurred_on else None)
    context.log.warning(f"data breach {recorded.breach_id} recorded; notify the officers by "
                        f"{recorded.authority_deadline.isoformat(timespec='minutes')}")
    return dg.Output(recorded.breach_id, metadata={
        "breach_id": recorded.breach_id,
        "protocols": ", ".join(recorded.protocols),
        "deliveries": ", ".join(recorded.deliveries) or "none named",
        "recipients": ", ".join(recorded.recipients),
        "authority_deadline": recorded.authority_deadline.isoformat(timespec="minutes"),
        "notifications": dg.MetadataValue.json([str(x) for x in recorded.notifications]),
    })


@dg.job(description="Record a data breach (launch with its run config: what, discovered_at, "
                    "protocols and/or deliveries): audit trail, processing register, and the "
                    "notifications to the officers the protocols name, with the deadline.")
def record_data_breach_job() -> None:
    record_data_breach()
