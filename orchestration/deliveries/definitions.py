"""The deliveries slice's Dagster objects, generated from the protocol registry: one writer asset
and one job per protocol, a schedule per periodic protocol, the whitelist checks."""

import dagster as dg

from orchestration.deliveries.assets import delivery_assets, delivery_column_checks
from orchestration.deliveries.jobs import build_delivery_jobs
from orchestration.deliveries.schedules import build_delivery_schedules
from orchestration.platform.automation import DEFAULT_SCHEDULE_STATUS
from orchestration.protocols import load_registry

_registry = load_registry()
delivery_jobs = build_delivery_jobs(_registry)
delivery_schedules = build_delivery_schedules(_registry, delivery_jobs, DEFAULT_SCHEDULE_STATUS)

defs = dg.Definitions(
    assets=delivery_assets,
    asset_checks=[delivery_column_checks],
    jobs=list(delivery_jobs.values()),
    schedules=list(delivery_schedules.values()),
)
