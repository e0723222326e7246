"""Loading one delivered file: validate every row set-based in DuckDB, split personal
identifiers into the vault, write the pseudonymised rows to ``raw``, quarantine the rest.

Invariants this module guarantees, per file:
- received rows = loaded rows + quarantined rows (checked before anything is committed);
  received counts records, whatever the line endings (``files.read_envelope``);
- the same bytes load once (deduplicated by SHA-256), so reruns change nothing; a copy under a
  new name is recorded (status ``duplicate``) but not loaded;
- a re-delivery of the same slot (file type + school year / reference date / list kind)
  supersedes the earlier one in ``raw``; the history stays in ``ingest.files``. One that would
  shrink the slot sharply or to nothing is **held** for the data steward instead, and a file
  whose dates are in another format than the contract's is rejected whole: worse data never
  replaces better;
- a file rejected whole or held leaves the inbox for the quarantine folder (restricted), so it
  never breaks its source on every run; nothing that fails while reading escapes as an error;
- no INSZ, name or address reaches the warehouse file; quarantined raw content and identities
  live only in the vault (the restricted zone); the warehouse keeps file, row, rule and column.
"""

from __future__ import annotations

import codecs
import datetime as dt
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from stdnum.be import bis, nn

from orchestration.foundations import pseudonymisation as pseudo
from orchestration.foundations import school_year as sy
from orchestration.foundations.hashing import sha256_of
from orchestration.foundations.raw_layout import (has_personal_record_key, raw_columns,
                                                  slot_of)
from orchestration.foundations.settings import Paths, move_owner_only
from orchestration.foundations.sources import Column, SourceFile
from orchestration.ingestion.files import (Envelope, FileHeld, FileRejected, check_header,
                                           read_envelope)

log = logging.getLogger(__name__)

EXAMPLES_IN_MESSAGES = 10
# A re-delivery that would leave its slot with fewer than this share of the loaded rows it has
# now (or with none) is held for the data steward instead of replacing the earlier file.
SHRINK_HOLD_BELOW = 0.5
# Date formats a source may have used instead of its contract's: a column whose dates mostly read
# in one of these (and not in the contract's) is a file-level error, not a row-level one.
OTHER_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d", "%d.%m.%Y", "%Y%m%d",
                      "%m/%d/%Y")


@dataclass
class FileResult:
    """What happened to one file; safe to log and to show as metadata (no personal values)."""

    file_name: str
    file_type: str
    sha256: str
    status: str  # loaded | rejected | held | duplicate
    slot: str = ""
    school_year: str | None = None
    received: int = 0
    loaded: int = 0
    quarantined: int = 0
    message: str = ""
    rule_counts: dict[str, int] = field(default_factory=dict)
    new_copy: bool = False  # a duplicate under a name not seen before: recorded and audited


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


