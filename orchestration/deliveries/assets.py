"""Dagster: one delivery asset per protocol, and the blocking column checks on its models.

The graph reads ``marts -> deliveries/<protocol>__<file>`` (dbt models, group
``delivery_<protocol>``) ``-> delivery/<protocol>`` (this writer asset, same group). Each dbt
delivery model carries a **blocking** ERROR check, ``columns_match_registry``, comparing its table
in the warehouse with the registry (``spec.column_differences``); a failure holds the writer
asset back, so a delivery with a column too many, too few or retyped never leaves.

The writer asset's metadata shows the protocol's text reference, recipient, validity and a
schema preview (column names and types, never values); each materialisation adds the outcome
(delivered, refused, unchanged, no pending request), the folder, the rows per file and the
disclosure control applied. A refused protocol (e.g. antwerpen_okan after its term) does not fail
the run: nothing is written, the refusal is an audit event, a warning in the run's log, the
materialisation's ``status``/``refusal`` metadata and a failed WARN check ``delivery_allowed`` on
the asset, so the steward sees it on the asset page and in the run.

Forcing: a once-only protocol refuses a second delivery unless the run gives a reason. Every
delivery asset takes run config (shown in the launchpad of ``deliver_<protocol_id>`` and of
``warehouse_job``)::

    ops:
      delivery__naft_evaluation:
        config:
          force_reason: "IDEA Consult lost the files (ticket 123)"

The reason is logged in ``deliveries_log.deliveries`` and as a ``forced_action`` audit event; it
never overrides the validity period.
"""

import datetime as dt

import dagster as dg
from pydantic import Field

from orchestration.deliveries import writer
from orchestration.deliveries.publication import microdata_model
from orchestration.deliveries.pseudonyms import scheme_of
from orchestration.deliveries.spec import (column_differences, delivery_models,
                                           model_columns_in_warehouse, model_name)
from orchestration.platform.asset_keys import delivery_asset_key
from orchestration.protocols import load_registry
from orchestration.protocols.registry import Protocol, Registry
from orchestration.foundations.warehouse import POOL, connect

CHECK_NAME = "columns_match_registry"
REFUSAL_CHECK = "delivery_allowed"


class DeliveryConfig(dg.Config):
    """Run config of a delivery asset (the launchpad shows it with this description)."""

    force_reason: str = Field(
        default="",
        description=(
            "Why a refused second delivery of a once-only protocol (or a re-send of files "
            "identical to the last delivery) must go out anyway, e.g. 'recipient lost the files, "
            "ticket 123'. Logged verbatim in the delivery log and the audit trail: no personal "
            "values. Leave empty for a normal delivery; it never overrides the validity period."),
    )


def model_asset_key(protocol_id: str, file_id: str) -> dg.AssetKey:
    """The dagster-dbt key of a delivery model (schema ``deliveries`` + model name)."""
    return dg.AssetKey(["deliveries", model_name(protocol_id, file_id)])


def group_name(protocol_id: str) -> str:
    return f"delivery_{protocol_id}"


def schema_preview(protocol: Protocol) -> str:
    """Markdown: every delivered file with its columns and types (no values)."""
    lines = []
    for f in protocol.delivery_files:
        columns = ", ".join(f"`{v.name}` {v.type}" for v in f.variables)
        lines.append(f"- **{f.id}** ({f.kind}, {f.period.one_file_per}): {columns}")
    return "\n".join(lines)


def _static_metadata(protocol: Protocol) -> dict[str, dg.MetadataValue]:
    scheme = scheme_of(protocol)
    until = protocol.validity.end_label()
    return {
        "protocol_id": dg.MetadataValue.text(protocol.id),
        "text_reference": dg.MetadataValue.text(f"shared/{protocol.text_reference.file}"),
        "recipient": dg.MetadataValue.text(protocol.parties.recipient.name),
        "validity": dg.MetadataValue.text(
            f"{protocol.validity.valid_from.isoformat()} to {until}"
            f" ({len(protocol.validity.renewals)} renewal(s))"),
        "end_of_term_confirmed": dg.MetadataValue.bool(protocol.validity.end_is_confirmed),
        "periodicity": dg.MetadataValue.text(
            protocol.periodicity.kind + (" (once only)" if protocol.periodicity.once_only
                                         else "")),
        "pseudonym_scheme": dg.MetadataValue.text(protocol.pseudonym.scheme),
        "key_version": dg.MetadataValue.int(scheme.key_version) if scheme else
        dg.MetadataValue.text("none (no keyed pseudonym)"),
        "schema_preview": dg.MetadataValue.md(schema_preview(protocol)),
    }


