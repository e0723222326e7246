"""The dbt YAML of the delivery models and the exposures are generated from the registry, and
the committed files equal what the registry generates: registry and dbt cannot drift.

If this fails after a registry change, run ``python -m orchestration.deliveries.dbt_yaml``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestration.deliveries import dbt_yaml, publication, spec
from orchestration.protocols import load_registry

REGISTRY = load_registry()
DELIVERIES = dbt_yaml.DELIVERIES_DIR


def test_the_committed_yaml_equals_the_yaml_generated_from_the_registry():
    assert dbt_yaml.differences(REGISTRY) == []


def test_every_delivery_file_has_exactly_one_sql_model_and_no_model_is_orphaned():
    sql = {p.stem for p in DELIVERIES.glob("*/*.sql")}
    expected = {m.name for m in spec.delivery_models(REGISTRY)} | {
        publication.microdata_model(p.id, f.id) for p, f in REGISTRY.all_delivery_files()
        if f.publication is not None and f.publication.microdata is not None}
    assert sql == expected
    for m in spec.delivery_models(REGISTRY):
        assert (DELIVERIES / m.protocol.id / f"{m.name}.sql").exists(), m.name


def test_every_model_has_an_enforced_contract_with_the_spec_columns():
    for m in spec.delivery_models(REGISTRY):
        body = yaml.safe_load((DELIVERIES / m.protocol.id / f"_{m.protocol.id}.yml").read_text())
        (entry,) = [e for e in body["models"] if e["name"] == m.name]
        microdata = [e["name"] for e in body["models"] if e["name"].endswith("__microdata")]
        assert set(microdata) <= {publication.microdata_model(m.protocol.id, f)
                                  for f in m.protocol.delivery_files and
                                  [f.id for f in m.protocol.delivery_files]}
        assert entry["config"]["contract"] == {"enforced": True}
        assert [(c["name"], spec.normalise_type(c["data_type"])) for c in entry["columns"]] \
            == m.columns
        for c in entry["columns"]:  # precision spelled out, as dbt wants for contracts
            assert not c["data_type"].startswith("decimal") or "(" in c["data_type"], c
        assert all(c["description"] for c in entry["columns"])
        delivered = [c for c in entry["columns"] if c["config"]["meta"]["delivered"]]
        for c in delivered:
            assert "Protocol wording" in c["description"]


def test_one_exposure_per_protocol_in_its_own_file_owned_by_the_recipient():
    exposures = {}
    for pid in REGISTRY.ids:
        body = yaml.safe_load((DELIVERIES / pid / f"_{pid}.yml").read_text())
        (exposure,) = body["exposures"]
        exposures[exposure["name"]] = exposure
    assert set(exposures) == set(REGISTRY.ids)
    assert not (DELIVERIES / "_exposures.yml").exists()
    for pid, e in exposures.items():
        p = REGISTRY.protocol(pid)
        assert p.parties.recipient.name in e["owner"]["name"]
        assert e["type"] == p.exposure_type
        assert e["depends_on"] == [f"ref('{spec.model_name(pid, f.id)}')"
                                   for f in p.delivery_files]
        for words in ("Purpose:", "Legal basis:", "Validity:", p.text_reference.file):
            assert words in e["description"], (pid, words)


def test_the_generator_writes_nothing_when_nothing_changed(tmp_path: Path):
    written = dbt_yaml.write(REGISTRY, tmp_path)
    assert sorted(written) == sorted([tmp_path / pid / f"_{pid}.yml" for pid in REGISTRY.ids]
                                     + [tmp_path / dbt_yaml.COUNT_PURPOSES_SEED.name])
    assert dbt_yaml.write(REGISTRY, tmp_path) == []
    assert dbt_yaml.differences(REGISTRY, tmp_path) == []


def test_a_generated_file_of_a_removed_protocol_is_stale_and_removed(tmp_path: Path):
    dbt_yaml.write(REGISTRY, tmp_path)
    gone = tmp_path / "retired_protocol" / "_retired_protocol.yml"
    gone.parent.mkdir()
    gone.write_text(dbt_yaml.HEADER.format(source="retired_protocol.yaml") + "version: 2\n")
    hand_written = tmp_path / "notes.yml"
    hand_written.write_text("version: 2\n")
    assert dbt_yaml.differences(REGISTRY, tmp_path) == [f"{gone}: stale"]  # outside the project
    assert dbt_yaml.write(REGISTRY, tmp_path) == [gone]
    assert not gone.exists() and hand_written.exists()


def test_the_exposures_describe_the_protocols_duties_in_the_texts_words():
    zorg = dbt_yaml.exposure_entry(REGISTRY, REGISTRY.protocol("zorgthuis"))["description"]
    assert '"binnen redelijke termijn" (no date in the text)' in zorg
    assert "not a protocol deadline" in zorg
    assert '"Dit protocol treedt in werking op datum van ondertekening."' in zorg
    assert "prior notice of Opgroeien regie" in zorg
    assert '"zonder onredelijke vertraging"' in zorg
    naft = dbt_yaml.exposure_entry(REGISTRY, REGISTRY.protocol("naft_evaluation"))["description"]
    assert "consent of DOV, Opgroeien" in naft
