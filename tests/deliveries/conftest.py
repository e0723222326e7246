"""A tiny warehouse for writer tests: delivery tables shaped by the spec, a vault, no dbt.

``build`` creates ``deliveries.<model>`` for the protocols asked, with rows made from each
column's type, allowed values and period, so the writer can be tested without running the
whole pipeline (the integration tests do that on the sample).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from orchestration.deliveries import publication, spec
from orchestration.protocols import load_registry, load_registry_from
from orchestration.protocols.registry import DEFINITIONS_DIR
from orchestration.foundations.pseudonymisation import hmac_hex, master_key, pupil_key_secret
from orchestration.foundations.warehouse import connect


def synthetic_insz(i: int) -> str:
    """A valid INSZ (born 2010), distinct per i."""
    base = f"1001{(i % 28) + 1:02d}{100 + i:03d}"
    return base + f"{97 - int('2' + base) % 97:02d}"


SCHOOL_IDS = ("100001", "100002")


def pupil_key(i: int) -> str:
    return hmac_hex(pupil_key_secret(master_key()), synthetic_insz(i))


def _value(name: str, type_: str, allowed, period, i: int):
    if allowed:
        return allowed[i % len(allowed)]
    if name == "school_year":
        first = period.school_year_from or "2023-24"
        return first
    if name == "institution_number":  # a registered school (SCHOOL_IDS): six digits
        return SCHOOL_IDS[i % len(SCHOOL_IDS)]
    if name in ("counting_date", "reference_date"):
        return dt.date(2023, 10, 2) if i % 2 == 0 else dt.date(2024, 2, 1)
    if type_ == "varchar":
        return f"{name[:12]}-{i}"
    if type_ in ("integer", "bigint"):
        return 20 + i
    if type_ == "boolean":
        return i % 2 == 0
    if type_ in ("double", "decimal"):
        return 0.5
    if type_ == "date":
        return dt.date(2024, 1, 15)
    return None


def build(p, protocol_ids, rows: int = 4, registry=None, vault_people: int = 4) -> None:
    """Delivery tables of ``protocol_ids`` with ``rows`` rows each, and a vault of people."""
    registry = registry or load_registry()
    with connect(p, vault=True) as con:
        con.execute("create schema if not exists deliveries")
        con.execute("create table if not exists vault.insz_register (insz varchar, "
                    "pupil_key varchar, first_seen_at timestamp)")
        con.execute("create table if not exists vault.identity_rijksregister_children ("
                    "pupil_key varchar, naam varchar, voornamen varchar, straat varchar, "
                    "huisnummer varchar, _source_file_sha256 varchar, _source_row bigint, "
                    "_school_year varchar)")
        con.execute("create table if not exists vault.identity_duo_registrations ("
                    "record_key varchar, fictief_nummer varchar, achternaam varchar, "
                    "voornamen varchar, straat varchar, huisnummer varchar, "
                    "_source_file_sha256 varchar, _source_row bigint, _school_year varchar)")
        # the school register (school-scoped files) and the Rijksregister rows behind the
        # vault's addresses (processor hand-offs), as ingestion and dbt would leave them
        con.execute("create schema if not exists staging")
        con.execute("create table if not exists staging.stg_school_register_branches "
                    "(school_number varchar)")
        con.execute("create schema if not exists raw")
        con.execute("create table if not exists raw.rijksregister_children (pupil_key varchar, "
                    "referentiedatum varchar, postcode varchar, _source_file_sha256 varchar, "
                    "_source_row bigint)")
        if con.execute("select count(*) from staging.stg_school_register_branches"
                       ).fetchone()[0] == 0:
            con.executemany("insert into staging.stg_school_register_branches values (?)",
                            [[s] for s in SCHOOL_IDS])
        if con.execute("select count(*) from vault.insz_register").fetchone()[0] == 0:
            for i in range(vault_people):
                con.execute("insert into vault.insz_register values (?, ?, now())",
                            [synthetic_insz(i), pupil_key(i)])
                con.execute("insert into vault.identity_rijksregister_children values "
                            "(?, ?, ?, ?, ?, 'rrfile', ?, '2023-24')",
                            [pupil_key(i), f"Naam{i}", f"Voornaam{i}", f"Straat{i}", str(i),
                             i])
                con.execute("insert into raw.rijksregister_children values "
                            "(?, '15/10/2023', '2000', 'rrfile', ?)", [pupil_key(i), i])
                con.execute("insert into vault.identity_duo_registrations values "
                            "(?, ?, 'x', 'y', 'z', '1', 'duofile', ?, '2023-24')",
                            [f"duo-{i}", f"FN{i:05d}", i])
        for model in spec.delivery_models(registry):
            if model.protocol.id not in protocol_ids:
                continue
            columns = model.columns
            ddl = ", ".join(f'"{n}" {t}' for n, t in columns)
            con.execute(f"create or replace table deliveries.{model.name} ({ddl})")
            registry_vars = {v.name: v for v in model.delivery.variables}
            for i in range(rows):
                values = []
                for name, type_ in columns:
                    if name == "pupil_key":
                        values.append(pupil_key(i % vault_people))
                    elif name == "rijksregister_file_sha256":
                        values.append("rrfile")
                    elif name == "rijksregister_source_row":
                        values.append(i % vault_people)
                    elif name == "duo_record_key":
                        values.append(f"duo-{i % vault_people}")
                    else:
                        v = registry_vars.get(name)
                        values.append(_value(name, type_, v.allowed_values if v else None,
                                             model.delivery.period, i))
                marks = ", ".join("?" for _ in columns)
                con.execute(f"insert into deliveries.{model.name} values ({marks})", values)
            published = model.delivery.publication
            micro = published.microdata if published is not None else None
            if micro is not None:
                name = publication.microdata_model(model.protocol.id, model.delivery.id)
                ddl = ", ".join(f'"{c.name}" {c.type}' for c in micro.columns)
                con.execute(f"create or replace table deliveries.{name} ({ddl})")
                for i in range(rows * 6):
                    values = []
                    for n, t in ((c.name, c.type) for c in micro.columns):
                        if n in ("pupil_key", "record_key"):
                            values.append(f"key-{i}")
                        elif n == "school_year":
                            values.append(model.delivery.period.school_year_from or "2023-24")
                        elif registry_vars.get(n) is not None and \
                                registry_vars[n].allowed_values:
                            allowed = registry_vars[n].allowed_values
                            values.append(allowed[i % len(allowed)])
                        elif t == "boolean":
                            values.append(i % 3 == 0)
                        elif n == "reference_date":
                            values.append(dt.date(2023, 10, 15))
                        elif n == "institution_number":
                            values.append(SCHOOL_IDS[i % len(SCHOOL_IDS)])
                        elif t == "integer":
                            values.append(2010 + i % 2)
                        else:
                            values.append(f"{n[:6]}-{i % 2}")
                    marks = ", ".join("?" for _ in micro.columns)
                    con.execute(f"insert into deliveries.{name} values ({marks})", values)


@pytest.fixture
def warehouse(data_dir, monkeypatch):
    """The data folder of tests/conftest.py with the development key, ready for ``build``."""
    monkeypatch.delenv("PROTOCOL_WAREHOUSE_MASTER_KEY", raising=False)
    return data_dir


@pytest.fixture
def registry_copy(tmp_path) -> Path:
    """A writable copy of the registry definitions (load it with load_registry_from)."""
    target = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS_DIR, target)
    return target


def add_renewal(definitions: Path, protocol_id: str, valid_until: str) -> None:
    import yaml

    path = definitions / f"{protocol_id}.yaml"
    body = yaml.safe_load(path.read_text(encoding="utf-8"))
    body["validity"]["renewals"].append({"valid_until": valid_until,
                                         "reference": "test renewal agreement",
                                         "signed": "2025-08-15"})
    path.write_text(yaml.safe_dump(body, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    load_registry_from(definitions)  # must still be a valid registry
