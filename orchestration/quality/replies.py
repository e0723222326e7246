"""The source's answer to an article-7 report: a status per finding, admitted like an extract.

Each report (``<outbox>/quality/<source>/<date>/``) carries a reply template named as the source
sends its answer back: ``<source>_antwoord_art7_<date>.csv`` (``;``-separated, UTF-8), header
``bevinding;status;datum``, one line per finding:

- ``bevinding``: the finding id of the report;
- ``status``: ``ontvangen`` (acknowledged: being investigated), ``verbeterd`` (corrected: a new
  file follows or was sent) or ``betwist`` (disputed: the source holds its data right);
  the English words are accepted too;
- ``datum``: the day of that status (``2026-12-07`` or ``07/12/2026``), not in the future and not
  before the finding was reported.

The source drops the file in its own inbox (``data/inbox/<source>/``); ingestion leaves it alone
and the article-7 quality step of the next main run admits it here. Like an extract: a file is
known by its SHA-256 (the same bytes apply once), a wrong header or an unreadable file is
rejected whole, every row is checked and a bad row is rejected with its rule while the good rows
apply (received = applied + rejected), and every file is recorded (``quality.reply_files``) and
audited. Errors name file, row, rule and column, never a value; they go back to the source as
``<outbox>/quality/<source>/replies/<file>.fouten.csv``. The file then leaves the inbox for
``data/quality/replies/<source>/``.

A reply never resolves a finding: only data does (a corrected file, a later extract). It states
where the source stands: ``quality.findings.reply_status`` / ``replied_on`` (the latest reply),
the history in ``quality.finding_replies``; the reports show it.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.foundations import audit, settings
from orchestration.foundations.hashing import sha256_of
from orchestration.foundations.sources import SOURCES, is_reply
from orchestration.quality import register

HEADER = ("bevinding", "status", "datum")
#: status as the source writes it -> status in the register
STATUSES = {"ontvangen": "acknowledged", "verbeterd": "corrected", "betwist": "disputed",
            "acknowledged": "acknowledged", "corrected": "corrected", "disputed": "disputed"}
STATUS_NL = {"acknowledged": "ontvangen", "corrected": "verbeterd", "disputed": "betwist"}
ACCEPTED, PARTLY, REJECTED, DUPLICATE = "accepted", "partly_accepted", "rejected", "duplicate"
ERROR_COLUMNS = ("bestand", "rij", "regel", "kolom")


@dataclass
class ReplyResult:
    """One reply file admitted: counts and errors only (no values)."""

    file: str
    source: str
    sha256: str
    status: str
    received: int = 0
    applied: int = 0
    rejected: int = 0
    errors: list[tuple[int, str, str | None]] = field(default_factory=list)  # row, rule, column

    def message(self) -> str:
        head = (f"{self.file}: {self.status} (received {self.received}, applied {self.applied}, "
                f"rejected {self.rejected})")
        shown = "; ".join(f"row {r}: {rule}" + (f" ({c})" if c else "")
                          for r, rule, c in self.errors[:5])
        return head + (f": {shown}" + (" ..." if len(self.errors) > 5 else "") if shown else "")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """The reply tables (idempotent); the register's reply columns come with its schema."""
    register.ensure_schema(con)
    con.execute("""
        create table if not exists quality.reply_files (
            file_name varchar not null, sha256 varchar primary key, source varchar not null,
            received_at timestamp not null, status varchar not null,
            received_rows bigint not null, applied_rows bigint not null,
            rejected_rows bigint not null, moved_to varchar)""")
    con.execute("""
        create table if not exists quality.reply_errors (
            sha256 varchar not null, file_name varchar not null,
            source_row bigint not null,         -- 1 = the first line after the header; 0 = file
            rule varchar not null, column_name varchar)""")
    con.execute("""
        create table if not exists quality.finding_replies (
            finding_id varchar not null, source varchar not null,
            reply_status varchar not null,      -- acknowledged | corrected | disputed
            replied_on date not null, file_name varchar not null, sha256 varchar not null,
            source_row bigint not null, received_at timestamp not null)""")


