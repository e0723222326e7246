"""The quality slice's Dagster objects: article-7 findings and reports, and their checks."""

import dagster as dg

from orchestration.quality.checks import quality_assets, quality_checks

defs = dg.Definitions(assets=quality_assets, asset_checks=quality_checks)
