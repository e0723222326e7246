"""The ``datapackage.json`` of a delivery (Frictionless Data Package) and its validation.

Every file of a delivery is described twice, as its CSV and as its Parquet resource: path,
format, media type, byte size, SHA-256 hash, row count and the table schema (field names, types
and descriptions from the registry, ``required`` for columns the registry declares not
nullable, ``enum`` for its allowed values). Top-level custom properties say what the delivery
is: protocol id, recipient, delivery id and date, key version, code version, text reference.

:func:`validate` runs the ``frictionless`` validator on the package and, independently,
recomputes every size and hash. Frictionless cannot count the bytes of a Parquet resource (its
Parquet reader does not stream bytes: it reports ``byte-count`` with actual ``None``); its Parquet
reader is also slow and reads nullable integers as floats, so Parquet resources are checked here
(columns, types, rows, the same rows as their CSV twin, size and hash) and frictionless validates
the descriptor and every CSV resource in full.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestration.foundations.hashing import sha256_of
from orchestration.protocols.registry import DeliveryFile

FRICTIONLESS_TYPES = {"varchar": "string", "integer": "integer", "bigint": "integer",
                      "boolean": "boolean", "date": "date", "double": "number",
                      "decimal": "number"}
CSV_DIALECT = {"delimiter": ";", "header": True, "quoteChar": "\""}


def table_schema(delivery: DeliveryFile) -> dict[str, Any]:
    fields = []
    for v in delivery.variables:
        field: dict[str, Any] = {"name": v.name, "type": FRICTIONLESS_TYPES[v.type],
                                 "description": " ".join(v.description.split())}
        if v.type == "date":
            field["format"] = "default"  # ISO 8601 YYYY-MM-DD
        constraints: dict[str, Any] = {}
        if not v.nullable:
            constraints["required"] = True
        if v.allowed_values is not None:
            constraints["enum"] = list(v.allowed_values)
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    return {"fields": fields, "missingValues": [""]}


@dataclass(frozen=True)
class WrittenPart:
    """One delivered file (one period of one delivery file), written in both formats."""

    delivery: DeliveryFile
    name: str  # e.g. dov_pupils_2017-18
    rows: int
    csv: Path
    parquet: Path

    def resources(self, folder: Path) -> list[dict[str, Any]]:
        schema = table_schema(self.delivery)
        out = []
        for path, fmt, media in ((self.csv, "csv", "text/csv"),
                                 (self.parquet, "parquet", "application/vnd.apache.parquet")):
            resource: dict[str, Any] = {
                "name": f"{self.name}-{fmt}".lower(),
                "path": path.relative_to(folder).as_posix(),
                "format": fmt,
                "mediatype": media,
                "bytes": path.stat().st_size,
                "hash": f"sha256:{sha256_of(path)}",
                "rows": self.rows,
                "title": f"{self.delivery.id}: {self.name}",
                "description": " ".join(self.delivery.description.split()),
                "delivery_file": self.delivery.id,
                "schema": schema,
            }
            if fmt == "csv":
                resource["encoding"] = "utf-8"
                resource["dialect"] = dict(CSV_DIALECT)
            out.append(resource)
        return out


def descriptor(parts: list[WrittenPart], folder: Path, *, properties: dict[str, Any]
               ) -> dict[str, Any]:
    name = f"{properties['protocol_id']}-{properties['delivery_id']}".lower()
    resources = [r for part in parts for r in part.resources(folder)]
    return {"name": name.replace(":", "").replace(" ", "-"),
            "title": properties.get("title", name),
            **{k: v for k, v in properties.items() if k != "title"},
            "resources": resources}


def write(parts: list[WrittenPart], folder: Path, *, properties: dict[str, Any]) -> Path:
    path = folder / "datapackage.json"
    body = descriptor(parts, folder, properties=properties)
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False, default=str) + "\n",
                    encoding="utf-8")
    return path


@dataclass(frozen=True)
class Validation:
    valid: bool
    errors: list[str]
    resources: int

    def __str__(self) -> str:
        return "valid" if self.valid else "; ".join(self.errors[:10])


ARROW_TYPES = {"string": ("string", "large_string"), "integer": ("int8", "int16", "int32",
               "int64"), "number": ("double", "float"), "boolean": ("bool",),
               "date": ("date32[day]", "date32")}


def _read_csv_like(path: Path, parquet_schema) -> Any:
    """A delivery CSV read with the Parquet twin's column types (empty text = null)."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    types = {f.name: (pa.string() if pa.types.is_null(f.type) else f.type)
             for f in parquet_schema}
    return pacsv.read_csv(
        path, read_options=pacsv.ReadOptions(use_threads=False),
        parse_options=pacsv.ParseOptions(delimiter=";", quote_char='"'),
        convert_options=pacsv.ConvertOptions(column_types=types, null_values=[""],
                                             strings_can_be_null=True,
                                             quoted_strings_can_be_null=False,
                                             true_values=["true"], false_values=["false"]))


