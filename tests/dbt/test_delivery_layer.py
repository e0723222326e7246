"""Delivery models are projections of the marts (dbt_project/models/deliveries/README.md).

A delivery model selects, casts, pseudonymises and filters on its period; every population,
request answer, deduplication or derivation lives once in an intermediate model or a mart that is
documented and unit-tested there. Read from the dbt manifest (``make manifest``): no warehouse.
"""

from __future__ import annotations

import json
import re
from functools import cache

import pytest

from orchestration.platform.dbt_project import warehouse_dbt_project

LOGIC = {
    "join": re.compile(r"\bjoin\b", re.IGNORECASE),
    "qualify": re.compile(r"\bqualify\b", re.IGNORECASE),
    "window function": re.compile(r"\bover\s*\(", re.IGNORECASE),
    "union": re.compile(r"\bunion\b", re.IGNORECASE),
    "subquery": re.compile(r"\(\s*select\b", re.IGNORECASE),
}
GROUP_BY = re.compile(r"\bgroup\s+by\b", re.IGNORECASE)


@cache
def _manifest() -> dict:
    return json.loads(warehouse_dbt_project.manifest_path.read_text())


def _nodes() -> dict[str, dict]:
    return _manifest()["nodes"]


def _layer(node: dict) -> str:
    """The folder under models/ (staging, intermediate, marts, deliveries)."""
    return node["fqn"][1] if node["resource_type"] == "model" else node["resource_type"]


def _delivery_models() -> list[dict]:
    return sorted((n for n in _nodes().values()
                   if n["resource_type"] == "model" and _layer(n) == "deliveries"),
                  key=lambda n: n["name"])


def _without_comments(sql: str) -> str:
    """The SQL without comments and without the parentheses that open a CTE (``name as (``), so
    only a real subquery reads as ``(select``."""
    sql = re.sub(r"\{#.*?#\}", "", sql, flags=re.DOTALL)
    sql = re.sub(r"--[^\n]*", "", sql)
    return re.sub(r"\bas\s+(not\s+)?(materialized\s+)?\(", "as ", sql, flags=re.IGNORECASE)


DELIVERY_MODELS = [n["name"] for n in _delivery_models()]


def test_the_manifest_holds_the_delivery_models():
    assert len(DELIVERY_MODELS) >= 25
    assert "vtc_2015_35__admission_check" in DELIVERY_MODELS


def test_no_delivery_model_reads_a_source_or_staging():
    offenders = {}
    for node in _delivery_models():
        parents = node["depends_on"]["nodes"]
        bad = [p for p in parents
               if p.startswith("source.") or _nodes()[p]["name"].startswith("stg_")
               or (_nodes()[p]["resource_type"] == "model" and _layer(_nodes()[p]) == "staging")]
        if bad:
            offenders[node["name"]] = bad
    assert not offenders, f"delivery models reading staging or a source: {offenders}"


def test_delivery_models_read_only_marts_or_their_own_protocols_microdata():
    offenders = {}
    for node in _delivery_models():
        protocol = node["fqn"][2]
        for parent_id in node["depends_on"]["nodes"]:
            parent = _nodes().get(parent_id)
            if parent is None or parent["resource_type"] != "model":
                offenders.setdefault(node["name"], []).append(parent_id)
            elif _layer(parent) == "marts":
                continue
            elif not (_layer(parent) == "deliveries" and parent["fqn"][2] == protocol
                      and parent["name"].endswith("__microdata")):
                offenders.setdefault(node["name"], []).append(parent["name"])
    assert not offenders, f"delivery models reading beyond the marts: {offenders}"


@pytest.mark.parametrize("model", DELIVERY_MODELS)
def test_a_delivery_model_holds_no_logic(model):
    """No join, deduplication, window, union or aggregation: that belongs in a mart. The one
    exception is a published file counted from its own microdata model (the rows the disclosure
    hook protects), which may group them and stack its levels (union), nothing more."""
    node = _nodes()[f"model.protocol_warehouse.{model}"]
    sql = _without_comments(node["raw_code"])
    parents = [_nodes()[p]["name"] for p in node["depends_on"]["nodes"]]
    counts_its_microdata = parents == [f"{model}__microdata"]
    allowed = {"union"} if counts_its_microdata else set()
    found = [name for name, pattern in LOGIC.items()
             if pattern.search(sql) and name not in allowed]
    assert not found, f"{model} holds {found}: move the step into a mart"
    if GROUP_BY.search(sql):
        assert counts_its_microdata, \
            f"{model} aggregates {parents}: only its own microdata model may be counted here"


def test_the_check_catches_a_delivery_model_that_joins_staging():
    """The rules above bite: a model shaped like the old admission check fails both."""
    sql = ("with a as (select * from {{ ref('stg_led_certificates') }}) "
           "select * from a inner join b on a.x = b.x "
           "qualify row_number() over (partition by a.x order by a.y) = 1")
    assert {name for name, p in LOGIC.items() if p.search(_without_comments(sql))} == \
        {"join", "qualify", "window function"}
    projection = ("with a as (select * from {{ ref('okan_newcomer') }}), "
                  "final as (select cast(x as varchar) as x from a "
                  "where {{ in_delivery_period('school_year') }}) select * from final")
    assert not [name for name, p in LOGIC.items() if p.search(_without_comments(projection))]


def _interface_marts() -> list[dict]:
    """The marts the delivery models read: their columns are an interface."""
    nodes = _nodes()
    names = {d for n in _delivery_models() for d in n["depends_on"]["nodes"]
             if d in nodes and _layer(nodes[d]) == "marts"}
    return sorted((nodes[d] for d in names), key=lambda n: n["name"])


@pytest.mark.parametrize("mart", _interface_marts(),
                         ids=lambda n: n["name"])
def test_every_mart_a_delivery_model_reads_has_an_enforced_contract(mart):
    """A change to such a mart's columns or types fails its own build, not a delivery later."""
    assert mart["config"]["contract"]["enforced"] is True, mart["name"]
    assert mart["columns"] and all(c.get("data_type") for c in mart["columns"].values())
