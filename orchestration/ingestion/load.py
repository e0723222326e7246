"""Loading one delivered file: validate every row set-based in DuckDB, split personal
identifiers into the vault, write the pseudonymised rows to ``raw``, quarantine the rest.

Invariants this module guarantees, per file:
- received rows = loaded rows + quarantined rows (checked before anything is committed);
- the same bytes load once (deduplicated by SHA-256), so reruns change nothing;
- a re-delivery of the same slot (file type + school year / reference date / list kind)
  supersedes the earlier one in ``raw``; the history stays in ``ingest.files``;
- no INSZ, name or address reaches the warehouse file; quarantined raw content and identities
  live only in the vault (the restricted zone); the warehouse keeps file, row, rule and column.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from stdnum.be import bis, nn

from orchestration.foundations import pseudonymisation as pseudo
from orchestration.foundations import school_year as sy
from orchestration.ingestion.files import Envelope, FileRejected, check_header, read_envelope
from orchestration.foundations.hashing import sha256_of
from orchestration.foundations.raw_layout import (PROVENANCE, has_personal_record_key, raw_columns,
                                                  slot_of)
from orchestration.foundations.settings import Paths
from orchestration.foundations.sources import Column, SourceFile

log = logging.getLogger(__name__)

EXAMPLES_IN_MESSAGES = 10


@dataclass
class FileResult:
    """What happened to one file; safe to log and to show as metadata (no personal values)."""

    file_name: str
    file_type: str
    sha256: str
    status: str  # loaded | rejected | duplicate
    slot: str = ""
    school_year: str | None = None
    received: int = 0
    loaded: int = 0
    quarantined: int = 0
    message: str = ""
    rule_counts: dict[str, int] = field(default_factory=dict)


# ------------------------------------------------------------------ schema

def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Bookkeeping tables in the warehouse and the vault (idempotent)."""
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists ingest")
    con.execute("""
        create table if not exists ingest.files (
            file_name varchar, source varchar, file_type varchar, sha256 varchar,
            size_bytes bigint, slot varchar, school_year varchar, reference_date date,
            received_rows bigint, loaded_rows bigint, quarantined_rows bigint,
            status varchar, message varchar, ingested_at timestamp)""")
    con.execute("""
        create table if not exists ingest.quarantine (
            sha256 varchar, file_name varchar, file_type varchar, source_row bigint,
            rule varchar, column_name varchar, quarantined_at timestamp)""")
    con.execute("""
        create table if not exists ingest.row_findings (
            sha256 varchar, file_name varchar, file_type varchar, source_row bigint,
            pupil_key varchar, rule varchar, column_name varchar, found_at timestamp)""")
    con.execute("""
        create table if not exists vault.insz_register (
            insz varchar primary key, pupil_key varchar not null, first_seen_at timestamp)""")
    con.execute("""
        create table if not exists vault.quarantine_rows (
            sha256 varchar, file_name varchar, file_type varchar, source_row bigint,
            rules varchar, raw_record varchar)""")


def _ensure_raw_table(con: duckdb.DuckDBPyConnection, spec: SourceFile) -> None:
    cols = raw_columns(spec)
    con.execute(f"create table if not exists raw.{spec.file_type} ("
                + ", ".join(f"{n} {t}" for n, t in cols) + ")")
    have = [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_catalog = current_database()"
        " and table_schema = 'raw' and table_name = ? order by ordinal_position",
        [spec.file_type]).fetchall()]
    if have != [n for n, _ in cols]:
        raise RuntimeError(f"raw.{spec.file_type} has columns {have}, the spec wants "
                           f"{[n for n, _ in cols]}: migrate or rebuild the warehouse")
    vault_cols = [c for c in spec.columns if c.sensitivity == "vault"]
    if vault_cols:
        key = "pupil_key" if any(c.sensitivity == "insz" for c in spec.columns) else "record_key"
        con.execute(
            f"create table if not exists vault.identity_{spec.file_type} ("
            f"{key} varchar, " + ", ".join(f"{c.name} varchar" for c in vault_cols)
            + ", _source_file_sha256 varchar, _source_row bigint, _school_year varchar)")


# ------------------------------------------------------------------ validation SQL

def _value(c: Column) -> str:
    return f"nullif(trim(\"{c.name}\"), '')"


