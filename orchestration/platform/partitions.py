"""Partitions shared by sources and marts: the school year.

The raw tables (one ingestion run per file, for the file's school year), staging and the models
whose grain includes the school year are partitioned by it; what spans school years is not.
A reference date (zorgthuis counting date, DUO reference date, Rijksregister extract) always
falls in one school year, so its file lands in that school year's partition.
"""

import dagster as dg

from orchestration.foundations import school_year

school_year_partitions = dg.StaticPartitionsDefinition(list(school_year.ALL))

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def school_years_tags(first: str = school_year.ALL[0],
                      last: str = school_year.ALL[-1]) -> dict[str, str]:
    """Run tags for one run over the school years first..last (default: all, a full build)."""
    return {RANGE_START_TAG: first, RANGE_END_TAG: last}