def pending(p: settings.Paths, sources: tuple[str, ...] | list[str] = SOURCES) -> list[Path]:
    """Reply files waiting in the sources' inboxes, per source in name order."""
    found = []
    for source in sources:
        folder = p.inbox_of(source)
        if folder.exists():
            found += sorted(f for f in folder.iterdir() if f.is_file() and is_reply(f.name, source))
    return found


def admit_all(con: duckdb.DuckDBPyConnection, p: settings.Paths,
              today: dt.date | None = None) -> list[ReplyResult]:
    """Admit every reply waiting in an inbox (see the module docstring)."""
    today = today or dt.date.today()
    ensure_schema(con)
    return [admit(con, p, path, today) for path in pending(p)]


def admit(con: duckdb.DuckDBPyConnection, p: settings.Paths, path: Path,
          today: dt.date) -> ReplyResult:
    source = path.parent.name
    sha = sha256_of(path)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if con.execute("select 1 from quality.reply_files where sha256 = ?", [sha]).fetchone():
        result = ReplyResult(path.name, source, sha, DUPLICATE)
        _move(p, path, sha)  # the same bytes were admitted already: nothing applies twice
        _audit(p, result)
        return result
    result = _validate(con, path, source, sha, today)
    con.execute("begin")
    try:
        if result.status != REJECTED:
            con.execute("""
                insert into quality.finding_replies
                select finding_id, $source, reply_status, replied_on, $file, $sha, source_row,
                       $now from _reply where ok""",
                        {"source": source, "file": path.name, "sha": sha, "now": now})
            con.execute("""
                update quality.findings f set reply_status = r.reply_status,
                       replied_on = r.replied_on
                from (select finding_id, arg_max(reply_status, (replied_on, received_at,
                                                               source_row)) as reply_status,
                             max(replied_on) as replied_on
                      from quality.finding_replies group by finding_id) r
                where f.finding_id = r.finding_id
                  and f.finding_id in (select finding_id from _reply where ok)""")
        moved = _move(p, path, sha)
        con.execute("insert into quality.reply_files values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [path.name, sha, source, now, result.status, result.received,
                     result.applied, result.rejected, moved.relative_to(p.data).as_posix()])
        if result.errors:
            con.executemany("insert into quality.reply_errors values (?, ?, ?, ?, ?)",
                            [[sha, path.name, r, rule, c] for r, rule, c in result.errors])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    _write_errors(p, result)
    _audit(p, result)
    return result