def _kept(c: Column) -> str:
    """The value as ``_checked`` keeps it: already trimmed, an empty one null."""
    return f'"{c.name}"'


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
                           f"{v} is not null and not _insz_valid"))
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
    (the whole run stops) unless that use was allowed explicitly. Any other failure rejects the
    file whole: it leaves the inbox for the quarantine folder and never breaks its source.
    """
    slot, school_year, reference_date = slot_of(spec, groups)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        env = read_envelope(path, p.scratch)
    except FileRejected as e:
        return _reject(con, p, spec, path, None, slot, school_year, reference_date, e, now)
    except Exception as e:  # noqa: BLE001 - an unreadable file must not stop its source
        return _reject(con, p, spec, path, None, slot, school_year, reference_date,
                       _unreadable(path, e), now)
    try:
        return _load_envelope(con, p, spec, path, env, slot, school_year, reference_date,
                              master, sample_hashes, now)
    finally:
        env.discard_scratch()


def _unreadable(path: Path, e: BaseException) -> FileRejected:
    """A failure nobody foresaw, described by its kind only (its text may quote the file)."""
    log.exception("%s: unexpected %s while reading; the file is rejected whole", path.name,
                  type(e).__name__, exc_info=False)
    return FileRejected(path.name, "unreadable",
                        f"the file could not be read ({type(e).__name__}); nothing of it was "
                        f"loaded")


def _load_envelope(con: duckdb.DuckDBPyConnection, p: Paths, spec: SourceFile, path: Path,
                   env: Envelope, slot: str, school_year: str, reference_date: dt.date | None,
                   master: pseudo.MasterKey, sample_hashes: frozenset[str], now: dt.datetime
                   ) -> FileResult:
    if (master.is_development_key and env.sha256 not in sample_hashes
            and not pseudo.development_key_allowed_explicitly()):
        raise DevelopmentKeyRefused(
            f"{path.name} is not part of the synthetic sample and no master key is set: set "
            f"{pseudo.ENV_MASTER_KEY} (or {pseudo.ENV_ALLOW_DEVELOPMENT_KEY}=1 for synthetic "
            f"test data only)")
    seen = con.execute(
        "select status, file_name from ingest.files where sha256 = ? and file_type = ? "
        "and status in ('loaded', 'superseded', 'rejected', 'held', 'erased') "
        "order by ingested_at limit 1", [env.sha256, spec.file_type]).fetchone()
    released = con.execute("select count(*) from ingest.files where sha256 = ? and "
                           "file_type = ? and status = 'released'",
                           [env.sha256, spec.file_type]).fetchone()[0] > 0
    if seen and not (released and seen[0] == "held"):
        return _duplicate(con, p, spec, path, env, slot, school_year, reference_date, seen, now)
    try:
        check_header(spec, path.name, env.header)
        if school_year not in sy.ALL:
            raise FileRejected(path.name, "out_of_range",
                               f"school year {school_year} is outside {sy.ALL[0]}..{sy.ALL[-1]}")
        result = _load_rows(con, spec, path, env, slot, school_year, reference_date, master,
                            now, allow_shrink=released)
    except FileRejected as e:
        _rollback_if_open(con)
        return _reject(con, p, spec, path, env, slot, school_year, reference_date, e, now)
    except duckdb.Error as e:
        _rollback_if_open(con)
        return _reject(con, p, spec, path, env, slot, school_year, reference_date,
                       _unreadable(path, e), now)
    return result


def _rollback_if_open(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("rollback")
    except duckdb.Error:
        pass  # no transaction was open


def _duplicate(con: duckdb.DuckDBPyConnection, p: Paths, spec: SourceFile, path: Path,
               env: Envelope, slot: str, school_year: str, reference_date: dt.date | None,
               seen: tuple[str, str], now: dt.datetime) -> FileResult:
    """Bytes already taken in: nothing is loaded again. A copy under a new name is recorded
    (``ingest.files`` status ``duplicate``, and so in the audit trail) once; a copy of a file
    set aside (rejected or held) leaves the inbox as the original did."""
    status, original = seen
    message = (f"{path.name}: same SHA-256 as {original} ({status}); not loaded again"
               if original != path.name else f"{path.name}: already ingested ({status})")
    new_copy = original != path.name and con.execute(
        "select count(*) from ingest.files where sha256 = ? and file_type = ? and file_name = ?",
        [env.sha256, spec.file_type, path.name]).fetchone()[0] == 0
    if new_copy:
        _record_file(con, spec, path, env.sha256, env.size_bytes, slot, school_year,
                     reference_date, 0, 0, 0, "duplicate", message, now)
        log.warning("%s", message)
    if status in ("rejected", "held") and path.exists():
        _set_aside(p, spec, path, env.sha256)
    return FileResult(path.name, spec.file_type, env.sha256, "duplicate", slot, school_year,
                      message=message, new_copy=new_copy)


def _load_rows(con: duckdb.DuckDBPyConnection, spec: SourceFile, path: Path, env: Envelope,
               slot: str, school_year: str, reference_date: dt.date | None,
               master: pseudo.MasterKey, now: dt.datetime,
               allow_shrink: bool = False) -> FileResult:
    insz = _insz_column(spec)
    if insz is not None:
        pseudo.register_hmac(con, "pupil", pseudo.pupil_key_secret(master))
        con.execute(INSZ_VALID_MACRO)
    pseudo.register_hmac(con, "record", pseudo.record_key_secret(master))
    con.execute("set preserve_insertion_order = true")  # row numbers follow the file
    try:
        con.execute("drop table if exists _rejects; drop table if exists _reject_scans")
        try:
            con.execute(_checked_sql(spec, insz), [str(env.parse_path or path)])
        except duckdb.Error as e:
            # DuckDB's message quotes the offending line: only its kind goes out.
            raise FileRejected(path.name, "csv_structure",
                               f"unreadable as CSV ({type(e).__name__})") from None
    finally:
        con.execute("set preserve_insertion_order = false")
    if env.interior_blank_lines:
        raise FileRejected(path.name, "blank_lines",
                           f"{env.interior_blank_lines} blank line(s) between records: row "
                           f"numbers would no longer match the file")
    good = con.execute("select count(*) from _checked").fetchone()[0]
    malformed = con.execute(
        "create or replace temp table _malformed as select line - 1 as source_row, "
        "string_agg(distinct error_type, ', ') as detail, any_value(csv_line) as csv_line "
        "from _rejects group by line; select count(*) from _malformed").fetchone()[0]
    if good + malformed != env.records:
        raise FileRejected(path.name, "record_count",
                           f"{env.records} records counted but the CSV parser read "
                           f"{good + malformed}: the quoting is not valid CSV")
    if malformed:
        # True row numbers of the good records: the data rows that were not rejected, in
        # order. Only a file with rejected records needs this second copy.
        con.execute("""
        create or replace temp table _checked as
        with numbered as (
            select n.range + 1 as _source_row from range(?) n
            anti join _malformed m on m.source_row = n.range + 1),
        ranked as (select _source_row, row_number() over (order by _source_row) as _good_index
                   from numbered)
        select c.* replace (r._source_row as _source_row)
        from _checked c join ranked r using (_good_index)""", [env.records])
    _check_date_format(con, spec, path)
    if insz is not None:
        _register_insz(con, now)
    if not allow_shrink:
        _check_shrink(con, path, slot, env.records)

    # ---- the vault side: quarantined raw content and identities (restricted zone)
    con.execute("begin")
    con.execute("delete from vault.quarantine_rows where sha256 = ?", [env.sha256])
    con.execute(f"""
        insert into vault.quarantine_rows
        select ?, ?, ?, _source_row,
               array_to_string(list_transform(_violations, lambda x: x.rule || ':' || x.column), '; '),
               _record
        from _checked where len(_violations) > 0
        union all
        select ?, ?, ?, source_row, 'malformed_row:' || detail, csv_line from _malformed""",
                [env.sha256, path.name, spec.file_type] * 2)
    vault_cols = [c for c in spec.columns if c.sensitivity == "vault"]
    key_expr = _key_expr(spec, insz)
    if vault_cols:
        con.execute(f"""
            delete from vault.identity_{spec.file_type} where _source_file_sha256 = ? or
                _source_file_sha256 in (
                select sha256 from ingest.files where slot = ? and status = 'loaded')""",
                    [env.sha256, slot])
        con.execute(f"""
            insert into vault.identity_{spec.file_type}
            select {key_expr}, {", ".join(_kept(c) for c in vault_cols)}, ?, _source_row, ?
            from _checked where len(_violations) = 0""", [env.sha256, school_year])
    con.execute("commit")

    # ---- the warehouse side: pseudonymised rows, quarantine log without values
    select_cols = []
    for c in spec.columns:
        if c.sensitivity == "insz":
            select_cols.append("_pupil_key")
        elif c.sensitivity == "plain":
            select_cols.append(_kept(c))
    if has_personal_record_key(spec):
        select_cols.append(key_expr)
    if vault_cols:  # tells a second version of a record from an exact copy (raw_layout)
        values = " || '|' || ".join(f"coalesce({_kept(c)}, '')" for c in vault_cols)
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
        from (select _source_row, unnest(_violations) as v from _checked
              where len(_violations) > 0)
        union all
        select ?, ?, ?, source_row, 'malformed_row', null, ? from _malformed""",
                [env.sha256, path.name, spec.file_type, now] * 2)
    _record_row_findings(con, spec, insz, env.sha256, path.name, now)
    loaded = con.execute(f"select count(*) from raw.{spec.file_type} "
                         f"where _source_file_sha256 = ?", [env.sha256]).fetchone()[0]
    quarantined = con.execute("select count(distinct source_row) from ingest.quarantine "
                              "where sha256 = ?", [env.sha256]).fetchone()[0]
    if loaded + quarantined != env.records:
        con.execute("rollback")
        raise RuntimeError(f"{path.name}: {env.records} received but {loaded} loaded + "
                           f"{quarantined} quarantined; nothing was committed")
    rule_counts = dict(con.execute(
        "select rule || coalesce(':' || column_name, ''), count(*) from ingest.quarantine "
        "where sha256 = ? group by all order by all", [env.sha256]).fetchall())
    examples = con.execute(
        "select source_row, rule, column_name from ingest.quarantine where sha256 = ? "
        "order by source_row limit ?", [env.sha256, EXAMPLES_IN_MESSAGES]).fetchall()
    message = "; ".join(f"{path.name} row {r}: {rule}" + (f" ({c})" if c else "")
                        for r, rule, c in examples)
    # The file's row in ingest.files commits with its rows: a crash leaves both or neither
    # (the audit entry follows; orchestration.ingestion.inbox.reconcile_audit writes a missing one).
    _record_file(con, spec, path, env.sha256, env.size_bytes, slot, school_year, reference_date,
                 env.records, loaded, quarantined, "loaded", message, now)
    con.execute("commit")
    if quarantined:
        log.warning("%s: %d of %d rows quarantined, e.g. %s", path.name, quarantined,
                    env.records, message)
    for t in ("_checked", "_malformed"):
        con.execute(f"drop table if exists {t}")
    return FileResult(path.name, spec.file_type, env.sha256, "loaded", slot, school_year,
                      env.records, loaded, quarantined, message, rule_counts)


