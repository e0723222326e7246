"""The ``datapackage.json`` of a delivery (Frictionless Data Package) and its validation.

Every file of a delivery is written twice, as CSV and as Parquet, and described as two resources:

- the CSV is a **tabular** resource: path, format, media type, encoding, dialect, byte size,
  SHA-256 hash, row count and the table schema (field names, types and descriptions from the
  registry, ``required`` for columns the registry declares not nullable, ``enum`` for its
  allowed values);
- the Parquet is a **file** resource (``"type": "file"``): path, format, media type, byte size
  and SHA-256 hash, and ``twin_of``, the name of the CSV resource whose rows and table schema it
  holds. Why not tabular: frictionless 5 cannot validate a tabular Parquet resource (its Parquet
  reader streams no bytes, so the byte count and hash come out as ``None``, and it reads nullable
  integers as floats), so a tabular description made every package INVALID under
  ``frictionless validate``. As a file resource frictionless checks its bytes and hash.

Top-level custom properties say what the delivery is: protocol id, recipient, delivery id and
date, key version, code version, text reference.

A published file (one that passed disclosure control) names its source, as antwerpen_okan art. 4
asks ("bij publicaties ... wordt de bron vermeld"): each of its resources carries the standard
``sources`` property (``[{"title": <source>}]``) and ``disclosure_note``, the protection note of
the published table (source, threshold, method, figures hidden); the package lists the sources
of its published files in its own ``sources``.

:func:`validate` runs the ``frictionless`` validator on the whole package (what a recipient runs
as ``frictionless validate datapackage.json``), checks each Parquet twin against its CSV
(columns, types, rows) and, independently, recomputes every size and hash. The writer checks
every package it writes the same way but reads the CSV rows with pyarrow instead of frictionless
(``frictionless_rows=False``, :func:`_check_csv`): frictionless checks cell by cell in Python,
which took longer than writing the files at scale; the tests keep running frictionless itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

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
class PublishedNote:
    """What a published file says about itself: its source and its protection note."""

    source: str
    note: str


@dataclass(frozen=True)
class WrittenPart:
    """One delivered file (one period of one delivery file), written in both formats."""

    delivery: DeliveryFile
    name: str  # e.g. dov_pupils_2017-18
    rows: int
    csv: Path
    parquet: Path

    def resources(self, folder: Path, published: PublishedNote | None = None
                  ) -> list[dict[str, Any]]:
        csv_name = f"{self.name}-csv".lower()
        common: dict[str, Any] = {"title": f"{self.delivery.id}: {self.name}",
                                  "delivery_file": self.delivery.id}
        if published is not None:
            common.update(sources=[{"title": published.source}],
                          disclosure_note=published.note)
        description = " ".join(self.delivery.description.split())
        csv = {
            "name": csv_name, "type": "table",
            "path": self.csv.relative_to(folder).as_posix(),
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            "dialect": dict(CSV_DIALECT),
            "bytes": self.csv.stat().st_size, "hash": f"sha256:{sha256_of(self.csv)}",
            "rows": self.rows, **common, "description": description,
            "schema": table_schema(self.delivery),
        }
        parquet = {
            "name": f"{self.name}-parquet".lower(), "type": "file",
            "path": self.parquet.relative_to(folder).as_posix(),
            "format": "parquet", "mediatype": "application/vnd.apache.parquet",
            "bytes": self.parquet.stat().st_size, "hash": f"sha256:{sha256_of(self.parquet)}",
            **common,
            "description": (f"{description} The same {self.rows} rows and columns as resource "
                            f"{csv_name} (its table schema applies), as Apache Parquet."),
            "twin_of": csv_name,
        }
        return [csv, parquet]


def write_sorted(con: duckdb.DuckDBPyConnection, query: str, csv_path: Path,
                 parquet_path: Path) -> int:
    """Write ``query``'s rows, sorted on all columns, as CSV and as Parquet; returns the rows.

    ``order by all`` in each copy. Not the CSV read back from the written Parquet: the warehouse
    runs with ``preserve_insertion_order = false``, so a large Parquet (several row groups) is
    read back in parallel in any order and the CSV no longer matches its twin. Not one sort into
    a temp table both copies read: that gives the same rows, but DuckDB then marks columns
    without nulls REQUIRED in Parquet, which changes the delivered bytes."""
    sorted_query = f"{query} order by all"
    con.execute(f"copy ({sorted_query}) to '{_sql(csv_path)}' "
                "(format csv, header true, delimiter ';', quote '\"')")
    con.execute(f"copy ({sorted_query}) to '{_sql(parquet_path)}' (format parquet)")
    return con.execute("select coalesce(sum(num_rows), 0) from parquet_file_metadata(?)",
                       [str(parquet_path)]).fetchone()[0]


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")


def descriptor(parts: list[WrittenPart], folder: Path, *, properties: dict[str, Any],
               published: dict[str, PublishedNote] | None = None) -> dict[str, Any]:
    """``published``: the note of each published file, by delivery-file id."""
    published = published or {}
    name = f"{properties['protocol_id']}-{properties['delivery_id']}".lower()
    resources = [r for part in parts
                 for r in part.resources(folder, published.get(part.delivery.id))]
    sources = sorted({published[p.delivery.id].source for p in parts
                      if p.delivery.id in published})
    return {"name": name.replace(":", "").replace(" ", "-"),
            "title": properties.get("title", name),
            **{k: v for k, v in properties.items() if k != "title"},
            **({"sources": [{"title": s} for s in sources]} if sources else {}),
            "resources": resources}


def write(parts: list[WrittenPart], folder: Path, *, properties: dict[str, Any],
          published: dict[str, PublishedNote] | None = None) -> Path:
    path = folder / "datapackage.json"
    body = descriptor(parts, folder, properties=properties, published=published)
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


def _check_csv(resource: dict[str, Any], folder: Path) -> list[str]:
    """A CSV resource against its table schema, read with pyarrow: the header is the schema's
    fields in order; every cell parses as its field's type (empty = missing); required fields
    have no missing cell, enum fields no other value; the row count is the declared one."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pacsv

    name, path = resource["name"], folder / resource["path"]
    fields = resource["schema"]["fields"]
    arrow = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
             "boolean": pa.bool_(), "date": pa.date32()}
    with path.open(encoding="utf-8", newline="") as f:
        header = next(_csv_reader(f), [])
    if header != [f["name"] for f in fields]:
        return [f"{name}: header {header} differs from the schema's fields"]
    try:
        table = pacsv.read_csv(
            path, read_options=pacsv.ReadOptions(use_threads=True),
            parse_options=pacsv.ParseOptions(delimiter=";", quote_char='"'),
            convert_options=pacsv.ConvertOptions(
                column_types={f["name"]: arrow[f["type"]] for f in fields},
                null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=False,
                true_values=["true"], false_values=["false"]))
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        return [f"{name}: a cell does not parse as its field's type ({type(e).__name__})"]
    errors = []
    if table.num_rows != resource.get("rows"):
        errors.append(f"{name}: {table.num_rows} rows, the descriptor says {resource.get('rows')}")
    for f in fields:
        column = table.column(f["name"])
        constraints = f.get("constraints", {})
        if constraints.get("required") and column.null_count:
            errors.append(f"{name}: {column.null_count} missing values in required field "
                          f"{f['name']}")
        if "enum" in constraints:
            allowed = pa.array(constraints["enum"], type=column.type)
            outside = pc.sum(pc.and_(pc.is_valid(column),  # a missing value is no value
                                     pc.invert(pc.is_in(column, value_set=allowed))))
            if outside.as_py():
                errors.append(f"{name}: {outside.as_py()} values of field {f['name']} outside "
                              f"its enum")
    return errors


