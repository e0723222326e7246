"""The dbt staging layer follows the source contract (orchestration/foundations/sources.py).

The dbt source ``raw`` (``_sources.yml``) is generated from the contract and the committed file
must equal what the contract generates; if that test fails after a contract change, run
``python -m orchestration.ingestion.dbt_yaml``. Every SourceFile must have a dbt source table
shaped like its raw table and a staging model ``stg_<file_type>`` with its own YAML that states
the grain, so a new source file type cannot be forgotten in dbt. Only the YAML and SQL files are
read: no dbt run and no warehouse needed.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import pytest
import yaml

from orchestration.foundations import generated_files
from orchestration.foundations.sources import (BY_FILE_TYPE, BY_SOURCE, SOURCE_FILES, SOURCES,
                                               SourceFile)
from orchestration.ingestion import dbt_yaml
from orchestration.ingestion.assets import inbox_specs, source_assets

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
    """The raw table's columns as ingestion writes them, stated again here from the rule in
    raw_layout's docstring, so a wrong ``raw_layout.raw_table`` cannot pass unseen."""
    columns = []
    for c in spec.columns:
        if c.sensitivity == "insz":
            columns.append("pupil_key")
        elif c.sensitivity == "plain":
            columns.append(c.name)
    vault = {c.name for c in spec.columns if c.sensitivity == "vault"}
    if vault & set(spec.key_columns):
        columns.append("record_key")
    return columns + PROVENANCE


def _test_names(tests: list) -> set[str]:
    return {t if isinstance(t, str) else next(iter(t)) for t in tests or []}


def test_the_committed_sources_yaml_equals_the_yaml_generated_from_the_contract():
    assert generated_files.differences(dbt_yaml.render()) == []
    assert dbt_yaml.main(["--check"]) == 0


def test_a_change_of_the_contract_is_drift_until_the_yaml_is_regenerated(tmp_path: Path):
    path = tmp_path / "_sources.yml"
    assert generated_files.differences(dbt_yaml.render(path=path)) == [f"{path}: missing"]
    assert generated_files.write(dbt_yaml.render(path=path)) == [path]
    assert generated_files.write(dbt_yaml.render(path=path)) == []  # nothing changed
    spec = BY_FILE_TYPE["discimus_absences"]
    first = dataclasses.replace(spec.columns[3], description="half days expected, renamed")
    changed = dataclasses.replace(spec, columns=(*spec.columns[:3], first, *spec.columns[4:]))
    files = tuple(changed if f is spec else f for f in SOURCE_FILES)
    assert generated_files.differences(dbt_yaml.render(files, path)) == [f"{path}: differs"]
    generated_files.write(dbt_yaml.render(files, path))
    table = _yaml_text_tables(path.read_text(encoding="utf-8"))["discimus_absences"]
    assert {"name": first.name,
            "description": "Halve_dagen_aanwezig_verwacht: half days expected, renamed "
                           "(integer as text)"} in table["columns"]


def _yaml_text_tables(text: str) -> dict[str, dict]:
    (source,) = yaml.safe_load(text)["sources"]
    return {t["name"]: t for t in source["tables"]}


@pytest.mark.parametrize("spec", SOURCE_FILES, ids=FILE_TYPES)
def test_each_source_column_is_described_from_the_contract(spec: SourceFile):
    described = {c["name"]: c["description"] for c in _source_tables()[spec.file_type]["columns"]}
    assert _source_tables()[spec.file_type]["description"].startswith(spec.description)
    for column in spec.columns:
        if column.sensitivity != "plain":
            assert column.name not in described  # only plain columns reach raw
            continue
        text = described[column.name]
        assert text.startswith(column.header)
        assert column.description in text
        if column.type == "date":  # the file type's own date format, as its spec writes it
            assert text.endswith("(date as text, dd-mm-yyyy)" if spec.source == "duo"
                                 else "(date as text, dd/mm/yyyy)")
    for name in ("pupil_key", "record_key", *PROVENANCE):
        assert described.get(name, "{{ doc(").startswith("{{ doc("), name  # one docs block


def test_the_dagster_ingestion_assets_are_described_by_the_contract():
    inbox = {spec.key.path[-1]: spec for spec in inbox_specs}
    assert list(inbox) == list(SOURCES)
    for source, asset in zip(SOURCES, source_assets, strict=True):
        assert inbox[source].description.endswith(BY_SOURCE[source].description)
        assert BY_SOURCE[source].description in asset.op.description
        raw = {key.path[-1]: spec.description for key, spec in asset.specs_by_key.items()}
        assert raw == {f.file_type: f.description for f in SOURCE_FILES if f.source == source}


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
