"""The code location loads as `dagster dev -w workspace.yaml` would load it: every job resolves,
and the steward finds a schedule per periodic protocol, a sensor per source inbox, the backfill
job and the compliance pages."""

import dagster as dg

from orchestration.foundations import school_year
from orchestration.protocols import load_registry
from orchestration.foundations.sources import SOURCES


def test_every_job_of_the_code_location_resolves():
    from orchestration.definitions import defs

    jobs = {j.name for j in defs.resolve_all_job_defs()}
    assert {"warehouse_job", "school_year_backfill_job", "deliver_zorgthuis",
            "ingest_discimus_job", "retention_job", "compliance_report_job"} <= jobs
    dg.Definitions.validate_loadable(defs)


def test_the_ui_shows_a_schedule_per_periodic_protocol_and_a_sensor_per_inbox():
    from orchestration.definitions import defs

    registry = load_registry()
    schedules = {s.name for s in defs.schedules}
    periodic = {pid for pid in registry.ids
                if registry.protocol(pid).periodicity.kind in ("periodic", "yearly")}
    assert {f"deliver_{pid}_schedule" for pid in periodic} | {"retention_daily",
                                                               "compliance_report_daily"} \
        == schedules
    assert "deliver_naft_evaluation_schedule" not in schedules  # once: a job only
    sensors = {s.name for s in defs.sensors}
    assert {f"inbox_{s}_sensor" for s in SOURCES} <= sensors


def test_the_warehouse_and_backfill_jobs_are_partitioned_by_school_year():
    from orchestration.definitions import defs

    for name in ("warehouse_job", "school_year_backfill_job", "deliver_zorgthuis"):
        job = defs.resolve_job_def(name)
        assert job.partitions_def.get_partition_keys() == list(school_year.ALL), name
    backfill = defs.resolve_job_def("school_year_backfill_job").asset_layer.executable_asset_keys
    assert dg.AssetKey(["marts", "pupil_year"]) in backfill
    assert dg.AssetKey(["raw", "discimus_enrolments"]) in backfill
    assert not any(k.path[0] in ("delivery", "deliveries") for k in backfill)
    assert dg.AssetKey(["marts", "okan_career"]) not in backfill  # spans years: plain