def _validate(con: duckdb.DuckDBPyConnection, path: Path, source: str, sha: str,
              today: dt.date) -> ReplyResult:
    """Check the file and every row; leaves the rows in temp table ``_reply`` (``ok`` = applies).
    """
    con.execute("create or replace temp table _reply (source_row bigint, finding_id varchar, "
                "reply_status varchar, replied_on date, ok boolean)")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            first = next(csv.reader(fh, delimiter=";"), None)
    except UnicodeDecodeError:
        return ReplyResult(path.name, source, sha, REJECTED, errors=[(0, "not_utf8", None)])
    if first is None:
        return ReplyResult(path.name, source, sha, REJECTED, errors=[(0, "empty_file", None)])
    if tuple(h.strip().lower() for h in first) != HEADER:
        return ReplyResult(path.name, source, sha, REJECTED, errors=[(0, "wrong_header", None)])
    try:
        con.execute("""
            create or replace temp table _reply_raw as
            select row_number() over () as source_row, * from read_csv(
                ?, delim = ';', header = true, all_varchar = true, quote = '"',
                columns = {'bevinding': 'varchar', 'status': 'varchar', 'datum': 'varchar'},
                strict_mode = true)""", [str(path)])
    except duckdb.Error:  # its message would quote the line: say what, not which value
        return ReplyResult(path.name, source, sha, REJECTED, errors=[
            (0, "unreadable", None)])
    con.execute("create or replace temp table _statuses (written varchar, status varchar)")
    con.executemany("insert into _statuses values (?, ?)", list(STATUSES.items()))
    con.execute("""
        create or replace temp table _reply_checked as
        with r as (
            select source_row, nullif(trim(bevinding), '') as finding_id,
                   nullif(lower(trim(status)), '') as written,
                   nullif(trim(datum), '') as datum_text,
                   coalesce(try_strptime(trim(datum), '%Y-%m-%d'),
                            try_strptime(trim(datum), '%d/%m/%Y'))::date as replied_on
            from _reply_raw)
        select r.*, s.status as reply_status, f.source as finding_source, f.reported_on,
               count(*) over (partition by r.finding_id) as times_listed,
               row_number() over (partition by r.finding_id order by r.source_row) as nth
        from r left join _statuses s on s.written = r.written
        left join quality.findings f on f.finding_id = r.finding_id""")
    errors = con.execute("""
        select source_row, rule, column_name from (
            select source_row, 'missing_required' as rule, 'bevinding' as column_name
            from _reply_checked where finding_id is null
            union all select source_row, 'missing_required', 'status'
            from _reply_checked where written is null
            union all select source_row, 'missing_required', 'datum'
            from _reply_checked where datum_text is null
            union all select source_row, 'unknown_finding', 'bevinding'
            from _reply_checked where finding_id is not null and finding_source is null
            union all select source_row, 'finding_of_another_source', 'bevinding'
            from _reply_checked where finding_source is not null and finding_source <> $source
            union all select source_row, 'finding_listed_twice', 'bevinding'
            from _reply_checked where finding_id is not null and nth > 1
            union all select source_row, 'unknown_status', 'status'
            from _reply_checked where written is not null and reply_status is null
            union all select source_row, 'invalid_date', 'datum'
            from _reply_checked where datum_text is not null and replied_on is null
            union all select source_row, 'date_in_future', 'datum'
            from _reply_checked where replied_on > $today
            union all select source_row, 'date_before_report', 'datum'
            from _reply_checked where replied_on < reported_on)
        order by source_row, rule, column_name""", {"source": source, "today": today}).fetchall()
    bad = {r for r, _, _ in errors}
    con.execute("""
        insert into _reply
        select source_row, finding_id, reply_status, replied_on,
               not list_contains($bad::bigint[], source_row)
        from _reply_checked""", {"bad": sorted(bad)})
    received = con.execute("select count(*) from _reply").fetchone()[0]
    if received == 0:
        return ReplyResult(path.name, source, sha, REJECTED, errors=[(0, "no_rows", None)])
    applied = received - len(bad)
    status = ACCEPTED if not bad else PARTLY if applied else REJECTED
    return ReplyResult(path.name, source, sha, status, received, applied, len(bad), errors)


def _move(p: settings.Paths, path: Path, sha: str) -> Path:
    """Out of the inbox (nothing lost): ``data/quality/replies/<source>/<sha12>_<name>``."""
    target = p.data / "quality" / "replies" / path.parent.name / f"{sha[:12]}_{path.name}"
    return settings.move_owner_only(path, target)


def errors_path(p: settings.Paths, source: str, file_name: str) -> Path:
    return p.outbox / "quality" / source / "replies" / f"{Path(file_name).stem}.fouten.csv"


def _write_errors(p: settings.Paths, result: ReplyResult) -> None:
    """The errors back to the source, in its language: file, row, rule, column."""
    if not result.errors:
        return
    target = errors_path(p, result.source, result.file)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\n")
        w.writerow(ERROR_COLUMNS)
        w.writerows([result.file, r, rule, c or ""] for r, rule, c in result.errors)


def _audit(p: settings.Paths, result: ReplyResult) -> None:
    audit.record("article7_reply", path=audit.log_path(p), file=result.file,
                 sha256=result.sha256, source=result.source, status=result.status,
                 received=result.received, applied=result.applied, rejected=result.rejected,
                 rules=sorted({rule for _, rule, _ in result.errors}))
