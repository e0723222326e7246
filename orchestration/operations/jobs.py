"""Jobs of the operations layer: one delivery job per protocol, one ingestion job per source, the
retention job and the job that refreshes the steward's pages.

Delivery jobs select the group ``delivery_<protocol_id>`` (dbt delivery models and the Python
writer, built by the deliveries) and everything upstream of it except the inbox and the raw
ingestion layer: deliveries rebuild staging, marts and deliveries from what is in ``raw``; files
enter ``raw`` only through the inbox sensors, the gatekeepers. The selection resolves (to no
asset) while a group is still empty, and Definitions validate (checked by a test).
"""

import datetime as dt
from typing import TYPE_CHECKING

import dagster as dg

from orchestration.ingestion.assets import raw_asset_key
from orchestration.operations.erasure import run_retention
from orchestration.partitions import school_year_partitions
from orchestration.protocols.registry import Protocol, Registry
from orchestration.sources import SOURCES, file_types_of
from orchestration.warehouse import POOL

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

OPERATIONS_GROUP = "operations"

# The delivery jobs select the school-year partitioned dbt models upstream of the deliveries, so
# they are partitioned too. A delivery run covers every school year (the schedules put the full
# range on their run requests): the per-year marts hold indicators that read other school years
# (repeated year: the previous one; early school leaving: every later one), so after new files
# only a build of all years is exact everywhere. One-year windows are for backfills
# (``school_year_backfill_job``).
DELIVERY_JOB_PARTITIONS: dg.PartitionsDefinition | None = school_year_partitions


def delivery_group(protocol_id: str) -> str:
    return f"delivery_{protocol_id}"


def delivery_job_name(protocol_id: str) -> str:
    return f"deliver_{protocol_id}"


def delivery_selection(protocol_id: str) -> dg.AssetSelection:
    # All of staging, not only its upstream part: the article-7 staging checks are one
    # multi-check over every staging asset and cannot be subset.
    return ((dg.AssetSelection.groups(delivery_group(protocol_id)).upstream()
             | dg.AssetSelection.groups("staging"))
            - dg.AssetSelection.groups("inbox", "raw"))


def build_delivery_job(protocol: Protocol) -> "UnresolvedAssetJobDefinition":
    until = protocol.valid_until
    return dg.define_asset_job(
        delivery_job_name(protocol.id),
        selection=delivery_selection(protocol.id),
        partitions_def=DELIVERY_JOB_PARTITIONS,
        tags={"protocol": protocol.id},
        description=(f"Deliver {protocol.id} ({protocol.periodicity.kind}) to "
                     f"{protocol.parties.recipient.short_name}: the assets of group "
                     f"{delivery_group(protocol.id)} and everything upstream except inbox and raw, "
                     f"over every school year (the schedule's run covers them all). "
                     f"Valid {protocol.validity.valid_from.isoformat()} to "
                     f"{until.isoformat() if until else 'indefinite'}."),
    )


def build_delivery_jobs(registry: Registry) -> "dict[str, UnresolvedAssetJobDefinition]":
    """One job per protocol; periodic ones are scheduled, the others are started by hand."""
    return {pid: build_delivery_job(registry.protocol(pid)) for pid in registry.ids}


def ingestion_job_name(source: str) -> str:
    return f"ingest_{source}_job"


def build_ingestion_job(source: str) -> "UnresolvedAssetJobDefinition":
    return dg.define_asset_job(
        ingestion_job_name(source),
        # The article-7 raw checks are one multi-check over every source's raw assets and cannot
        # be subset: a per-source ingestion run loads only; the checks run in warehouse_job.
        selection=dg.AssetSelection.assets(*[raw_asset_key(f.file_type)
                                             for f in file_types_of(source)]).without_checks(),
        partitions_def=school_year_partitions,
        tags={"source": source},
        description=f"Ingest new files of data/inbox/{source}/ for one school year (started by "
                    f"the inbox sensor, one run per new file, run key = its SHA-256).",
    )


ingestion_jobs = {s: build_ingestion_job(s) for s in SOURCES}


# ------------------------------------------------------------------------------------ retention

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


operations_report_job = dg.define_asset_job(
    "operations_report_job", selection=dg.AssetSelection.groups(OPERATIONS_GROUP),
    description="Verify the audit trail and regenerate the processing register.")