def _rule_checks(spec: SourceFile) -> list[tuple[str, str, str]]:
    """(rule, column, SQL condition that is true when the row breaks the rule)."""
    checks = []
    for c in spec.columns:
        v = _value(c)
        if c.required:
            checks.append(("missing_required", c.header, f"{v} is null"))
        if c.type == "date":
            checks.append(("invalid_date", c.header,
                           f"{v} is not null and try_strptime({v}, '{spec.date_format}') is null"))
        elif c.type == "int":
            checks.append(("invalid_integer", c.header,
                           f"{v} is not null and try_cast({v} as bigint) is null"))
        elif c.type == "flag":
            checks.append(("invalid_flag", c.header, f"{v} is not null and {v} not in ('J', 'N')"))
        elif c.type == "school_year":
            checks.append(("invalid_school_year", c.header,
                           f"{v} is not null and not (regexp_full_match({v}, '\\d{{4}}-\\d{{4}}') "
                           f"and try_cast(right({v}, 4) as int) = try_cast(left({v}, 4) as int) + 1)"))
        elif c.type == "insz":
            checks.append(("invalid_insz", c.header,
                           f"{v} is not null and not coalesce(_insz_ok.valid, false)"))
    return checks


def _insz_column(spec: SourceFile) -> Column | None:
    return next((c for c in spec.columns if c.sensitivity == "insz"), None)


# ------------------------------------------------------------------ the load

class DevelopmentKeyRefused(RuntimeError):
    """The development key may only touch the committed synthetic sample."""


def load_file(con: duckdb.DuckDBPyConnection, p: Paths, spec: SourceFile, path: Path,
              groups: dict[str, str], master: pseudo.MasterKey,
              sample_hashes: frozenset[str] = frozenset()) -> FileResult:
    """Load one file. ``con`` must have the vault attached and ``ensure_schema`` applied.

    With the development key, a file whose SHA-256 is not one of the sample's is refused
    (the whole run stops) unless that use was allowed explicitly.
    """
    slot, school_year, reference_date = slot_of(spec, groups)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        env = read_envelope(path)
    except FileRejected as e:
        return _reject(con, p, spec, path, None, slot, school_year, reference_date, e, now)

    if (master.is_development_key and env.sha256 not in sample_hashes
            and not pseudo.development_key_allowed_explicitly()):
        raise DevelopmentKeyRefused(
            f"{path.name} is not part of the synthetic sample and no master key is set: set "
            f"{pseudo.ENV_MASTER_KEY} (or {pseudo.ENV_ALLOW_DEVELOPMENT_KEY}=1 for synthetic "
            f"test data only)")
    seen = con.execute("select status from ingest.files where sha256 = ? and file_type = ? "
                       "and status in ('loaded', 'superseded', 'rejected') limit 1",
                       [env.sha256, spec.file_type]).fetchone()
    if seen:
        return FileResult(path.name, spec.file_type, env.sha256, "duplicate", slot, school_year,
                          message=f"already ingested ({seen[0]}): same SHA-256")
    try:
        check_header(spec, path.name, env.header)
        if school_year not in sy.ALL:
            raise FileRejected(path.name, "out_of_range",
                               f"school year {school_year} is outside {sy.ALL[0]}..{sy.ALL[-1]}")
        result = _load_rows(con, spec, path, env, slot, school_year, master, now)
    except FileRejected as e:
        return _reject(con, p, spec, path, env, slot, school_year, reference_date, e, now)

    _record_file(con, spec, path, env.sha256, env.size_bytes, slot, school_year, reference_date,
                 result.received, result.loaded, result.quarantined, "loaded", result.message, now)
    return result