_FORMAT_NAMES = {"%d/%m/%Y": "dd/mm/yyyy", "%d-%m-%Y": "dd-mm-yyyy", "%Y-%m-%d": "yyyy-mm-dd",
                 "%Y/%m/%d": "yyyy/mm/dd", "%d.%m.%Y": "dd.mm.yyyy", "%Y%m%d": "yyyymmdd",
                 "%m/%d/%Y": "mm/dd/yyyy"}


def _check_date_format(con: duckdb.DuckDBPyConnection, spec: SourceFile, path: Path) -> None:
    """Reject the file whole when a date column is written in another format than the
    contract's (e.g. ISO instead of dd/mm/yyyy): more than half of its dates fail the contract
    and read in another format. Quarantining every row would empty the slot instead."""
    dates = [c for c in spec.columns if c.type == "date"]
    if not dates:
        return
    # First one parse per value (what the row rules cost anyway); the other formats are tried
    # only on a column where most values fail the contract's.
    counts = con.execute("select " + ", ".join(
        f"count({_kept(c)}), count(*) filter (where try_strptime({_kept(c)}, "
        f"'{spec.date_format}') is null and {_kept(c)} is not null)" for c in dates)
        + " from _checked").fetchone()
    suspicious = [(c, counts[2 * i]) for i, c in enumerate(dates)
                  if counts[2 * i + 1] * 2 > counts[2 * i]]
    others = [f for f in OTHER_DATE_FORMATS if f != spec.date_format]
    wrong = []
    for c, present in suspicious:
        v = _kept(c)
        per_format = con.execute("select " + ", ".join(
            f"count(*) filter (where try_strptime({v}, '{spec.date_format}') is null "
            f"and try_strptime({v}, '{f}') is not null)" for f in others) + ", "
            f"count(*) filter (where try_strptime({v}, '{spec.date_format}') is null and ("
            + " or ".join(f"try_strptime({v}, '{f}') is not null" for f in others)
            + ")) from _checked").fetchone()
        other = per_format[-1]
        if other * 2 > present:
            used = others[max(range(len(others)), key=lambda k: per_format[k])]
            wrong.append(f"{c.header} ({other} of {present} dates read as "
                         f"{_FORMAT_NAMES.get(used, used)})")
    if wrong:
        raise FileRejected(path.name, "date_format",
                           f"dates in another format than the contract's "
                           f"{_FORMAT_NAMES.get(spec.date_format, spec.date_format)}: "
                           + "; ".join(wrong))