def outcome_metadata(outcomes: list[writer.Outcome]) -> dict[str, dg.MetadataValue]:
    """Materialisation metadata: statuses, folders, rows per file; never a row value."""
    md: dict[str, dg.MetadataValue] = {
        "status": dg.MetadataValue.text(", ".join(sorted({o.status for o in outcomes}))),
        "message": dg.MetadataValue.text(" | ".join(o.message for o in outcomes)),
        "deliveries_written": dg.MetadataValue.int(sum(o.delivered for o in outcomes)),
    }
    refused = [o.message for o in outcomes if o.status == "refused"]
    if refused:
        md["refusal"] = dg.MetadataValue.md("\n".join(f"- **REFUSED** {m}" for m in refused))
    notes = [n for o in outcomes for n in o.notes]
    if notes:
        md["notes"] = dg.MetadataValue.text(" | ".join(notes))
    delivered = [o for o in outcomes if o.delivered]
    if delivered:
        rows = ["| delivery | file | rows |", "|---|---|---|"]
        rows += [f"| {o.delivery_id} | {part.name} | {part.rows} |"
                 for o in delivered for part in o.parts]
        md["rows_per_file"] = dg.MetadataValue.md("\n".join(rows))
        md["rows_total"] = dg.MetadataValue.int(sum(p.rows for o in delivered for p in o.parts))
        md["files"] = dg.MetadataValue.int(sum(len(o.parts) for o in delivered))
        md["delivered_pupils"] = dg.MetadataValue.int(sum(o.delivered_pupils for o in delivered))
        last = delivered[-1]
        md["delivery_id"] = dg.MetadataValue.text(last.delivery_id or "")
        forced = [o for o in delivered if o.forced_reason]
        if forced:
            md["forced_reason"] = dg.MetadataValue.text(" | ".join(o.forced_reason or ""
                                                                  for o in forced))
            md["forced_action"] = dg.MetadataValue.text(" | ".join(o.forced_action or ""
                                                                  for o in forced))
        md["folder"] = dg.MetadataValue.path(str(last.folder))
        vault = sorted({c for o in delivered for c in o.vault_columns})
        if vault:
            md["filled_at_delivery_time"] = dg.MetadataValue.text(", ".join(vault))
        disclosure = {k: v for o in delivered for k, v in o.disclosure.items()}
        if disclosure:
            md["disclosure_control"] = dg.MetadataValue.json(disclosure)
    return md


def dependencies(protocol: Protocol) -> list[dg.AssetKey]:
    """The dbt models the writer reads: every delivery model and each microdata model."""
    deps = [model_asset_key(protocol.id, f.id) for f in protocol.delivery_files]
    deps += [dg.AssetKey(["deliveries", microdata_model(protocol.id, f.id)])
             for f in protocol.delivery_files
             if f.publication is not None and f.publication.microdata is not None]
    return deps


def refusal_check_result(protocol: Protocol, outcomes: list[writer.Outcome]
                         ) -> dg.AssetCheckResult:
    """WARN check: fails when the protocol refused to deliver, stating the reason and the remedy
    (never a value), in the description and as metadata the UI shows beside the check."""
    refused = [o for o in outcomes if o.status == "refused"]
    reasons = [o.refusal.reason if o.refusal else o.message for o in refused]
    remedies = list(dict.fromkeys(o.refusal.remedy for o in refused if o.refusal))
    metadata: dict[str, dg.MetadataValue] = {"refusals": dg.MetadataValue.int(len(refused))}
    if refused:
        metadata["reason"] = dg.MetadataValue.text(" | ".join(reasons))
        metadata["remedy"] = dg.MetadataValue.text(" | ".join(remedies))
    description = ("allowed: " + ", ".join(sorted({o.status for o in outcomes})) if not refused
                   else "REFUSED: " + " | ".join(reasons)
                   + (". Remedy: " + " | ".join(remedies) if remedies else ""))
    return dg.AssetCheckResult(
        asset_key=delivery_asset_key(protocol.id), check_name=REFUSAL_CHECK,
        passed=not refused, severity=dg.AssetCheckSeverity.WARN,
        description=description, metadata=metadata)


