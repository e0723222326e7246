"""Whitelist resolution: which columns each delivery model holds, and which the writer adds.

The registry lists the exact columns of every delivery file. A dbt delivery model holds those
columns except the ones that must never enter the warehouse (identification that lives in the
vault, or the requester's own INSZ and line references), plus the internal *link* columns that
let the writer fill them at delivery time and record what it delivered:

    model columns = registry columns - filled at delivery time + link columns
    delivered     = model columns    - link columns             + filled at delivery time
                  = registry columns, in registry order

Every person-level model carries ``pupil_key`` (never delivered) so the writer can record the
delivered pupils in ``audit.delivered_records`` (GDPR art. 19). :func:`delivered_columns` is the
one rule the column checks, the generated dbt YAML and the writer all use;
:func:`column_differences` says why a model or table would not deliver exactly the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from orchestration.protocols.registry import DeliveryFile, Protocol, Registry

Source = Literal["insz_register", "rijksregister_identity", "duo_identity", "request"]


@dataclass(frozen=True)
class LinkColumn:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class Fill:
    """A delivered column the writer fills at delivery time, from the vault or the request."""

    column: str
    source: Source
    source_column: str  # column in the vault table or the request file


@dataclass(frozen=True)
class DeliveryTimeFills:
    links: tuple[LinkColumn, ...] = ()  # besides pupil_key
    fills: tuple[Fill, ...] = ()
    why: str = ""

    @property
    def filled(self) -> set[str]:
        return {f.column for f in self.fills}


PUPIL_KEY = LinkColumn(
    "pupil_key", "varchar",
    "Internal pupil key (HMAC of the INSZ). Never delivered: the writer drops it, uses it to "
    "fill identification from the vault where the protocol allows it, and records the "
    "delivered pupils in audit.delivered_records.")

_RR_FILE = LinkColumn(
    "rijksregister_file_sha256", "varchar",
    "SHA-256 of the Rijksregister extract the child's row came from: with "
    "rijksregister_source_row it locates the identity in the vault. Never delivered.")
_RR_ROW = LinkColumn(
    "rijksregister_source_row", "bigint",
    "Row of the child in that Rijksregister extract. Never delivered.")
_DUO_RECORD = LinkColumn(
    "duo_record_key", "varchar",
    "Internal key of the candidate DUO record; the writer swaps it for DUO's fictitious number "
    "from the vault. Never delivered.")

# Per (protocol, file): the columns filled outside dbt (identified and request-answer
# deliveries) and any extra internal columns the writer needs and drops (a disclosure-support
# denominator). Every other delivery comes whole from its dbt model.
FILLED_AT_DELIVERY: dict[tuple[str, str], DeliveryTimeFills] = {
    ("zorgthuis", "verification_list"): DeliveryTimeFills(
        fills=(Fill("insz", "insz_register", "insz"),),
        why="the verification list carries the INSZ (identification allowed by the protocol)"),
    ("duo_leerplicht", "follow_up_list"): DeliveryTimeFills(
        links=(_RR_FILE, _RR_ROW, _DUO_RECORD),
        fills=(Fill("insz", "insz_register", "insz"),
               Fill("last_name", "rijksregister_identity", "naam"),
               Fill("first_names", "rijksregister_identity", "voornamen"),
               Fill("street", "rijksregister_identity", "straat"),
               Fill("house_number", "rijksregister_identity", "huisnummer"),
               Fill("duo_fictitious_number", "duo_identity", "fictief_nummer")),
        why="the follow-up list identifies the child for the compulsory-education cell"),
    ("vtc_2015_35", "admission_check"): DeliveryTimeFills(
        fills=(Fill("insz", "request", "insz"),),
        why="the answer is keyed on the INSZ of the request line"),
    ("vtc_2015_31", "hr_certificates"): DeliveryTimeFills(
        fills=(Fill("insz", "request", "insz"),),
        why="the answer is keyed on the INSZ of the request line"),
    ("naft_evaluation", "dov_semi_aggregated"): DeliveryTimeFills(
        links=(LinkColumn(
            "population_count", "integer",
            "Number of school-age young people living in the area: the denominator of the share, "
            "used by disclosure control to suppress small areas. Never delivered."),),
        why="disclosure control needs the denominator of the share"),
    ("vtc_2015_29", "maastricht_pilot"): DeliveryTimeFills(
        fills=(Fill("request_id", "request", "request_id"),),
        why="the answer echoes the requester's own line reference, never the INSZ"),
}

_NONE = DeliveryTimeFills()


def model_name(protocol_id: str, file_id: str) -> str:
    """The dbt model (and ``deliveries`` table) of a delivery file."""
    return f"{protocol_id}__{file_id}"


def fills_of(protocol: Protocol, delivery: DeliveryFile) -> DeliveryTimeFills:
    return FILLED_AT_DELIVERY.get((protocol.id, delivery.id), _NONE)


def link_columns(protocol: Protocol, delivery: DeliveryFile) -> list[LinkColumn]:
    base = [PUPIL_KEY] if delivery.person_level else []
    return base + list(fills_of(protocol, delivery).links)


def model_columns(protocol: Protocol, delivery: DeliveryFile) -> list[tuple[str, str]]:
    """The columns (name, DuckDB type) the dbt model must have: its enforced contract."""
    filled = fills_of(protocol, delivery).filled
    return [(c.name, c.type) for c in link_columns(protocol, delivery)] + \
        [(v.name, v.type) for v in delivery.variables if v.name not in filled]


def delivered_columns(protocol: Protocol, delivery: DeliveryFile,
                      columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """What a model with ``columns`` delivers: minus link columns, plus the delivery-time
    fills (typed as the registry types them). Equal to the registry's columns when in order."""
    links = {c.name for c in link_columns(protocol, delivery)}
    fills = fills_of(protocol, delivery).filled
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
    links = {c.name for c in link_columns(protocol, delivery)}
    missing_links = sorted(links - set(names))
    if missing_links:
        problems.append(f"missing internal link columns {missing_links}")
    fills = fills_of(protocol, delivery).filled
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