def _check_shrink(con: duckdb.DuckDBPyConnection, path: Path, slot: str, records: int) -> None:
    """Hold a re-delivery that would leave its slot with far fewer loaded rows (or none): the
    earlier file stays until the data steward releases this one (``release_held``)."""
    before = con.execute("select coalesce(sum(loaded_rows), 0), string_agg(file_name, ', ') "
                         "from ingest.files where slot = ? and status = 'loaded'",
                         [slot]).fetchone()
    if not before[0]:
        return
    after = con.execute("select count(*) from _checked where len(_violations) = 0").fetchone()[0]
    if after < before[0] * SHRINK_HOLD_BELOW:
        raise FileHeld(path.name, "shrink",
                       f"{after} of {records} rows would load, where the slot now holds "
                       f"{before[0]} loaded rows of {before[1]} (less than "
                       f"{SHRINK_HOLD_BELOW:.0%}); the earlier file stays loaded. Release it "
                       f"with python -m orchestration.ingestion --release-held {path.name} "
                       f"--reason '...' if it is right")


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
    n = "_insz_norm"
    month = f"(cast(substr({n}, 3, 2) as int) % 20)"
    born = f"strptime({_kept(birth)}, '{spec.date_format}')"
    con.execute(f"""
        insert into ingest.row_findings
        select ?, ?, ?, _source_row, _pupil_key, 'insz_birth_date_mismatch', ?, ?
        from _checked
        where len(_violations) = 0 and {_kept(birth)} is not null
          and {month} <> 0 and substr({n}, 5, 2) <> '00'
          and (strftime({born}, '%y') <> substr({n}, 1, 2) or month({born}) <> {month}
               or day({born}) <> cast(substr({n}, 5, 2) as int))""",
                [sha, file_name, spec.file_type, birth.header, now])