def _load_rows(con: duckdb.DuckDBPyConnection, spec: SourceFile, path: Path, env: Envelope,
               slot: str, school_year: str, master: pseudo.MasterKey, now: dt.datetime
               ) -> FileResult:
    cols = ", ".join(f"'{c.name}': 'VARCHAR'" for c in spec.columns)
    con.execute("set preserve_insertion_order = true")  # row numbers follow the file
    try:
        con.execute("drop table if exists _rejects; drop table if exists _reject_scans")
        try:
            con.execute(
            f"create or replace temp table _parsed as "
            f"select *, row_number() over () as _good_index from read_csv(?, delim=';', "
            f"quote='\"', escape='\"', header=true, auto_detect=false, columns={{{cols}}}, "
            f"store_rejects=true, rejects_table='_rejects', rejects_scan='_reject_scans', "
            f"encoding='utf-8')", [str(path)])
        except duckdb.Error as e:
            first_line = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise FileRejected(path.name, "csv_structure", f"unreadable as CSV: {first_line}") \
                from None
    finally:
        con.execute("set preserve_insertion_order = false")
    if env.interior_blank_lines:
        raise FileRejected(path.name, "blank_lines",
                           f"{env.interior_blank_lines} blank line(s) between records: row "
                           f"numbers would no longer match the file")
    good = con.execute("select count(*) from _parsed").fetchone()[0]
    malformed = con.execute(
        "create or replace temp table _malformed as select line - 1 as source_row, "
        "string_agg(distinct error_type, ', ') as detail, any_value(csv_line) as csv_line "
        "from _rejects group by line; select count(*) from _malformed").fetchone()[0]
    if good + malformed != env.data_lines:
        raise FileRejected(path.name, "record_count",
                           f"{env.data_lines} lines but {good + malformed} records: blank lines "
                           f"({env.blank_lines}) or line breaks inside values are not allowed")

    # True row numbers of the good records: the data rows that were not rejected, in order.
    con.execute("""
        create or replace temp table _in as
        with numbered as (
            select n.range + 1 as _source_row from range(?) n
            anti join _malformed m on m.source_row = n.range + 1),
        ranked as (select _source_row, row_number() over (order by _source_row) as _good_index
                   from numbered)
        select p.*, r._source_row from _parsed p join ranked r using (_good_index)""",
                [env.data_lines])

    insz = _insz_column(spec)
    if insz is not None:
        _register_insz(con, insz, now, master)
        insz_join = (f"left join _insz_ok on _insz_ok._insz_norm = "
                     f"regexp_replace(coalesce(_in.\"{insz.name}\", ''), '\\D', '', 'g')")
        pupil_key = "_insz_ok.pupil_key"
    else:
        insz_join, pupil_key = "", "null::varchar"
    pseudo.register_hmac(con, "record", pseudo.record_key_secret(master))

    checks = _rule_checks(spec)
    conditions = ", ".join(
        f"case when {cond} then {{'rule': '{rule}', 'column': '{col}'}} end"
        for rule, col, cond in checks) or "null"
    # The list of violations is built only for rows that break a rule (few): building it for
    # every row costs more than the checks themselves.
    any_broken = " or ".join(f"coalesce({cond}, false)" for _, _, cond in checks) or "false"
    con.execute(f"""
        create or replace temp table _checked as
        select _in.*, {pupil_key} as _pupil_key,
               case when {any_broken}
                    then list_filter([{conditions}], lambda x: x is not null)
                    else []::struct(rule varchar, "column" varchar)[] end as _violations
        from _in {insz_join}""")

    # ---- the vault side: quarantined raw content and identities (restricted zone)
    record_json = "to_json({" + ", ".join(f"'{c.header}': \"{c.name}\"" for c in spec.columns) + "})"
    con.execute("begin")
    con.execute("delete from vault.quarantine_rows where sha256 = ?", [env.sha256])
    con.execute(f"""
        insert into vault.quarantine_rows
        select ?, ?, ?, _source_row,
               array_to_string(list_transform(_violations, lambda x: x.rule || ':' || x.column), '; '),
               {record_json}::varchar
        from _checked where len(_violations) > 0
        union all
        select ?, ?, ?, source_row, 'malformed_row:' || detail, csv_line from _malformed""",
                [env.sha256, path.name, spec.file_type] * 2)
    vault_cols = [c for c in spec.columns if c.sensitivity == "vault"]
    key_expr = _key_expr(spec, insz)
    if vault_cols:
        con.execute(f"""
            delete from vault.identity_{spec.file_type} where _source_file_sha256 in (
                select sha256 from ingest.files where slot = ? and status = 'loaded')""", [slot])
        con.execute(f"""
            insert into vault.identity_{spec.file_type}
            select {key_expr}, {", ".join(_value(c) for c in vault_cols)}, ?, _source_row, ?
            from _checked where len(_violations) = 0""", [env.sha256, school_year])
    con.execute("commit")

    # ---- the warehouse side: pseudonymised rows, quarantine log without values
    select_cols = []
    for c in spec.columns:
        if c.sensitivity == "insz":
            select_cols.append("_pupil_key")
        elif c.sensitivity == "plain":
            select_cols.append(_value(c))
    if has_personal_record_key(spec):
        select_cols.append(key_expr)
    if vault_cols:  # tells a second version of a record from an exact copy (raw_layout)
        values = " || '|' || ".join(f"coalesce({_value(c)}, '')" for c in vault_cols)
        select_cols.append(f"hmac_record('vault|{spec.file_type}|' || {values})")
    con.execute("begin")
    previous = [r[0] for r in con.execute(
        "select sha256 from ingest.files where slot = ? and status = 'loaded'", [slot]).fetchall()]
    if previous:
        con.execute(f"delete from raw.{spec.file_type} where _source_file_sha256 in "
                    f"(select unnest(?::varchar[]))", [previous])
        con.execute("update ingest.files set status = 'superseded' where slot = ? "
                    "and status = 'loaded'", [slot])
    con.execute(f"""
        insert into raw.{spec.file_type}
        select {", ".join(select_cols)}, ?, ?, _source_row, ?, ?
        from _checked where len(_violations) = 0""",
                [path.name, env.sha256, now, school_year])
    con.execute("delete from ingest.quarantine where sha256 = ?", [env.sha256])
    con.execute("""
        insert into ingest.quarantine
        select ?, ?, ?, _source_row, v.rule, v.column, ?
        from (select _source_row, unnest(_violations) as v from _checked)
        union all
        select ?, ?, ?, source_row, 'malformed_row', null, ? from _malformed""",
                [env.sha256, path.name, spec.file_type, now] * 2)
    _record_row_findings(con, spec, insz, env.sha256, path.name, now)
    loaded = con.execute(f"select count(*) from raw.{spec.file_type} "
                         f"where _source_file_sha256 = ?", [env.sha256]).fetchone()[0]
    quarantined = con.execute("select count(distinct source_row) from ingest.quarantine "
                              "where sha256 = ?", [env.sha256]).fetchone()[0]
    if loaded + quarantined != env.data_lines:
        con.execute("rollback")
        raise RuntimeError(f"{path.name}: {env.data_lines} received but {loaded} loaded + "
                           f"{quarantined} quarantined; nothing was committed")
    con.execute("commit")

    rule_counts = dict(con.execute(
        "select rule || coalesce(':' || column_name, ''), count(*) from ingest.quarantine "
        "where sha256 = ? group by all order by all", [env.sha256]).fetchall())
    examples = con.execute(
        "select source_row, rule, column_name from ingest.quarantine where sha256 = ? "
        "order by source_row limit ?", [env.sha256, EXAMPLES_IN_MESSAGES]).fetchall()
    message = "; ".join(f"{path.name} row {r}: {rule}" + (f" ({c})" if c else "")
                        for r, rule, c in examples)
    if quarantined:
        log.warning("%s: %d of %d rows quarantined, e.g. %s", path.name, quarantined,
                    env.data_lines, message)
    for t in ("_parsed", "_in", "_checked", "_malformed"):
        con.execute(f"drop table if exists {t}")
    return FileResult(path.name, spec.file_type, env.sha256, "loaded", slot, school_year,
                      env.data_lines, loaded, quarantined, message, rule_counts)


