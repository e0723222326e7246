"""Jobs: the main job builds everything from the inbox to the deliveries."""

import dagster as dg

from orchestration.partitions import school_year_partitions

warehouse_job = dg.define_asset_job(
    "warehouse_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("inbox"),
    partitions_def=school_year_partitions,
    description="Ingest every source's new files, then build staging, marts and deliveries.",
)