def _csv_reader(f):
    """The package's CSV dialect, for reading a header."""
    import csv

    return csv.reader(f, delimiter=CSV_DIALECT["delimiter"], quotechar=CSV_DIALECT["quoteChar"])


def _check_parquet(resource: dict[str, Any], folder: Path, csv_twin: dict[str, Any] | None
                   ) -> list[str]:
    """The Parquet twin of a CSV resource holds exactly its rows: the twin's fields (names and
    types), its row count and the same values."""
    import pyarrow.parquet as pq

    name, path = resource["name"], folder / resource["path"]
    if csv_twin is None:
        return [f"{name}: twin_of names no CSV resource of the package"]
    errors = []
    fields = csv_twin["schema"]["fields"]
    table = pq.read_table(path)
    if table.column_names != [f["name"] for f in fields]:
        errors.append(f"{name}: Parquet columns {table.column_names} differ from the schema")
        return errors
    for f in fields:
        arrow_type = str(table.schema.field(f["name"]).type)
        decimal = f["type"] == "number" and arrow_type.startswith("decimal")  # registry decimal
        if arrow_type not in ARROW_TYPES[f["type"]] and arrow_type != "null" and not decimal:
            errors.append(f"{name}: column {f['name']} is {arrow_type}, schema says {f['type']}")
    if table.num_rows != csv_twin.get("rows"):
        errors.append(f"{name}: {table.num_rows} rows, its CSV twin says "
                      f"{csv_twin.get('rows')}")
    if not errors:
        import pyarrow as pa

        try:
            twin = _read_csv_like(folder / csv_twin["path"], table.schema)
        except (pa.ArrowInvalid, UnicodeDecodeError) as e:
            return [f"{name}: its CSV twin does not read with its types ({type(e).__name__})"]
        try:
            same = twin.cast(table.schema).equals(table)
        except (pa.ArrowInvalid, ValueError):  # e.g. a missing value in a non-null column
            same = False
        if not same:
            errors.append(f"{name}: its rows differ from its CSV twin {csv_twin['path']}")
    return errors