def _record_row_findings(con: duckdb.DuckDBPyConnection, spec: SourceFile, insz: Column | None,
                         sha: str, file_name: str, now: dt.datetime) -> None:
    """Rules that need the INSZ itself, checked here because the INSZ never leaves ingestion.

    They do not quarantine the row (the data may still be right); they are article-7 findings
    for the quality layer, recorded with the row number and pupil key, never the value.
    - insz_birth_date_mismatch: the birth date encoded in the INSZ (YYMMDD; BIS months +20/+40;
      month or day 00 = unknown, not checked) differs from the file's birth-date column.
    """
    con.execute("delete from ingest.row_findings where sha256 = ?", [sha])
    birth = next((c for c in spec.columns if c.header == "Geboortedatum" and c.type == "date"), None)
    if insz is None or birth is None:
        return
    n = f"regexp_replace(_in.\"{insz.name}\", '\\D', '', 'g')"
    month = f"(cast(substr({n}, 3, 2) as int) % 20)"
    born = f"strptime({_value(birth)}, '{spec.date_format}')"
    con.execute(f"""
        insert into ingest.row_findings
        select ?, ?, ?, _source_row, _pupil_key, 'insz_birth_date_mismatch', ?, ?
        from _checked _in
        where len(_violations) = 0 and {_value(birth)} is not null
          and {month} <> 0 and substr({n}, 5, 2) <> '00'
          and (strftime({born}, '%y') <> substr({n}, 1, 2) or month({born}) <> {month}
               or day({born}) <> cast(substr({n}, 5, 2) as int))""",
                [sha, file_name, spec.file_type, birth.header, now])


