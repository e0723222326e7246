"""The benchmark's grouping of Dagster steps into stages: what each printed figure adds up."""

from tools.benchmark import project_stage_seconds, quality_step_seconds

STEPS = [("ingest_discimus", 150.0), ("ingest_rijksregister", 60.5),
         ("school_year_dbt_models", 140.0), ("plain_dbt_models", 55.0),
         ("article7_raw_quality", 40.2), ("article7_linkage_quality", 3.3),
         ("linkage__duo_links", 30.0), ("delivery__naft_evaluation", 90.0)]


def test_the_quality_step_is_the_two_article7_check_nodes_only():
    assert quality_step_seconds(STEPS) == 43.5
    assert quality_step_seconds([s for s in STEPS if not s[0].startswith("article7")]) == 0.0


def test_each_stage_adds_up_its_own_steps():
    stages = project_stage_seconds(STEPS)
    assert stages == {"ingestion": 210.5, "models": 195.0, "deliveries": 90.0}