def _key_expr(spec: SourceFile, insz: Column | None) -> str:
    """The key that ties a vault identity row to its warehouse row."""
    if insz is not None:
        return "_pupil_key"
    keys = [c for c in spec.columns if c.name in spec.key_columns]
    parts = " || '|' || ".join(f"coalesce({_kept(c)}, '')" for c in keys)
    return f"hmac_record('{spec.file_type}|' || {parts})"


def is_valid_insz(number: str) -> bool:
    """python-stdnum's ``be.ssn.is_valid`` (a national number or a BIS number), asking ``nn``
    first. Ingestion validates in SQL (:data:`INSZ_VALID_MACRO`); this is the oracle the tests
    compare it with."""
    return nn.is_valid(number) or bis.is_valid(number)


# python-stdnum's ``be.nn`` / ``be.bis`` validation of a digits-only string, in SQL, so the
# file's new numbers never travel to Python and back: 11 digits, not all zero; check digits
# 97 - (first nine mod 97), or for the born from 2000 on (years up to this one) the same with a
# 2 before the nine; month 0-12 (national number) or 20-32 / 40-52 (BIS number, +20 / +40).
# (stdnum's birth-date check adds nothing once the month is in those ranges.)
INSZ_VALID_MACRO = """
create or replace temp macro insz_valid(v) as coalesce(
    length(v) = 11 and regexp_full_match(v, '[0-9]{11}') and try_cast(v as bigint) > 0
    and (97 - try_cast(left(v, 9) as bigint) % 97 = try_cast(right(v, 2) as int)
         or (try_cast(left(v, 2) as int) + 2000 <= year(current_date)
             and 97 - (2000000000 + try_cast(left(v, 9) as bigint)) % 97
                 = try_cast(right(v, 2) as int)))
    and (try_cast(substr(v, 3, 2) as int) between 0 and 12
         or try_cast(substr(v, 3, 2) as int) between 20 and 32
         or try_cast(substr(v, 3, 2) as int) between 40 and 52), false)"""


