"""What the data steward sees in the Dagster UI: the audit log and the processing register.

``compliance/audit_log`` verifies the hash chain and shows its size and last entry; its blocking
check ``audit_chain_intact`` fails when an entry was changed, inserted or removed, and also when
the log shrank or lost the head it had at the previous materialisation (cut off at the end).
``compliance/processing_register`` writes the art. 30 register page and links it. Neither opens
DuckDB.
"""

import datetime as dt

import dagster as dg

from orchestration.foundations import settings
from orchestration.foundations import audit
from orchestration.platform.asset_keys import delivery_asset_key
from orchestration.compliance import register
from orchestration.compliance.jobs import COMPLIANCE_GROUP
from orchestration.protocols import load_registry

AUDIT_LOG_KEY = dg.AssetKey(["compliance", "audit_log"])
REGISTER_KEY = dg.AssetKey(["compliance", "processing_register"])
CHAIN_CHECK = "audit_chain_intact"


def _previous_head(context: dg.AssetExecutionContext) -> tuple[int | None, str | None]:
    event = context.instance.get_latest_materialization_event(AUDIT_LOG_KEY)
    if event is None or event.asset_materialization is None:
        return None, None
    md = event.asset_materialization.metadata
    count = md.get("entry_count")
    head = md.get("head_hash")
    return (count.value if count is not None else None, head.value if head is not None else None)


def shrink_problem(previous_count: int | None, previous_head: str | None,
                   entries: list[audit.Entry]) -> str | None:
    """Why the log no longer holds the head seen last time (entries cut off at the end)."""
    if not previous_count:
        return None
    if len(entries) < previous_count:
        return (f"the log holds {len(entries)} verified entries, fewer than the {previous_count} "
                "it held at the previous check: entries were removed from its end")
    if previous_head and entries[previous_count - 1].hash != previous_head:
        return f"entry {previous_count} is no longer the head recorded at the previous check"
    return None


@dg.asset(key=AUDIT_LOG_KEY, group_name=COMPLIANCE_GROUP, kinds={"file"},
          check_specs=[dg.AssetCheckSpec(CHAIN_CHECK, asset=AUDIT_LOG_KEY, blocking=True,
                                         description="The hash chain of the audit log holds and "
                                                     "nothing was cut off its end.")],
          description="Append-only, hash-chained audit trail (data/audit/audit_log.jsonl): "
                      "ingestions, runs, deliveries, vault uses, forced actions, erasures. "
                      "Counts and file hashes only, never personal values.")
def audit_log(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    path = audit.log_path(settings.paths())
    chain = audit.verify(path)
    trusted = audit.trusted_entries(path, chain)
    problem = None if chain.ok else str(chain)
    if problem is None:
        problem = shrink_problem(*_previous_head(context), trusted)
    last = trusted[-1] if trusted else None
    counts: dict[str, int] = {}
    for e in trusted:
        counts[e.event] = counts.get(e.event, 0) + 1
    metadata = {
        "entry_count": dg.MetadataValue.int(chain.entries if chain.ok else len(trusted)),
        "chain_verified": dg.MetadataValue.bool(problem is None),
        "first_broken_entry": dg.MetadataValue.int(chain.first_broken or 0),
        "last_entry": dg.MetadataValue.text(
            f"#{last.seq} {last.event} at {last.at}" if last else "no entries yet"),
        "head_hash": dg.MetadataValue.text(last.hash if last else ""),
        "entries_by_event": dg.MetadataValue.json(counts),
        "path": dg.MetadataValue.path(str(path)),
    }
    if problem:
        context.log.error(f"audit log: {problem}")
    return dg.MaterializeResult(metadata=metadata, check_results=[dg.AssetCheckResult(
        check_name=CHAIN_CHECK, passed=problem is None,
        description=problem or str(chain),
        metadata={"first_broken_entry": dg.MetadataValue.int(chain.first_broken or 0)})])


# The register lists the deliveries of the audit trail, so in a run that delivers it comes after
# every delivery asset (and after the audit log's chain check).
REGISTER_DEPS = [AUDIT_LOG_KEY, *(delivery_asset_key(pid) for pid in load_registry().ids)]


@dg.asset(key=REGISTER_KEY, group_name=COMPLIANCE_GROUP, deps=REGISTER_DEPS, kinds={"markdown"},
          description="The processing register (GDPR art. 30) generated from the protocol "
                      "registry and the deliveries in the audit trail: "
                      "data/outbox/register/processing_register.md. Written after the "
                      "deliveries of the run.")
def processing_register(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    from orchestration.compliance import termination

    registry = load_registry()
    today = dt.date.today()
    terminated = termination.record_terminations(settings.paths(), registry)
    path, deliveries = register.write(settings.paths(), registry, today)
    valid = [pid for pid in registry.ids if registry.protocol(pid).is_valid_on(today)]
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(path)),
        "protocols": dg.MetadataValue.int(len(registry.ids)),
        "valid_today": dg.MetadataValue.text(", ".join(valid)),
        "expired_or_not_yet_valid": dg.MetadataValue.text(
            ", ".join(pid for pid in registry.ids if pid not in valid) or "none"),
        "deliveries_recorded": dg.MetadataValue.int(deliveries),
        "generated_on": dg.MetadataValue.text(today.isoformat()),
        "terminations_recorded": dg.MetadataValue.text(", ".join(terminated) or "none"),
    })


compliance_assets = [audit_log, processing_register]
