"""Dagster assets of governed ingestion: one multi-asset per source, one asset per file type.

The graph reads ``inbox/<source>`` (the landing folder, an external asset) -> ``raw/<file_type>``
(these assets) -> ``staging`` (dbt). Descriptions and column tables come from the source
contract (orchestration/foundations/sources.py). Each run loads the new files of the requested
school years; metadata shows, per file type, received = loaded + quarantined and the files taken.
"""


from collections import defaultdict

import dagster as dg

from orchestration.foundations import settings
from orchestration.foundations.sources import BY_SOURCE, SOURCES, file_types_of
from orchestration.foundations.warehouse import POOL, connect
from orchestration.ingestion.inbox import ingest_source
from orchestration.ingestion.load import FileResult
from orchestration.platform.asset_keys import inbox_asset_key, raw_asset_key
from orchestration.platform.partitions import school_year_partitions

inbox_specs = [
    dg.AssetSpec(inbox_asset_key(s), group_name="inbox",
                 description=f"Landing folder data/inbox/{s}/ — {BY_SOURCE[s].description}",
                 kinds={"file"})
    for s in SOURCES
]


def _metadata(results: list[FileResult]) -> dict[str, dg.MetadataValue]:
    """Counts and file names only: never a row value."""
    taken = [r for r in results if r.status != "duplicate"]
    received = sum(r.received for r in taken)
    loaded = sum(r.loaded for r in taken)
    quarantined = sum(r.quarantined for r in taken)
    rules: dict[str, int] = defaultdict(int)
    for r in taken:
        for rule, n in r.rule_counts.items():
            rules[rule] += n
    table = "| file | status | received | loaded | quarantined |\n|---|---|---|---|---|\n" + "".join(
        f"| {r.file_name} | {r.status} | {r.received} | {r.loaded} | {r.quarantined} |\n"
        for r in results) if results else "no files"
    return {
        "files_new": dg.MetadataValue.int(len(taken)),
        "files_duplicate": dg.MetadataValue.int(len(results) - len(taken)),
        "files_rejected": dg.MetadataValue.int(sum(r.status == "rejected" for r in taken)),
        "files_held": dg.MetadataValue.int(sum(r.status == "held" for r in taken)),
        "rows_received": dg.MetadataValue.int(received),
        "rows_loaded": dg.MetadataValue.int(loaded),
        "rows_quarantined": dg.MetadataValue.int(quarantined),
        "received_equals_loaded_plus_quarantined": dg.MetadataValue.bool(
            received == loaded + quarantined),
        "quarantine_rules": dg.MetadataValue.json(dict(rules)),
        "files": dg.MetadataValue.md(table),
    }


def build_source_assets(source: str) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(raw_asset_key(ft.file_type), deps=[inbox_asset_key(source)],
                     group_name="raw", description=ft.description, kinds={"duckdb"},
                     metadata={"source_owner": ft.owner, "file_name_pattern": ft.pattern,
                               "columns": dg.MetadataValue.md(
                                   "| header | type | required |\n|---|---|---|\n" + "".join(
                                       f"| {c.header} | {c.type}"
                                       f"{' (vault)' if c.sensitivity != 'plain' else ''}"
                                       f" | {c.required} |\n" for c in ft.columns))})
        for ft in file_types_of(source)
    ]

    @dg.multi_asset(
        name=f"ingest_{source}",
        specs=specs,
        partitions_def=school_year_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        can_subset=False,
        description=f"Load new files from data/inbox/{source}/ into raw tables, the vault and "
                    f"quarantine. {BY_SOURCE[source].description}.",
    )
    def _ingest(context: dg.AssetExecutionContext):
        p = settings.paths()
        years = set(context.partition_keys) if context.has_partition_key_range or \
            context.has_partition_key else None
        # audit trail: one entry per file loaded or rejected, written as each file commits
        with connect(p, vault=True) as con:
            results = ingest_source(con, p, source, years, run_id=context.run_id)
        for r in results:
            if r.status in ("rejected", "held"):
                context.log.error(r.message)
            elif r.status == "duplicate" and r.new_copy:
                context.log.warning(r.message)
            elif r.quarantined:
                context.log.warning(f"{r.file_name}: {r.quarantined} of {r.received} rows "
                                    f"quarantined; e.g. {r.message}")
        by_type: dict[str, list[FileResult]] = defaultdict(list)
        for r in results:
            by_type[r.file_type].append(r)
        for ft in file_types_of(source):
            yield dg.MaterializeResult(asset_key=raw_asset_key(ft.file_type),
                                       metadata=_metadata(by_type.get(ft.file_type, [])))
        unknown = by_type.get("unknown", [])
        if unknown:
            context.log.error(f"{len(unknown)} unknown file(s) in data/inbox/{source}/: "
                              + "; ".join(r.message for r in unknown))

    return _ingest


source_assets = [build_source_assets(s) for s in SOURCES]
