"""The one DbtProject of the warehouse (no assets here, so it can be prepared on its own).

The manifest is built explicitly: ``make manifest`` runs ``dbt parse``, and the test setup does
the same. Under ``dagster dev`` dagster-dbt refreshes it (``prepare_if_dev``) by running ``dbt``
found on PATH; started as ``.venv/bin/dagster dev`` without an activated venv (as the README
says), PATH holds no dbt, so this environment's ``bin`` folder is put in front of PATH first.
"""

import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.foundations import settings
from orchestration.foundations.settings import PROJECT_ROOT


def dbt_executable() -> str:
    """The dbt of this interpreter's environment, so no activated venv is needed."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def dbt_environment(p: settings.Paths | None = None) -> dict[str, str]:
    """What the dbt profile reads: the same warehouse file and DuckDB settings as Python.
    ``make manifest`` parses with it too, so the run's first dbt invocation finds the same
    profile in ``target/partial_parse.msgpack`` and parses only what changed."""
    p = p or settings.paths()
    config = settings.duckdb_config(p)
    return {"WAREHOUSE_PATH": str(p.warehouse), "DUCKDB_MEMORY_LIMIT": config["memory_limit"],
            "DUCKDB_TEMP_DIRECTORY": config["temp_directory"]}


def put_environment_on_path() -> None:
    """Let dagster-dbt's preparer (which runs plain ``dbt``) find this environment's dbt."""
    found = dbt_executable()
    if found != "dbt" and shutil.which("dbt") is None:
        os.environ["PATH"] = os.pathsep.join([str(Path(found).parent),
                                              os.environ.get("PATH", "")])


if __name__ == "__main__":  # the environment as shell words, for `make manifest`
    print(" ".join(f"{k}={v}" for k, v in dbt_environment().items()))
    raise SystemExit(0)

warehouse_dbt_project = DbtProject(
    project_dir=PROJECT_ROOT / "dbt_project",
    profiles_dir=PROJECT_ROOT / "dbt_project",
)
put_environment_on_path()
warehouse_dbt_project.prepare_if_dev()
