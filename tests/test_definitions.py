"""The code location loads as `dagster dev -w workspace.yaml` would load it: every job resolves."""


def test_every_job_of_the_code_location_resolves():
    from orchestration.definitions import defs

    jobs = {j.name for j in defs.resolve_all_job_defs()}
    assert {"warehouse_job", "deliver_zorgthuis", "ingest_discimus_job", "retention_job"} <= jobs
