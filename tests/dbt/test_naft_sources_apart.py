"""naft_evaluation keeps its two sources apart, read from the dbt lineage (``make manifest``).

Art. 6: "DOV en Opgroeien krijgen elkaars variabelen niet te zien". The BINC files are built from
BINC data only, the DOV files from DOV sources only; the one crossing is the key list of art. 6
step 1 (``marts.naft_key_list``, who is a NAFT pupil, no BINC variable). So: no model reaches a
BINC source except through the key list and also a DOV source, and each delivery file reaches only
its own side. The integration test ``tests/integration/test_naft_sources_apart.py`` shows the same
on delivered files (changing a variable of one side changes no file of the other).
"""

from __future__ import annotations

import json
from functools import cache

import pytest

from orchestration.platform.dbt_project import warehouse_dbt_project

KEY_LIST = "naft_key_list"
BINC = "binc"
#: The sources DOV holds: its own systems (the registry's DOV parties), the Rijksregister extract
#: and DUO it receives (file 6's denominator), and the zorgthuis lists it receives under the
#: zorgthuis protocol (the shared pupil and school marts carry them; no NAFT file delivers them).
#: BINC is Opgroeien's side of this protocol.
DOV = ("discimus", "led", "school_register", "rijksregister", "duo", "zorgthuis")


@cache
def _manifest() -> dict:
    return json.loads(warehouse_dbt_project.manifest_path.read_text())


def _source_system(unique_id: str) -> str | None:
    """The source system (inbox folder) of a raw source node, from its table name."""
    source = _manifest()["sources"].get(unique_id)
    if source is None:
        return None
    if source["source_name"] == "linkage":  # DUO records linked to the Rijksregister extract
        return "duo"
    return source["name"].split("_")[0] if not source["name"].startswith("school_register") \
        else "school_register"


def _systems_upstream(unique_id: str, *, through_key_list: bool) -> set[str]:
    """The source systems a node reads, walking the lineage upwards; the key list is a wall
    unless ``through_key_list``."""
    nodes, seen, systems = _manifest()["nodes"], set(), set()
    stack = [unique_id]
    while stack:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        system = _source_system(node_id)
        if system:
            systems.add(system)
            continue
        node = nodes.get(node_id)
        if node is None:
            continue
        if node.get("name") == KEY_LIST and node_id != unique_id and not through_key_list:
            continue
        stack.extend(node.get("depends_on", {}).get("nodes", []))
    return systems


def _models() -> dict[str, dict]:
    return {n["name"]: n for n in _manifest()["nodes"].values() if n["resource_type"] == "model"}


def _naft_delivery_models(side: str) -> list[str]:
    return sorted(name for name in _models()
                  if name.startswith(f"naft_evaluation__{side}_"))


def test_the_key_list_reads_binc_only_and_holds_only_the_pupil_key():
    model = _models()[KEY_LIST]
    assert _systems_upstream(model["unique_id"], through_key_list=True) == {BINC}
    assert list(model["columns"]) == ["pupil_key"]
    assert model["config"]["contract"]["enforced"]


def test_no_model_joins_binc_to_a_dov_source_except_through_the_key_list():
    mixed = sorted(name for name, node in _models().items()
                   if BINC in (up := _systems_upstream(node["unique_id"], through_key_list=False))
                   and up & set(DOV))
    assert mixed == [], f"models that read BINC and a DOV source: {mixed}"


@pytest.mark.parametrize("model", _naft_delivery_models("dov"))
def test_every_dov_file_reads_dov_sources_only(model):
    systems = _systems_upstream(_models()[model]["unique_id"], through_key_list=False)
    assert systems and systems <= set(DOV), f"{model} reads {sorted(systems)}"


@pytest.mark.parametrize("model", _naft_delivery_models("binc"))
def test_every_binc_file_reads_binc_only(model):
    systems = _systems_upstream(_models()[model]["unique_id"], through_key_list=True)
    assert systems == {BINC}, f"{model} reads {sorted(systems)}"


def test_both_sides_have_delivery_models():
    assert len(_naft_delivery_models("dov")) >= 3 and len(_naft_delivery_models("binc")) == 3