def _check_parquet(resource: dict[str, Any], folder: Path, csv_twin: dict[str, Any] | None
                   ) -> list[str]:
    """Frictionless reads Parquet slowly and mistypes nullable integers, so the Parquet twin of
    each CSV is checked here: fields, types, row count, and the same rows as the CSV."""
    import pyarrow.parquet as pq

    errors = []
    name, path = resource["name"], folder / resource["path"]
    fields = resource["schema"]["fields"]
    table = pq.read_table(path)
    if table.column_names != [f["name"] for f in fields]:
        errors.append(f"{name}: Parquet columns {table.column_names} differ from the schema")
        return errors
    for f in fields:
        arrow_type = str(table.schema.field(f["name"]).type)
        decimal = f["type"] == "number" and arrow_type.startswith("decimal")  # registry decimal
        if arrow_type not in ARROW_TYPES[f["type"]] and arrow_type != "null" and not decimal:
            errors.append(f"{name}: column {f['name']} is {arrow_type}, schema says {f['type']}")
    if table.num_rows != resource.get("rows"):
        errors.append(f"{name}: {table.num_rows} rows, the descriptor says "
                      f"{resource.get('rows')}")
    if csv_twin is not None and not errors:
        twin = _read_csv_like(folder / csv_twin["path"], table.schema)
        if not twin.cast(table.schema).equals(table):
            errors.append(f"{name}: its rows differ from its CSV twin {csv_twin['path']}")
    return errors


def validate(package_path: Path, *, descriptor: bool = True) -> Validation:
    """Validate a delivery's package.

    - the whole descriptor against the Data Package standard (frictionless; ``descriptor=False``
      leaves this to the tests when the descriptor comes from this module's own code);
    - every CSV resource with frictionless: schema, types, required and enum constraints, row
      count, byte size and SHA-256 hash;
    - every Parquet resource here (frictionless cannot count Parquet bytes and reads nullable
      integers as floats): columns, types, row count, and the same rows as its CSV twin;
    - every byte size and SHA-256 hash recomputed independently.
    """
    from frictionless import Package

    package_path = Path(package_path)
    body = json.loads(package_path.read_text(encoding="utf-8"))
    folder = package_path.parent
    errors: list[str] = []
    if descriptor:  # the whole descriptor, Parquet resources included (about 0.1 s/resource)
        report = Package.validate_descriptor(body)
        errors += [f"descriptor: {type_}: {note}"
                   for type_, note in report.flatten(["type", "note"])]
    resources = body.get("resources", [])
    csv_only = {k: v for k, v in body.items() if k != "resources"}
    csv_only["resources"] = [r for r in resources if r.get("format") == "csv"]
    if csv_only["resources"]:
        report = Package(csv_only, basepath=str(folder)).validate()
        errors += [f"{name}: {type_}: {note}" for name, type_, note in
                   report.flatten(["resourceName", "type", "note"])]
    by_path = {r["path"].rsplit(".", 1)[0]: r for r in resources if r.get("format") == "csv"}
    for resource in resources:
        path = folder / resource["path"]
        if not path.exists():
            errors.append(f"{resource['name']}: {resource['path']} is missing")
            continue
        if path.stat().st_size != resource.get("bytes"):
            errors.append(f"{resource['name']}: bytes {resource.get('bytes')} != "
                          f"{path.stat().st_size}")
        if resource.get("hash") != f"sha256:{sha256_of(path)}":
            errors.append(f"{resource['name']}: SHA-256 does not match")
        if resource.get("format") == "parquet":
            errors += _check_parquet(resource, folder,
                                     by_path.get(resource["path"].rsplit(".", 1)[0]))
    return Validation(not errors, errors, len(resources))
