"""One ingestion job per source, started by the source's inbox sensor (one run per new file)."""

from typing import TYPE_CHECKING

import dagster as dg

from orchestration.foundations.sources import SOURCES, file_types_of
from orchestration.platform.asset_keys import raw_asset_key
from orchestration.platform.partitions import school_year_partitions

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )


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
