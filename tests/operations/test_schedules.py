"""Delivery schedules generated from the registry: the right run request on the exchange day,
none on other days, and a skip that names the validity end for an expired protocol."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
import yaml

from orchestration.foundations import calendar as cal
from orchestration.foundations import school_year as sy
from orchestration.deliveries import exchanges
from orchestration.deliveries.definitions import delivery_jobs, delivery_schedules
from orchestration.deliveries.jobs import build_delivery_jobs
from orchestration.deliveries.schedules import build_delivery_schedules
from orchestration.protocols import DEFINITIONS_DIR, dates, load_registry, load_registry_from

pytestmark = pytest.mark.usefixtures("test_master_key")
BRUSSELS = ZoneInfo("Europe/Brussels")
REGISTRY = load_registry()


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=7, tzinfo=BRUSSELS)


def tick(schedule: dg.ScheduleDefinition, day: str, **context):
    data = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=at(day),
                                                            **context))
    return data.run_requests or [], data.skip_message


# ------------------------------------------------------------------------------------ pure rules

def test_zorgthuis_exchange_days_lie_in_the_registry_windows_every_school_year():
    zorgthuis = REGISTRY.protocol("zorgthuis")
    for year in range(2015, 2027):
        key = sy.key(year)
        ours = {(e.counting_date_name, e.list_kind): (e.counting_date, e.last_day)
                for e in exchanges.exchanges_in(zorgthuis, key)}
        theirs = {(e.counting_date_name, e.list_kind): (e.counting_date, e.window_end)
                  for e in dates.exchange_windows(zorgthuis, key)}
        assert ours == theirs, key
        for e, window in zip(exchanges.exchanges_in(zorgthuis, key),
                             sorted(dates.exchange_windows(zorgthuis, key),
                                    key=lambda w: (w.window_start, w.counting_date, w.list_kind)),
                             strict=True):
            assert cal.is_school_day(e.exchange_day)
            assert window.window_start <= e.exchange_day <= window.window_end


def test_the_duo_exchange_is_the_day_after_each_reference_date():
    duo = REGISTRY.protocol("duo_leerplicht")
    got = {e.counting_date: e.exchange_day for e in exchanges.exchanges_in(duo, "2024-25")}
    references = cal.duo_reference_dates("2024-25").values()
    assert got == {d: cal.duo_exchange_after(d) for d in references}


def test_every_exchange_and_catch_up_day_falls_on_a_cron_tick():
    for pid, schedule in delivery_schedules.items():
        crons = schedule.cron_schedule
        ticks = set()
        for cron in ([crons] if isinstance(crons, str) else crons):
            _, _, days, month, _ = cron.split()
            for part in days.split(","):
                lo, _, hi = part.partition("-")
                ticks.update((int(month), d) for d in range(int(lo), int(hi or lo) + 1))
        for year in range(2016, 2030):
            for e in exchanges.exchanges_in(REGISTRY.protocol(pid), sy.key(year)):
                assert (e.exchange_day.month, e.exchange_day.day) in ticks, (pid, e)
                assert (e.last_day.month, e.last_day.day) in ticks, (pid, e)


def test_only_periodic_and_yearly_protocols_have_a_schedule_and_every_protocol_has_a_job():
    assert sorted(delivery_schedules) == ["antwerpen_okan", "duo_leerplicht", "vtc_2015_34",
                                          "zorgthuis"]
    assert sorted(delivery_jobs) == REGISTRY.ids
    assert "naft_evaluation" not in delivery_schedules  # once: a job, no schedule
    assert exchanges.decide(REGISTRY.protocol("naft_evaluation"), dt.date(2026, 6, 1)).reason \
        .startswith("naft_evaluation is once")


# ------------------------------------------------------------------------------------ zorgthuis

def test_zorgthuis_requests_the_provisional_october_list_on_the_first_school_day_of_the_window():
    requests, _ = tick(delivery_schedules["zorgthuis"], "2024-10-16")
    assert [r.run_key for r in requests] == \
        ["zorgthuis/2024-10-01/first_school_day_of_october/provisional"]
    assert requests[0].tags["list_kind"] == "provisional"
    assert requests[0].tags["school_year"] == "2024-25"


def test_zorgthuis_skips_the_day_before_the_window_and_names_the_next_exchange():
    requests, skip = tick(delivery_schedules["zorgthuis"], "2024-10-15")
    assert requests == []
    assert "next: first_school_day_of_october 2024-10-01 (provisional) on 2024-10-16" in skip


def test_a_later_tick_in_the_window_repeats_the_same_run_key_so_the_exchange_fires_once():
    first, _ = tick(delivery_schedules["zorgthuis"], "2024-10-16")
    later, _ = tick(delivery_schedules["zorgthuis"], "2024-10-29")
    assert [r.run_key for r in later] == [r.run_key for r in first]


def test_zorgthuis_definitive_lists_come_in_the_second_half_of_november_and_may():
    nov, _ = tick(delivery_schedules["zorgthuis"], "2024-11-18")  # 16 and 17 Nov: weekend
    may, _ = tick(delivery_schedules["zorgthuis"], "2025-05-16")
    assert [r.run_key for r in nov] == \
        ["zorgthuis/2024-10-01/first_school_day_of_october/definitive"]
    assert [r.run_key for r in may] == \
        ["zorgthuis/2025-02-03/first_school_day_of_february/definitive"]
    assert tick(delivery_schedules["zorgthuis"], "2024-11-16")[0] == []


def test_zorgthuis_delivers_the_january_and_may_dates_together_in_the_second_half_of_september():
    requests, _ = tick(delivery_schedules["zorgthuis"], "2025-09-16")
    assert sorted(r.run_key for r in requests) == [
        "zorgthuis/2025-01-15/january_15/single", "zorgthuis/2025-05-15/may_15/single"]


# ------------------------------------------------------------------------------------ DUO

@pytest.mark.parametrize("day, run_key", [
    ("2024-10-16", "duo_leerplicht/2024-10-15/duo_october_15/state"),
    ("2024-12-16", "duo_leerplicht/2024-12-15/duo_december_15/state"),
    ("2025-02-16", "duo_leerplicht/2025-02-15/duo_february_15/state"),
])
def test_duo_requests_a_delivery_the_day_after_each_reference_date(day, run_key):
    requests, _ = tick(delivery_schedules["duo_leerplicht"], day)
    assert [r.run_key for r in requests] == [run_key]


def test_duo_does_not_deliver_on_the_reference_date_itself():
    requests, skip = tick(delivery_schedules["duo_leerplicht"], "2024-10-15")
    assert requests == [] and "on 2024-10-16" in skip


# ------------------------------------------------------------------------------------ okan

def test_antwerpen_okan_delivers_while_it_is_valid():
    requests, _ = tick(delivery_schedules["antwerpen_okan"], "2024-10-02")
    assert [r.run_key for r in requests] == ["antwerpen_okan/2024-10-01/october_1/state"]


def test_antwerpen_okan_after_its_end_skips_naming_the_validity_end():
    requests, skip = tick(delivery_schedules["antwerpen_okan"], "2025-10-02")
    assert requests == []
    assert "expired" in skip and "2025-08-31" in skip


def test_a_renewal_in_the_registry_lets_the_expired_protocol_deliver_again(tmp_path: Path):
    for f in DEFINITIONS_DIR.glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    okan_file = tmp_path / "antwerpen_okan.yaml"
    okan = yaml.safe_load(okan_file.read_text(encoding="utf-8"))
    okan["validity"]["renewals"] = [{"valid_until": "2027-08-31", "reference": "test renewal"}]
    okan_file.write_text(yaml.safe_dump(okan, allow_unicode=True), encoding="utf-8")
    renewed = load_registry_from(tmp_path)
    schedules = build_delivery_schedules(renewed, build_delivery_jobs(renewed))
    requests, _ = tick(schedules["antwerpen_okan"], "2025-10-02")
    assert [r.run_key for r in requests] == ["antwerpen_okan/2025-10-01/october_1/state"]


# ------------------------------------------------------------------------------------ vtc_2015_34

def test_vtc_2015_34_delivers_once_a_year_after_the_official_pupil_count_day():
    count_day = cal.first_school_day_of_month(2025, 2)  # 3 February 2025
    requests, _ = tick(delivery_schedules["vtc_2015_34"], (count_day + dt.timedelta(days=1))
                       .isoformat())
    assert [r.run_key for r in requests] == \
        ["vtc_2015_34/2025-02-03/first_school_day_of_february/state"]
    assert tick(delivery_schedules["vtc_2015_34"], count_day.isoformat())[0] == []


# ------------------------------------------------------------------------------------ Dagster

def definitions(extra_assets=()) -> dg.Definitions:
    """Every slice but the dbt models: the delivery groups have no asset yet."""
    from orchestration.compliance.definitions import defs as compliance
    from orchestration.ingestion.definitions import defs as ingestion
    from orchestration.retention.definitions import defs as retention
    return dg.Definitions.merge(ingestion, retention, compliance, dg.Definitions(
        assets=list(extra_assets), jobs=list(delivery_jobs.values()),
        schedules=list(delivery_schedules.values())))


def test_the_definitions_validate_while_the_delivery_groups_are_still_empty():
    defs = definitions()
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("deliver_zorgthuis").asset_layer.executable_asset_keys == set()


def test_a_due_exchange_is_skipped_while_its_delivery_job_has_no_assets_yet():
    repo = definitions().get_repository_def()
    requests, skip = tick(delivery_schedules["zorgthuis"], "2024-10-16", repository_def=repo)
    assert requests == [] and "group delivery_zorgthuis is empty" in skip


def test_the_delivery_job_takes_the_group_and_its_upstream_but_not_ingestion():
    @dg.asset(key=["marts", "pupil_list"], group_name="marts",
              deps=[dg.AssetKey(["raw", "zorgthuis_lists"])])
    def pupil_list():
        return None

    @dg.asset(key=["deliveries", "verification_list"], group_name="delivery_zorgthuis",
              deps=[pupil_list])
    def verification_list():
        return None

    defs = definitions([pupil_list, verification_list])
    keys = defs.resolve_job_def("deliver_zorgthuis").asset_layer.executable_asset_keys
    assert keys == {dg.AssetKey(["marts", "pupil_list"]),
                    dg.AssetKey(["deliveries", "verification_list"])}
    requests, _ = tick(delivery_schedules["zorgthuis"], "2024-10-16",
                       repository_def=defs.get_repository_def())
    assert len(requests) == 1


def test_schedule_names_follow_the_protocol_ids():
    assert all(re.fullmatch(r"deliver_[a-z0-9_]+_schedule", s.name)
               for s in delivery_schedules.values())
    assert {s.job_name for s in delivery_schedules.values()} == \
        {f"deliver_{pid}" for pid in delivery_schedules}


def test_a_delivery_run_covers_every_school_year_so_it_is_a_full_build():
    from orchestration.deliveries.jobs import DELIVERY_JOB_PARTITIONS

    [request], _ = tick(delivery_schedules["duo_leerplicht"], "2024-10-16")
    assert DELIVERY_JOB_PARTITIONS is not None and request.partition_key is None
    assert request.tags["dagster/asset_partition_range_start"] == sy.ALL[0]
    assert request.tags["dagster/asset_partition_range_end"] == sy.ALL[-1]
    assert request.tags["school_year"] == "2024-25"  # the exchange's own year, for the audit


def test_retention_ships_stopped_and_every_other_schedule_and_sensor_running():
    """Starting the daemon (``make ui``) must never erase data: retention is switched on by
    hand; the rest acts on its own (inbox sensors skip files already ingested)."""
    from orchestration.definitions import defs

    statuses = {s.name: s.default_status for s in defs.schedules}
    assert statuses.pop("retention_daily") == dg.DefaultScheduleStatus.STOPPED
    assert statuses and set(statuses.values()) == {dg.DefaultScheduleStatus.RUNNING}
    sensors = {s.name: s.default_status for s in defs.sensors}
    assert sensors and set(sensors.values()) == {dg.DefaultSensorStatus.RUNNING}