def validate(package_path: Path, *, descriptor: bool = True, frictionless_rows: bool = True
             ) -> Validation:
    """Validate a delivery's package.

    - the whole package with frictionless, as ``frictionless validate datapackage.json`` does:
      the descriptor against the Data Package standard (``descriptor=False`` leaves this to the
      tests when the descriptor comes from this module's own code), every CSV resource in full
      (schema, types, required and enum constraints, row count, bytes, SHA-256), every Parquet
      file resource's bytes and SHA-256;
      (``frictionless_rows=False``: the CSV resources' rows are checked with pyarrow instead,
      :func:`_check_csv`, and the bytes and hashes below);
    - every Parquet resource against its CSV twin here: columns, types, rows, the same values;
    - every byte size and SHA-256 hash recomputed independently.
    """
    package_path = Path(package_path)
    body = json.loads(package_path.read_text(encoding="utf-8"))
    folder = package_path.parent
    errors: list[str] = []
    if descriptor or frictionless_rows:
        from frictionless import Package
    if descriptor:
        report = Package.validate_descriptor(body)
        errors += [f"descriptor: {type_}: {note}"
                   for type_, note in report.flatten(["type", "note"])]
    resources = body.get("resources", [])
    if resources and frictionless_rows:
        report = Package(body, basepath=str(folder)).validate()
        errors += [f"{name}: {type_}: {note}" for name, type_, note in
                   report.flatten(["resourceName", "type", "note"])]
    by_name = {r["name"]: r for r in resources if r.get("format") == "csv"}
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
        if resource.get("format") == "csv" and not frictionless_rows:
            errors += _check_csv(resource, folder)
        if resource.get("format") == "parquet":
            errors += _check_parquet(resource, folder, by_name.get(resource.get("twin_of", "")))
    return Validation(not errors, errors, len(resources))
