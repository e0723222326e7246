"""Adding a protocol = its registry YAML + its dbt folder (+ its module if it needs one).

The fictitious protocol of ``tests/fixtures/protocols/demo_school_survey/`` is added to a copy of
the project, as ``orchestration/protocols/README.md`` ("How to add a protocol") says: its YAML
into the registry, its SQL into ``dbt_project/models/deliveries/demo_school_survey/``. In the
copy the dbt YAML is generated, the models are built on a copy of the sample warehouse (the
main job's, see conftest.py), and the protocol is delivered. The test then compares every file
of the copy with the project: nothing outside the protocol's own files changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.foundations import settings

pytestmark = [pytest.mark.integration, pytest.mark.slow(main_job_runs=1)]  # dbt build, delivery

PROJECT = Path(__file__).resolve().parents[2]
FIXTURE = PROJECT / "tests" / "fixtures" / "protocols" / "demo_school_survey"
PID = "demo_school_survey"
# what the code location is made of; tools, tests and data are not needed to add a protocol
PARTS = ("orchestration", "dbt_project", "expectations", "pyproject.toml", "workspace.yaml")
# build output, never part of the project's files
BUILD_OUTPUT = ("__pycache__", "target", "logs", "dbt_packages", ".user.yml")
OWN_FILES = (f"orchestration/protocols/definitions/{PID}.yaml",
             f"dbt_project/models/deliveries/{PID}/")


def _copy_project(target: Path) -> None:
    ignore = shutil.ignore_patterns(*BUILD_OUTPUT)
    for part in PARTS:
        source = PROJECT / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=ignore)
        else:
            shutil.copy2(source, target / part)


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()
            and not set(p.relative_to(root).parts) & set(BUILD_OUTPUT)}


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{args}: {done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def add_fixture_protocol(warehouse_data: Path, root: Path) -> dict:
    """Copy the project to ``root``, add the fixture protocol, build and deliver it on a copy of
    the warehouse in ``warehouse_data``; what happened, for the tests below."""
    _copy_project(root)
    before = _hashes(root)

    # the steps of "How to add a protocol": the YAML, the delivery models, generate, build
    shutil.copy2(FIXTURE / f"{PID}.yaml", root / "orchestration/protocols/definitions")
    models = root / "dbt_project/models/deliveries" / PID
    models.mkdir()
    for sql in sorted((FIXTURE / "dbt").glob("*.sql")):
        shutil.copy2(sql, models)

    data = root / "data"
    for folder in ("warehouse", "restricted", "audit"):  # the sample warehouse, as built
        shutil.copytree(warehouse_data / folder, data / folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROTOCOL_WAREHOUSE_")}
    env.update({"PYTHONPATH": str(root), settings.ENV_DATA_DIR: str(data),
                settings.ENV_MEMORY_LIMIT: "2GB", "DBT_PROFILES_DIR": str(root / "dbt_project"),
                "WAREHOUSE_PATH": str(data / "warehouse" / "warehouse.duckdb"),
                "DUCKDB_MEMORY_LIMIT": "2GB", "DO_NOT_TRACK": "1"})
    python = sys.executable
    generated = _run([python, "-m", "orchestration.deliveries.dbt_yaml"], root, env)
    _run([python, "-m", "orchestration.deliveries.dbt_yaml", "--check"], root, env)
    dbt = str(Path(python).parent / "dbt")
    _run([dbt, "build", "--select", f"path:models/deliveries/{PID}"], root / "dbt_project", env)
    delivered = _run([python, "-c", (
        "import datetime as dt, json\n"
        "from orchestration.deliveries import writer\n"
        f"(o,) = writer.deliver_protocol('{PID}', today=dt.date(2026, 1, 15))\n"
        "print(json.dumps({'status': o.status, 'folder': str(o.folder), "
        "'disclosure': o.disclosure, 'message': o.message}))")], root, env)
    dagster = _run([python, "-c", (
        "import json\n"
        "from orchestration.definitions import defs\n"
        "graph = defs.resolve_asset_graph()\n"
        "print(json.dumps({'jobs': [j.name for j in defs.resolve_all_job_defs()],\n"
        "  'assets': ['/'.join(k.path) for k in graph.get_all_asset_keys()],\n"
        "  'checks': ['/'.join(c.asset_key.path) + ':' + c.name\n"
        "             for c in graph.asset_check_keys]}))")], root, env)
    return {"root": root, "before": before, "after": _hashes(root), "generated": generated,
            "outcome": json.loads(delivered.strip().splitlines()[-1]),
            "dagster": json.loads(dagster.strip().splitlines()[-1]), "data": data}


@pytest.fixture(scope="module")
def added(pipeline, tmp_path_factory):
    """The copy with the fixture protocol added, built and delivered."""
    return add_fixture_protocol(pipeline.paths.data, tmp_path_factory.mktemp("project_copy"))


def test_adding_the_fixture_protocol_touches_only_its_own_files(added):
    before, after = added["before"], added["after"]
    changed = sorted({path for path in before.keys() | after.keys()
                      if before.get(path) != after.get(path)} - {"data"})
    changed = [path for path in changed if not path.startswith("data/")]
    assert changed, "the fixture protocol added nothing"
    outside = [path for path in changed if not path.startswith(OWN_FILES)]
    assert outside == []
    assert f"dbt_project/models/deliveries/{PID}/_{PID}.yml" in changed  # generated, own file


def test_the_fixture_protocol_is_delivered_as_its_registry_says(added):
    outcome = added["outcome"]
    assert outcome["status"] == "delivered", outcome["message"]
    folder = Path(outcome["folder"])
    assert folder.parent == added["data"] / "outbox" / PID
    names = sorted(p.name for p in folder.iterdir())
    # its data files, and the documents and synthetic twin every package carries
    assert names == sorted(["datapackage.json", "pupils_2023-24.csv", "pupils_2023-24.parquet",
                            "pupils_2024-25.csv", "pupils_2024-25.parquet", "school_counts.csv",
                            "school_counts.parquet", "README.md", "README.en.md", "codebook.csv",
                            "GEBRUIKSVOORWAARDEN.md", "synthetic_twin"])
    con = duckdb.connect()
    pupils = con.sql(f"select * from read_parquet('{folder}/pupils_*.parquet')")
    assert pupils.columns == ["survey_code", "school_year", "education_level"]
    codes, years, levels = con.execute(
        f"select count(*) filter (where survey_code like 'SRV1-%' and length(survey_code) = 37),"
        f" list(distinct school_year order by school_year),"
        f" list(distinct education_level order by education_level)"
        f" from read_parquet('{folder}/pupils_*.parquet')").fetchone()
    assert codes == con.execute(f"select count(*) from read_parquet('{folder}/pupils_*.parquet')"
                                ).fetchone()[0] > 0
    assert years == ["2023-24", "2024-25"] and levels == ["PRIMARY", "SECONDARY"]
    counts = con.sql(f"select * from read_parquet('{folder}/school_counts.parquet')")
    assert counts.columns == ["school_year", "education_level", "birth_year", "pupil_count"]
    small, hidden = con.execute(
        "select count(*) filter (where pupil_count between 1 and 9), "
        "count(*) filter (where pupil_count is null) "
        f"from read_parquet('{folder}/school_counts.parquet')").fetchone()
    assert small == 0 and hidden > 0  # the sample has rare birth years in every level
    assert "primary suppression" in outcome["disclosure"]["school_counts"]
    assert f"; {hidden} cells suppressed" in outcome["disclosure"]["school_counts"]
    package = json.loads((folder / "datapackage.json").read_text())
    assert package["protocol_id"] == PID and package["recipient"] == "Demo Research Institute"


def test_the_code_location_of_the_copy_carries_the_protocol_by_itself(added):
    dagster = added["dagster"]
    assert f"deliver_{PID}" in dagster["jobs"]
    assert f"delivery/{PID}" in dagster["assets"]
    for file_id in ("pupils", "school_counts"):
        assert f"deliveries/{PID}__{file_id}:columns_match_registry" in dagster["checks"]


def test_the_generated_yaml_holds_the_contract_and_the_exposure(added):
    import yaml

    body = yaml.safe_load((added["root"] / "dbt_project/models/deliveries" / PID /
                           f"_{PID}.yml").read_text())
    models = {m["name"]: m for m in body["models"]}
    assert set(models) == {f"{PID}__pupils", f"{PID}__school_counts"}
    assert [c["name"] for c in models[f"{PID}__pupils"]["columns"]] == \
        ["pupil_key", "survey_code", "school_year", "education_level"]
    assert all(m["config"]["contract"] == {"enforced": True} for m in models.values())
    (exposure,) = body["exposures"]
    assert exposure["name"] == PID and exposure["type"] == "analysis"
