"""One delivery job per protocol (``deliver_<protocol_id>``), generated from the registry.

A delivery job selects the group ``delivery_<protocol_id>`` (dbt delivery models and the Python
writer) and everything upstream of it except the inbox and the raw ingestion layer: deliveries
rebuild staging, marts and deliveries from what is in ``raw``; files enter ``raw`` only through
the inbox sensors, the gatekeepers. The selection resolves (to no asset) while a group is still
empty, and Definitions validate (checked by a test).
"""

from typing import TYPE_CHECKING

import dagster as dg

from orchestration.platform.asset_keys import delivery_asset_key, raw_asset_key
from orchestration.platform.partitions import school_year_partitions
from orchestration.protocols.registry import Protocol, Registry

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )


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


def stale_selection(protocol_id: str, asset_graph, changed_file_types: set[str] | None
                    ) -> list[dg.AssetKey] | None:
    """What a delivery run must rebuild: the assets of its job downstream of the raw tables that
    changed since the last main job (``platform.up_to_date.changed_file_types``), and the
    writer. A new zorgthuis list rebuilds the zorgthuis models, not every enrolment model;
    nothing changed: the writer alone (it finds its files unchanged). None: the whole job."""
    if changed_file_types is None:
        return None
    in_job = delivery_selection(protocol_id).resolve(asset_graph)
    changed = dg.AssetSelection.assets(*[raw_asset_key(ft) for ft in sorted(changed_file_types)])
    stale = changed.downstream().resolve(asset_graph) if changed_file_types else set()
    writer = delivery_asset_key(protocol_id)
    return sorted((in_job & stale) | {writer}, key=lambda k: k.to_user_string())


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