def _register_insz(con: duckdb.DuckDBPyConnection, now: dt.datetime) -> None:
    """Give each valid INSZ the vault has not seen yet its keyed pupil key (computed with the
    rows in ``_checked``: NN and BIS validated by the checks of python-stdnum, in SQL)."""
    con.execute("begin")
    con.execute("insert into vault.insz_register select _insz_norm, any_value(_pupil_key), ? "
                "from _checked where _insz_new group by _insz_norm", [now])
    con.execute("commit")


def _checked_sql(spec: SourceFile, insz: Column | None) -> str:
    """The file parsed once into ``_checked``: its values as text, its row number, the pupil
    key and the INSZ validity (the vault's register, else the checksum and the keyed hash),
    and the rules each row breaks, in one statement. Malformed records go to ``_rejects``."""
    types = ", ".join(f"'{c.name}': 'VARCHAR'" for c in spec.columns)
    parsed = (f"select *, row_number() over () as _good_index from read_csv(?, delim=';', "
              f"quote='\"', escape='\"', header=true, auto_detect=false, columns={{{types}}}, "
              f"store_rejects=true, rejects_table='_rejects', rejects_scan='_reject_scans', "
              f"encoding='utf-8')")
    if insz is not None:
        # Numbers the register knows are valid with a key; only new ones are checked and hashed.
        keyed = f"""
        select parsed.*, r.pupil_key as _known_key,
               r.pupil_key is not null or insz_valid(_insz_norm) as _insz_valid
        from (select *, regexp_replace(coalesce("{insz.name}", ''), '\\D', '', 'g')
                        as _insz_norm from ({parsed})) parsed
        left join vault.insz_register r on r.insz = parsed._insz_norm"""
        extra = ("case when _known_key is not null then _known_key when _insz_valid "
                 "then hmac_pupil(_insz_norm) end as _pupil_key, "
                 "_known_key is null and _insz_valid as _insz_new")
    else:
        keyed, extra = parsed, "null::varchar as _pupil_key"
    checks = _rule_checks(spec)
    conditions = ", ".join(
        f"case when {cond} then {{'rule': '{rule}', 'column': '{col}'}} end"
        for rule, col, cond in checks) or "null"
    # The list of violations is built only for rows that break a rule (few): building it for
    # every row costs more than the checks themselves.
    any_broken = " or ".join(f"coalesce({cond}, false)" for _, _, cond in checks) or "false"
    # Values are kept as raw and the vault take them (trimmed, empty as null); a row that breaks
    # a rule also keeps its record as received, for the vault's quarantine.
    values = ", ".join(f'{_value(c)} as "{c.name}"' for c in spec.columns)
    record = "to_json({" + ", ".join(f"'{c.header}': \"{c.name}\"" for c in spec.columns) + "})"
    return f"""
        create or replace temp table _checked as
        select {values}, {"_insz_norm, " if insz is not None else ""}_good_index,
               _good_index as _source_row, {extra},
               case when {any_broken}
                    then list_filter([{conditions}], lambda x: x is not null)
                    else []::struct(rule varchar, "column" varchar)[] end as _violations,
               case when {any_broken} then {record}::varchar end as _record
        from ({keyed}) _in"""


