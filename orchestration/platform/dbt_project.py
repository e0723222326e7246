"""The one DbtProject of the warehouse (no assets here, so it can be prepared on its own).

The manifest is built explicitly: ``make manifest`` runs
``dagster-dbt project prepare-and-package --file orchestration/platform/dbt_project.py``, and the test
setup does the same. Under ``dagster dev`` it is refreshed automatically.
"""

from dagster_dbt import DbtProject

from orchestration.foundations.settings import PROJECT_ROOT

warehouse_dbt_project = DbtProject(
    project_dir=PROJECT_ROOT / "dbt_project",
    profiles_dir=PROJECT_ROOT / "dbt_project",
)
warehouse_dbt_project.prepare_if_dev()
