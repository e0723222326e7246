"""Processor hand-offs: part of a file made by a processor that never sees identities.

A delivery file with a ``processor_hand_off`` in the registry (vtc_2015_34: CEVI nv
geo-references the addresses, "Op deze manier beschikt CEVI nv op geen enkel moment over
essentiële informatie van leerlingen") is completed in two steps, both at delivery time and
set-based in DuckDB:

1. :func:`hand_off` writes, per school year, one CSV (semicolon, UTF-8) to the processor's folder
   ``data/outbox/processors/<processor>/<protocol>/<file>_<school year>.csv``: the file's key
   (the per-year pseudonym the delivery carries, nothing else that identifies) and the columns
   the registry's ``sends`` names, taken from the vault (``source: rijksregister_address``: the
   Rijksregister address of the school year, from the latest extract dated in it; a pupil
   without one is not handed off). Written in the restricted zone and renamed into place, so
   the processor never reads half a file; the audit trail records counts and hashes only.
2. :func:`load_answers` reads every answer the processor put in
   ``data/inbox/processors/<processor>/<protocol>/`` (CSV: the key, then the ``answers``
   columns) into a temp table ``__processor_answers`` of the connection; the writer fills the
   ``processor_answer`` columns from it, joined on the key. A key answered twice keeps one
   answer (the latest file); a key not answered stays empty.

For the synthetic sample, ``tools/geocoder.py`` stands in for the processor.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from orchestration.foundations.hashing import sha256_of
from orchestration.foundations.settings import Paths
from orchestration.protocols.registry import DeliveryFile, Protocol

PROCESSORS_FOLDER = "processors"
SCHOOL_YEAR = re.compile(r"\d{4}-\d{2}")
ANSWERS_TABLE = "__processor_answers"
# Where each hand-off source finds what it sends: the vault columns, by their hand-off names.
SOURCES = {
    "rijksregister_address": {"postcode": "r.postcode", "street": "i.straat",
                              "house_number": "i.huisnummer"},
}


class HandOffError(RuntimeError):
    """A hand-off the registry asks for cannot be made (the message names no value)."""


def outbox_folder(p: Paths, protocol: Protocol, delivery: DeliveryFile) -> Path:
    """Where the processor collects the hand-off files."""
    return p.outbox / PROCESSORS_FOLDER / delivery.processor_hand_off.processor / protocol.id


def answer_folder(p: Paths, protocol: Protocol, delivery: DeliveryFile) -> Path:
    """Where the processor puts its answers."""
    return p.inbox / PROCESSORS_FOLDER / delivery.processor_hand_off.processor / protocol.id


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def hand_off(con: duckdb.DuckDBPyConnection, protocol: Protocol, delivery: DeliveryFile,
             model_table: str, p: Paths) -> list[dict]:
    """Write the hand-off files of one delivery file from its model (``model_table``, holding
    ``pupil_key``, ``school_year`` and the key column); returns per file its name, rows and
    SHA-256 (no values). The vault must be attached as ``vault``."""
    spec = delivery.processor_hand_off
    columns = SOURCES[spec.source]
    unknown = sorted(set(spec.sends) - set(columns))
    if unknown:
        raise HandOffError(f"{protocol.id}/{delivery.id}: source {spec.source} cannot send "
                           f"{unknown}")
    sends = ", ".join(f"{columns[c]} as {_q(c)}" for c in spec.sends)
    # the address of the school year: the latest Rijksregister extract dated in that year
    con.execute(f"""
        create or replace temp table __hand_off as
        with keys as (
            select distinct pupil_key, school_year, {_q(spec.key)} as key
            from {model_table}
        ),
        addresses as (
            select k.school_year, k.key, {sends}
            from keys as k
            inner join raw.rijksregister_children as r
                on r.pupil_key = k.pupil_key
               and try_strptime(r.referentiedatum, '%d/%m/%Y')::date
                   between make_date(cast(substr(k.school_year, 1, 4) as integer), 9, 1)
                       and make_date(cast(substr(k.school_year, 1, 4) as integer) + 1, 8, 31)
            inner join vault.identity_rijksregister_children as i
                on i._source_file_sha256 = r._source_file_sha256
               and i._source_row = r._source_row
            qualify row_number() over (
                partition by k.school_year, k.key
                order by try_strptime(r.referentiedatum, '%d/%m/%Y') desc, r._source_row desc
            ) = 1
        )
        select * from addresses""")
    target = outbox_folder(p, protocol, delivery)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    years = [r[0] for r in con.execute(
        "select distinct school_year from __hand_off order by 1").fetchall()]
    header = ", ".join(_q(c) for c in ["key", *spec.sends])
    for year in years:  # one file per school year: the key is valid within that year only
        if not SCHOOL_YEAR.fullmatch(str(year)):
            raise HandOffError(f"{protocol.id}/{delivery.id}: a school year of the model is not "
                               "of the form 2023-24")
        name = f"{delivery.id}_{year}.csv"
        partial = target / f".partial-{name}"
        con.execute(f"copy (select {header} from __hand_off where school_year = '{year}' "
                    f"order by key) to '{_sql_path(partial)}' "
                    "(format csv, header true, delimiter ';', quote '\"')")
        os.replace(partial, target / name)
        rows = con.execute("select count(*) from __hand_off where school_year = ?",
                           [year]).fetchone()[0]
        written.append({"file": name, "rows": rows, "sha256": sha256_of(target / name)})
    con.execute("drop table __hand_off")
    return written


def load_answers(con: duckdb.DuckDBPyConnection, protocol: Protocol, delivery: DeliveryFile,
                 p: Paths) -> int:
    """Every answer file of the processor into temp table ``__processor_answers`` (the key and
    the ``answers`` columns, one row per key); returns the number of keys answered."""
    spec = delivery.processor_hand_off
    columns = ", ".join(f"{_q(c)} varchar" for c in ["key", *spec.answers])
    con.execute(f"create or replace temp table {ANSWERS_TABLE} ({columns})")
    folder = answer_folder(p, protocol, delivery)
    files = sorted(folder.glob("*.csv")) if folder.exists() else []
    if not files:
        return 0
    wanted = ", ".join(_q(c) for c in ["key", *spec.answers])
    listing = ", ".join(f"'{_sql_path(f)}'" for f in files)
    con.execute(f"""
        insert into {ANSWERS_TABLE}
        select {wanted}
        from read_csv([{listing}], delim = ';', header = true, all_varchar = true,
                      filename = true)
        where key is not null
        qualify row_number() over (partition by key order by filename desc) = 1""")
    return con.execute(f"select count(*) from {ANSWERS_TABLE}").fetchone()[0]