def _key_expr(spec: SourceFile, insz: Column | None) -> str:
    """The key that ties a vault identity row to its warehouse row."""
    if insz is not None:
        return "_pupil_key"
    keys = [c for c in spec.columns if c.name in spec.key_columns]
    parts = " || '|' || ".join(f"coalesce({_value(c)}, '')" for c in keys)
    return f"hmac_record('{spec.file_type}|' || {parts})"


def is_valid_insz(number: str) -> bool:
    """python-stdnum's ``be.ssn.is_valid`` (a national number or a BIS number), asking ``nn``
    first: almost every pupil has a national number, and ``ssn`` tries BIS first, which halves
    the throughput on millions of numbers. Same answers (tests/ingestion compares them)."""
    return nn.is_valid(number) or bis.is_valid(number)


def _register_insz(con: duckdb.DuckDBPyConnection, insz: Column, now: dt.datetime,
                   master: pseudo.MasterKey) -> None:
    """Validate the file's new INSZ numbers with python-stdnum (NN and BIS) and give each valid
    one its keyed pupil key in the vault. Only numbers never seen before reach Python."""
    con.execute(f"""
        create or replace temp table _insz_distinct as
        select distinct regexp_replace(coalesce("{insz.name}", ''), '\\D', '', 'g') as insz
        from _in""")
    new = [r[0] for r in con.execute(
        "select insz from _insz_distinct anti join vault.insz_register using (insz) "
        "where insz <> ''").fetchall()]
    valid = [v for v in new if is_valid_insz(v)]
    pseudo.register_hmac(con, "pupil", pseudo.pupil_key_secret(master))
    if valid:
        con.execute("create or replace temp table _insz_new (insz varchar)")
        con.execute("insert into _insz_new select unnest(?::varchar[])", [valid])
        con.execute("begin")
        con.execute("insert into vault.insz_register select insz, hmac_pupil(insz), ? "
                    "from _insz_new", [now])
        con.execute("commit")
    con.execute("""
        create or replace temp table _insz_ok as
        select d.insz as _insz_norm, r.pupil_key, r.pupil_key is not null as valid
        from _insz_distinct d left join vault.insz_register r using (insz)""")


def _reject(con, p: Paths, spec: SourceFile, path: Path, env: Envelope | None, slot: str,
            school_year: str, reference_date, e: FileRejected, now) -> FileResult:
    """Keep a rejected file in the restricted quarantine folder and record it."""
    sha = env.sha256 if env else sha256_of(path)
    target = p.quarantine_files / spec.source / f"{sha[:12]}_{path.name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copy2(path, target)
    received = env.data_lines if env else _count_lines(path)
    _record_file(con, spec, path, sha, path.stat().st_size, slot, school_year, reference_date,
                 received, 0, received, "rejected", str(e), now)
    con.execute("delete from ingest.quarantine where sha256 = ?", [sha])
    con.execute("insert into ingest.quarantine values (?, ?, ?, 0, ?, null, ?)",
                [sha, path.name, spec.file_type, f"file_rejected:{e.rule}", now])
    log.error("%s", e)
    return FileResult(path.name, spec.file_type, sha, "rejected", slot, school_year, received, 0,
                      received, str(e), {f"file_rejected:{e.rule}": 1})


def _record_file(con, spec: SourceFile, path: Path, sha: str, size: int, slot: str,
                 school_year: str, reference_date, received: int, loaded: int, quarantined: int,
                 status: str, message: str, now) -> None:
    con.execute("insert into ingest.files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [path.name, spec.source, spec.file_type, sha, size, slot, school_year,
                 reference_date, received, loaded, quarantined, status, message[:2000], now])


def _count_lines(path: Path) -> int:
    """Records of a file that could not be read as text: its lines after the header."""
    with path.open("rb") as f:
        return max(sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 23), b"")) - 1, 0)
