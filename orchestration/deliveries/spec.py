"""Whitelist resolution: which columns each delivery model holds, and which the writer adds.

The registry lists the exact columns of every delivery file. A dbt delivery model holds those
columns except the ones that must never enter the warehouse (identification that lives in the
vault, or the requester's own INSZ and line references), plus the internal *link* columns that
let the writer fill them at delivery time and record what it delivered:

    model columns = registry columns - filled at delivery time + link columns
    delivered     = model columns    - link columns             + filled at delivery time
                  = registry columns, in registry order

Which columns are filled at delivery time, and which link columns a model carries for that, is
declared per delivery file in the registry (``filled_at_delivery``); nothing here names a protocol.
Every person-level model carries ``pupil_key`` (never delivered) so the writer can record the
delivered pupils in ``audit.delivered_records`` (GDPR art. 19). :func:`delivered_columns` is the
one rule the column checks, the generated dbt YAML and the writer all use;
:func:`column_differences` says why a model or table would not deliver exactly the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from orchestration.protocols.registry import DeliveryFile, Fill, LinkColumn, Protocol, Registry

PUPIL_KEY = LinkColumn(
    name="pupil_key", type="varchar",
    description="Internal pupil key (HMAC of the INSZ). Never delivered: the writer drops it, uses "
    "it to fill identification from the vault where the protocol allows it, and records the "
    "delivered pupils in audit.delivered_records.")


def model_name(protocol_id: str, file_id: str) -> str:
    """The dbt model (and ``deliveries`` table) of a delivery file."""
    return f"{protocol_id}__{file_id}"


def fills_of(delivery: DeliveryFile) -> list[Fill]:
    """The columns of a file the writer fills at delivery time (registry ``filled_at_delivery``)."""
    return list(delivery.filled_at_delivery.fills) if delivery.filled_at_delivery else []


def link_columns(delivery: DeliveryFile) -> list[LinkColumn]:
    """The internal columns a delivery model carries and the writer drops: ``pupil_key`` for a
    person-level file, plus the registry's ``filled_at_delivery.links``."""
    base = [PUPIL_KEY] if delivery.person_level else []
    links = delivery.filled_at_delivery.links if delivery.filled_at_delivery else []
    return base + list(links)


def model_columns(protocol: Protocol, delivery: DeliveryFile) -> list[tuple[str, str]]:
    """The columns (name, DuckDB type) the dbt model must have: its enforced contract."""
    filled = set(delivery.filled_columns)
    return [(c.name, c.type) for c in link_columns(delivery)] + \
        [(v.name, v.type) for v in delivery.variables if v.name not in filled]


def delivered_columns(protocol: Protocol, delivery: DeliveryFile,
                      columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """What a model with ``columns`` delivers: minus link columns, plus the delivery-time
    fills (typed as the registry types them). Equal to the registry's columns when in order."""
    links = {c.name for c in link_columns(delivery)}
    fills = delivery.filled_columns
    kept = {name: type_ for name, type_ in columns if name not in links}
    registry_types = dict(protocol.columns(delivery.id))
    for name in fills:
        kept[name] = registry_types[name]
    order = {name: i for i, name in enumerate(registry_types)}
    return sorted(kept.items(), key=lambda item: order.get(item[0], len(order)))


def column_differences(protocol: Protocol, delivery: DeliveryFile,
                       columns: list[tuple[str, str]]) -> list[str]:
    """Why ``columns`` (of a model or table) would not deliver exactly the registry's columns;
    empty when they would. Order does not matter (the writer writes registry order)."""
    problems = []
    names = [name for name, _ in columns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"duplicate columns {duplicates}")
    links = {c.name for c in link_columns(delivery)}
    missing_links = sorted(links - set(names))
    if missing_links:
        problems.append(f"missing internal link columns {missing_links}")
    fills = set(delivery.filled_columns)
    leaked = sorted(fills & set(names))
    if leaked:
        problems.append(f"columns {leaked} must be filled at delivery time, not held in the "
                        "warehouse")
    expected = dict(protocol.columns(delivery.id))
    actual = dict(delivered_columns(protocol, delivery, columns))
    extra = sorted(set(actual) - set(expected))
    missing = sorted(set(expected) - set(actual))
    if extra:
        problems.append(f"columns not in the registry: {extra}")
    if missing:
        problems.append(f"registry columns missing: {missing}")
    for name in sorted(set(actual) & set(expected)):
        if normalise_type(actual[name]) != normalise_type(expected[name]):
            problems.append(f"column {name} is {actual[name]}, the registry says "
                            f"{expected[name]}")
    return problems


def model_columns_in_warehouse(con: duckdb.DuckDBPyConnection, model: str
                               ) -> list[tuple[str, str]]:
    """The (name, type) columns of table ``deliveries.<model>`` as built; empty when absent."""
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_schema = 'deliveries' "
        "and table_name = ? order by ordinal_position", [model]).fetchall()
    return [(name, type_) for name, type_ in rows]


def normalise_type(duckdb_type: str) -> str:
    """DuckDB's spelling of a column type -> the registry's vocabulary."""
    t = duckdb_type.strip().lower()
    if t.startswith("decimal") or t.startswith("numeric"):
        return "decimal"
    return {"int": "integer", "int4": "integer", "int8": "bigint", "long": "bigint",
            "bool": "boolean", "float8": "double", "string": "varchar", "text": "varchar"
            }.get(t, t)


@dataclass(frozen=True)
class DeliveryModel:
    protocol: Protocol
    delivery: DeliveryFile
    name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", model_name(self.protocol.id, self.delivery.id))

    @property
    def columns(self) -> list[tuple[str, str]]:
        return model_columns(self.protocol, self.delivery)


def delivery_models(registry: Registry, protocol_id: str | None = None) -> list[DeliveryModel]:
    """Every delivery model the registry implies (of one protocol, or all)."""
    protocols = [registry.protocol(protocol_id)] if protocol_id else \
        [registry.protocol(pid) for pid in registry.ids]
    return [DeliveryModel(p, f) for p in protocols for f in p.delivery_files]


def identified_protocols(registry: Registry) -> set[str]:
    """Protocols whose deliveries may hold an INSZ (a delivered ``insz`` column): their outbox
    folders are the only ones outside the restricted zone where a valid INSZ may appear."""
    return {p.id for p in registry.protocols.values()
            if any("insz" in f.column_names for f in p.delivery_files)}