def _reject(con, p: Paths, spec: SourceFile, path: Path, env: Envelope | None, slot: str,
            school_year: str, reference_date, e: FileRejected, now) -> FileResult:
    """Move a file rejected whole (or held) out of the inbox into the restricted quarantine
    folder, kept as received, and record it: received = quarantined, nothing loaded."""
    sha = env.sha256 if env else sha256_of(path)
    size = path.stat().st_size
    received = env.records if env else _count_lines(path)
    con.execute("begin")  # the file's row and its quarantine entry: both or neither
    _record_file(con, spec, path, sha, size, slot, school_year, reference_date,
                 received, 0, received, e.status, str(e), now)
    con.execute("delete from ingest.quarantine where sha256 = ?", [sha])
    rule = f"file_{e.status}:{e.rule}"
    con.execute("insert into ingest.quarantine values (?, ?, ?, 0, ?, null, ?)",
                [sha, path.name, spec.file_type, rule, now])
    con.execute("commit")
    # Set aside only once recorded: a crash before this leaves the file in the inbox, and the
    # next run finds it recorded (a duplicate of a rejected or held file) and sets it aside then.
    _set_aside(p, spec, path, sha)
    log.error("%s", e)
    return FileResult(path.name, spec.file_type, sha, e.status, slot, school_year, received, 0,
                      received, str(e), {rule: 1})


def release_held(con: duckdb.DuckDBPyConnection, p: Paths, file_name: str, reason: str) -> Path:
    """The data steward accepts a held file: it goes back to its inbox and the next ingestion
    loads it even though it shrinks its slot. A forced action, so it needs a reason (audited)."""
    from orchestration.foundations import audit
    from orchestration.foundations.sources import BY_FILE_TYPE

    if not reason.strip():
        raise ValueError("releasing a held file is a forced action: give a reason")
    row = con.execute("select sha256, file_type from ingest.files where file_name = ? and "
                      "status = 'held' order by ingested_at desc limit 1", [file_name]).fetchone()
    if row is None:
        raise ValueError(f"{file_name}: no held file of that name in ingest.files")
    sha, file_type = row
    spec = BY_FILE_TYPE[file_type]
    kept = quarantine_path(p, spec, sha, file_name)
    target = p.inbox_of(spec.source) / file_name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(kept, target)
    con.execute("update ingest.files set status = 'released' where sha256 = ? and "
                "file_type = ? and status = 'held'", [sha, file_type])
    audit.record("forced_action", action="ingestion: release a held file that shrinks its slot",
                 reason=reason.strip(), file=file_name, sha256=sha, file_type=file_type)
    return target


def quarantine_path(p: Paths, spec: SourceFile, sha: str, file_name: str) -> Path:
    """Where a file set aside whole is kept: ``restricted/quarantine/<source>/<sha12>_<name>``."""
    return p.quarantine_files / spec.source / f"{sha[:12]}_{file_name}"


def _set_aside(p: Paths, spec: SourceFile, path: Path, sha: str) -> Path:
    """Move a file out of the inbox into the quarantine folder (owner-only, as received)."""
    return move_owner_only(path, quarantine_path(p, spec, sha, path.name))


def _record_file(con, spec: SourceFile, path: Path, sha: str, size: int, slot: str,
                 school_year: str, reference_date, received: int, loaded: int, quarantined: int,
                 status: str, message: str, now) -> None:
    con.execute("insert into ingest.files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [path.name, spec.source, spec.file_type, sha, size, slot, school_year,
                 reference_date, received, loaded, quarantined, status, message[:2000], now])


def _count_lines(path: Path) -> int:
    """Records of a file that could not be read as UTF-8: its lines after the header, whatever
    ends them (LF, CRLF or CR). Single-byte encodings (latin-1, cp1252) count as bytes; a file
    with a UTF-16 byte-order mark is decoded first (its line ends are two bytes wide)."""
    with path.open("rb") as f:
        start = f.read(2)
    if start in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        try:
            text = path.read_text(encoding="utf-16")
        except UnicodeDecodeError:
            pass
        else:
            return max(len(text.splitlines()) - 1, 0)
    lines, last = 0, b""
    with path.open("rb") as f:
        while chunk := f.read(1 << 23):
            lines += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n") \
                - (last == b"\r" and chunk[:1] == b"\n")
            last = chunk[-1:]
    if last and last not in b"\r\n":
        lines += 1
    return max(lines - 1, 0)

