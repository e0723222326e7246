"""The main job on the synthetic sample: every source ingested, staged, nothing lost, no INSZ
outside the vault, and a second run changes nothing."""

from __future__ import annotations

from orchestration.foundations.sources import SOURCE_FILES
from orchestration.foundations.warehouse import connect
from tests.privacy import insz_in_files, insz_in_tables


def test_the_main_job_succeeds_twice(pipeline):
    assert pipeline.first.success
    assert pipeline.second.success


def test_every_source_file_type_has_a_filled_raw_and_staging_table(pipeline):
    for spec in SOURCE_FILES:
        assert pipeline.counts_after_first[f"raw.{spec.file_type}"] > 0, spec.file_type
        assert pipeline.counts_after_first[f"staging.stg_{spec.file_type}"] == \
            pipeline.counts_after_first[f"raw.{spec.file_type}"], spec.file_type


def test_every_sample_file_is_loaded_and_received_equals_loaded_plus_quarantined(pipeline):
    sample_files = sorted(f.name for f in pipeline.paths.sample.glob("*/*.csv")
                          if not f.parent.name.startswith("_"))
    files = pipeline.files_after_first
    assert sorted(f[0] for f in files) == sample_files
    for name, _sha, status, received, loaded, quarantined in files:
        assert status == "loaded", name
        assert received == loaded + quarantined, name
        assert received > 0, name


def test_the_clean_sample_quarantines_nothing(pipeline):
    assert pipeline.counts_after_first["ingest.quarantine"] == 0


def test_the_raw_row_count_equals_the_sample_lines(pipeline):
    for spec in SOURCE_FILES:
        lines = sum(len(f.read_bytes().splitlines()) - 1
                    for f in (pipeline.paths.sample / spec.source).glob("*.csv")
                    if spec.match(f.name))
        assert pipeline.counts_after_first[f"raw.{spec.file_type}"] == lines, spec.file_type


def test_a_second_run_changes_nothing(pipeline):
    assert pipeline.counts_after_second == pipeline.counts_after_first
    assert pipeline.files_after_second == pipeline.files_after_first


def test_no_table_outside_the_vault_holds_a_valid_insz(pipeline):
    with connect(pipeline.paths, read_only=True) as con:
        catalog = con.execute("select current_database()").fetchone()[0]
        assert insz_in_tables(con, catalog) == {}


def test_the_vault_does_hold_them_so_the_scan_can_see_insz(pipeline):
    with connect(pipeline.paths, vault=True, read_only=True) as con:
        assert "insz_register.insz" in "".join(
            f"{k.split('.', 1)[1]}" for k in insz_in_tables(con, "vault"))


def test_no_file_outside_the_restricted_zone_inbox_and_identified_deliveries_holds_an_insz(pipeline):
    from orchestration.deliveries.spec import identified_protocols
    from orchestration.protocols.registry import load_registry

    p = pipeline.paths
    identified = identified_protocols(load_registry())
    assert identified == {"zorgthuis", "duo_leerplicht", "vtc_2015_35", "vtc_2015_31"}
    skip = (p.restricted, p.inbox, *(p.outbox / pid for pid in identified))
    assert insz_in_files(p.data, skip=skip) == {}


def test_no_person_name_or_address_column_reaches_the_warehouse(pipeline):
    with connect(pipeline.paths, read_only=True) as con:
        for spec in SOURCE_FILES:
            personal = {c.name for c in spec.columns if c.sensitivity != "plain"}
            cols = {r[0] for r in con.execute(f"describe raw.{spec.file_type}").fetchall()}
            assert not personal & cols, spec.file_type
