"""The linkage slice's Dagster objects: the DUO <-> Rijksregister linkage asset."""

import dagster as dg

from orchestration.linkage.assets import linkage_assets

defs = dg.Definitions(assets=linkage_assets)
