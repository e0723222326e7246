"""Partitions shared by sources and marts: the school year."""

import dagster as dg

from orchestration import school_year

school_year_partitions = dg.StaticPartitionsDefinition(list(school_year.ALL))
