"""The dbt staging layer follows the source contract (orchestration/foundations/sources.py).

Every SourceFile must have a dbt source table shaped like its raw table and a staging model
``stg_<file_type>`` with its own YAML that states the grain, so a new source file type cannot be
forgotten in dbt. Only the YAML and SQL files are read: no dbt run and no warehouse needed.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml

from orchestration.foundations.sources import SOURCE_FILES, SourceFile

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
STAGING = DBT_PROJECT / "models" / "staging"
PROVENANCE = ["_source_file", "_source_file_sha256", "_source_row", "_loaded_at", "_school_year"]
FILE_TYPES = [spec.file_type for spec in SOURCE_FILES]


@cache
def _yaml(path: Path) -> dict:
    """Parsed once per file (read-only by the tests)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}


def _raw_source() -> dict:
    (source,) = [s for s in _yaml(STAGING / "_sources.yml")["sources"] if s["name"] == "raw"]
    return source


def _source_tables() -> dict[str, dict]:
    return {t["name"]: t for t in _raw_source()["tables"]}


def _staging_models() -> dict[str, tuple[Path, dict]]:
    """Every model declared in a staging YAML file, with the file that declares it."""
    models: dict[str, tuple[Path, dict]] = {}
    for path in sorted(STAGING.rglob("*.yml")):
        for model in _yaml(path).get("models", []):
            assert model["name"] not in models, f"{model['name']} is declared twice"
            models[model["name"]] = (path, model)
    return models


def _raw_columns(spec: SourceFile) -> list[str]:
    """The raw table's columns as ingestion writes them (see the brief in sources.py)."""
    columns = []
    for c in spec.columns:
        if c.sensitivity == "insz":
            columns.append("pupil_key")
        elif c.sensitivity == "plain":
            columns.append(c.name)
    vault = {c.name for c in spec.columns if c.sensitivity == "vault"}
    if vault & set(spec.key_columns):
        columns.append("record_key")
    if vault:
        columns.append("_vault_digest")
    return columns + PROVENANCE


def _test_names(tests: list) -> set[str]:
    return {t if isinstance(t, str) else next(iter(t)) for t in tests or []}


def test_the_dbt_source_tables_are_exactly_the_source_file_types():
    tables = [t["name"] for t in _raw_source()["tables"]]
    assert len(tables) == len(set(tables)), "a source table is declared twice"
    assert sorted(tables) == sorted(FILE_TYPES)


def test_the_dbt_source_reads_the_raw_schema_without_tests():
    source = _raw_source()
    assert source["schema"] == "raw"
    for table in source["tables"]:
        for column in table.get("columns", []):
            assert not (column.get("data_tests") or column.get("tests")), \
                f"{table['name']}.{column['name']}: raw is checked by Dagster, not dbt"


@pytest.mark.parametrize("spec", SOURCE_FILES, ids=FILE_TYPES)
def test_each_source_table_maps_to_its_dagster_raw_asset(spec: SourceFile):
    table = _source_tables()[spec.file_type]
    meta = table.get("config", {}).get("meta") or table.get("meta") or {}
    assert meta.get("dagster", {}).get("asset_key") == ["raw", spec.file_type]


@pytest.mark.parametrize("spec", SOURCE_FILES, ids=FILE_TYPES)
def test_each_source_table_lists_the_raw_columns_of_the_contract(spec: SourceFile):
    columns = [c["name"] for c in _source_tables()[spec.file_type]["columns"]]
    assert columns == _raw_columns(spec)


@pytest.mark.parametrize("spec", SOURCE_FILES, ids=FILE_TYPES)
def test_each_file_type_has_a_staging_model_with_its_own_yaml_stating_the_grain(spec: SourceFile):
    name = f"stg_{spec.file_type}"
    models = _staging_models()
    assert name in models, f"no staging YAML declares {name}"
    path, model = models[name]
    assert path == STAGING / spec.source / f"{name}.yml", f"{name} should be declared in its own YAML"
    assert [m["name"] for m in _yaml(path)["models"]] == [name], f"{path.name}: one model per YAML"
    assert (path.with_suffix(".sql")).is_file(), f"{name}.sql is missing beside its YAML"
    assert model.get("description", "").strip().startswith("One row per"), \
        f"{name}: the description must open with the grain ('One row per ...')"


@pytest.mark.parametrize("spec", SOURCE_FILES, ids=FILE_TYPES)
def test_each_staging_model_reads_its_own_raw_table(spec: SourceFile):
    sql = (STAGING / spec.source / f"stg_{spec.file_type}.sql").read_text(encoding="utf-8")
    assert f"source('raw', '{spec.file_type}')" in sql


@pytest.mark.parametrize("spec", SOURCE_FILES, ids=FILE_TYPES)
def test_each_staging_model_tests_the_uniqueness_of_its_grain(spec: SourceFile):
    _, model = _staging_models()[f"stg_{spec.file_type}"]
    model_tests = _test_names(model.get("data_tests"))
    column_tests = set().union(*(_test_names(c.get("data_tests")) for c in model.get("columns", [])))
    assert {"unique_combination", "unique"} & (model_tests | column_tests)


def test_there_is_no_staging_model_without_a_source_file_type():
    extra = set(_staging_models()) - {f"stg_{t}" for t in FILE_TYPES}
    assert not extra, f"staging models without a SourceFile: {sorted(extra)}"