def build_delivery_asset(protocol: Protocol, *, registry: Registry | None = None,
                         today: dt.date | None = None) -> dg.AssetsDefinition:
    """The writer asset of one protocol. ``registry`` and ``today`` are for tests (a registry
    copy with a renewal, a date inside a validity period); run config cannot set them, so no run
    can move a protocol into its validity period."""
    deps = dependencies(protocol)
    key = delivery_asset_key(protocol.id)

    @dg.asset(
        key=key,
        group_name=group_name(protocol.id),
        deps=deps,
        pool=POOL,
        kinds={"csv", "parquet"},
        description=(f"Delivery of protocol {protocol.id} to {protocol.parties.recipient.name}: "
                     f"every file as Parquet and CSV with a datapackage.json in "
                     f"data/outbox/{protocol.id}/<delivery_id>/. Refuses outside the validity "
                     "period and a second delivery of a once-only protocol (run config "
                     "force_reason forces the latter, logged)."),
        metadata=_static_metadata(protocol),
        check_specs=[dg.AssetCheckSpec(
            REFUSAL_CHECK, asset=key,
            description=(f"Warns when {protocol.id} refused to deliver (outside its validity "
                         "period, or a second delivery of a once-only protocol without a force "
                         "reason); the description says why and how to proceed."))],
    )
    def _delivery(context: dg.AssetExecutionContext,
                  config: DeliveryConfig) -> dg.MaterializeResult:
        outcomes = writer.deliver_protocol(protocol.id, registry=registry, today=today,
                                           force_reason=config.force_reason or None)
        for outcome in outcomes:
            if outcome.status == "refused":
                context.log.warning(f"{protocol.id} REFUSED: {outcome.message}")
            else:
                context.log.info(f"{protocol.id}: {outcome.message}")
            if outcome.forced_reason:
                context.log.warning(f"{protocol.id}: FORCED {outcome.forced_action}; reason "
                                    "logged in the audit trail")
            for note in outcome.notes:
                context.log.warning(f"{protocol.id}: {note}")
        return dg.MaterializeResult(metadata=outcome_metadata(outcomes),
                                    check_results=[refusal_check_result(protocol, outcomes)])

    return _delivery


def build_column_checks(protocol_ids: list[str] | None = None) -> dg.AssetChecksDefinition:
    """One multi-check step for every delivery model (of ``protocol_ids``, or all)."""
    registry = load_registry()
    models = [m for m in delivery_models(registry)
              if protocol_ids is None or m.protocol.id in protocol_ids]
    specs = [dg.AssetCheckSpec(
        CHECK_NAME, asset=model_asset_key(m.protocol.id, m.delivery.id), blocking=True,
        description=(f"The columns and types of deliveries.{m.name} are exactly what the "
                     f"registry allows for {m.protocol.id}/{m.delivery.id} (plus internal link "
                     "columns the writer drops); a difference stops the delivery."))
        for m in models]

    suffix = "" if protocol_ids is None else "_" + "_".join(sorted(protocol_ids))

    @dg.multi_asset_check(specs=specs, pool=POOL, can_subset=True,
                          name=f"delivery_columns_match_registry{suffix}")
    def _checks(context: dg.AssetCheckExecutionContext):
        selected = context.selected_asset_check_keys
        with connect() as con:
            for m in models:
                key = dg.AssetCheckKey(model_asset_key(m.protocol.id, m.delivery.id), CHECK_NAME)
                if key not in selected:
                    continue
                columns = model_columns_in_warehouse(con, m.name)
                problems = (column_differences(m.protocol, m.delivery, columns) if columns
                            else [f"table deliveries.{m.name} does not exist"])
                yield dg.AssetCheckResult(
                    asset_key=key.asset_key, check_name=CHECK_NAME, passed=not problems,
                    severity=dg.AssetCheckSeverity.ERROR,
                    description=("columns match the registry" if not problems else
                                 "; ".join(problems)),
                    metadata={"columns": dg.MetadataValue.int(len(columns)),
                              "problems": dg.MetadataValue.int(len(problems))})

    return _checks


def build_assets() -> list[dg.AssetsDefinition]:
    registry = load_registry()
    return [build_delivery_asset(registry.protocol(pid)) for pid in registry.ids]


delivery_assets = build_assets()
delivery_column_checks = build_column_checks()
