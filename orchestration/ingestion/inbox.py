"""Scanning a source's inbox folder and loading what is new, for the requested school years."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import duckdb

from orchestration.foundations import audit
from orchestration.foundations import pseudonymisation as pseudo
from orchestration.ingestion.load import FileResult, ensure_schema, load_file, slot_of, \
    _ensure_raw_table
from orchestration.foundations.settings import Paths
from orchestration.foundations.sources import SourceFile, file_types_of, identify, is_reply

log = logging.getLogger(__name__)


def sample_hashes(p: Paths) -> frozenset[str]:
    """SHA-256 of every file of the committed synthetic sample (``data/sample/SHA256SUMS``)."""
    sums = p.sample / "SHA256SUMS"
    if not sums.exists():
        return frozenset()
    return frozenset(line.split()[0] for line in sums.read_text().splitlines() if line.strip())


def inbox_files(p: Paths, source: str) -> list[Path]:
    """The extracts in a source's inbox, in name order (article-7 replies are the quality
    slice's: ``orchestration/quality/replies.py``)."""
    folder = p.inbox_of(source)
    if not folder.exists():
        return []
    return sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")
                  and not is_reply(f.name, source))


def ingest_source(con: duckdb.DuckDBPyConnection, p: Paths, source: str,
                  school_years: set[str] | None = None, run_id: str | None = None
                  ) -> list[FileResult]:
    """Load every new file of one source whose school year is requested (all when None).

    Files are taken in name order, so within a slot the later delivery wins. Each file's audit
    entry is written as soon as its load has committed; files an earlier, interrupted run
    loaded without one get theirs first (:func:`reconcile_audit`), so every file in
    ``ingest.files`` has exactly one.
    """
    master = pseudo.master_key()
    hashes = sample_hashes(p)
    ensure_schema(con)
    for spec in file_types_of(source):
        _ensure_raw_table(con, spec)
    reconcile_audit(con, p, source, run_id)
    results = []
    for path in inbox_files(p, source):
        found = identify(path.name)
        if found is None or found[0].source != source:
            results.append(_unknown(con, source, path))
            continue
        spec, match = found
        groups = {k: v for k, v in match.groupdict().items() if v is not None}
        _, school_year, _ = slot_of(spec, groups)
        if school_years is not None and school_year not in school_years:
            continue
        result = load_file(con, p, spec, path, groups, master, hashes)
        audit.record_ingestion([result], run_id=run_id, path=audit.log_path(p))
        log.info("%s: %s (received %d, loaded %d, quarantined %d)", path.name, result.status,
                 result.received, result.loaded, result.quarantined)
        results.append(result)
    return results


def reconcile_audit(con: duckdb.DuckDBPyConnection, p: Paths, source: str | None = None,
                    run_id: str | None = None) -> int:
    """Write the ``ingestion`` audit entry of every file in ``ingest.files`` (of ``source``) that
    has none: a run killed between a file's commit and its audit entry. Returns how many.

    Recovery after a crash: the load commits first, its entry follows. ``con`` is the ingestion
    connection (the caller holds the warehouse). A file later superseded was loaded when it was
    taken in, and is audited as loaded.
    """
    target = audit.log_path(p)
    audited = {(e.fields.get("sha256"), e.fields.get("file_type"))
               for e in audit.entries(target)
               if e.event == "ingestion" and e.fields.get("status") in ("loaded", "rejected")}
    rows = con.execute("""
        select file_name, source, file_type, sha256, school_year, status, received_rows,
               loaded_rows, quarantined_rows, message
        from ingest.files
        where sha256 is not null and status in ('loaded', 'superseded', 'rejected')
          and (?::varchar is null or source = ?::varchar)
        order by ingested_at, file_name""", [source, source]).fetchall()
    written = 0
    for (file_name, src, file_type, sha, school_year, status, received, loaded, quarantined,
         message) in rows:
        if (sha, file_type) in audited:
            continue
        rules = dict(con.execute(
            "select rule || coalesce(':' || column_name, ''), count(*) from ingest.quarantine "
            "where sha256 = ? group by all order by all", [sha]).fetchall())
        fields = {"file": file_name, "sha256": sha, "source": src, "file_type": file_type,
                  "status": "rejected" if status == "rejected" else "loaded",
                  "school_year": school_year, "received": received, "loaded": loaded,
                  "quarantined": quarantined, "quarantine_rules": rules, "reconciled": True,
                  "reconciled_why": "loaded by a run that stopped before its audit entry"}
        if status == "rejected":
            fields["reason"] = (message or "")[:500]
        if run_id:
            fields["run_id"] = run_id
        audit.record("ingestion", path=target, **fields)
        audited.add((sha, file_type))
        written += 1
    if written:
        log.warning("%d file(s) were loaded by an interrupted run without an audit entry: "
                    "entries written now", written)
    return written


def _unknown(con: duckdb.DuckDBPyConnection, source: str, path: Path) -> FileResult:
    known = ", ".join(s.pattern for s in file_types_of(source))
    message = (f"{path.name}: not a known {source} file type; expected a name matching one of: "
               f"{known}")
    already = con.execute("select 1 from ingest.files where file_name = ? and source = ? "
                          "and file_type = 'unknown'", [path.name, source]).fetchone()
    if not already:
        con.execute("insert into ingest.files values (?, ?, 'unknown', null, ?, null, null, null, "
                    "0, 0, 0, 'rejected', ?, ?)",
                    [path.name, source, path.stat().st_size, message,
                     dt.datetime.now(dt.UTC).replace(tzinfo=None)])
        log.error("%s", message)
    return FileResult(path.name, "unknown", "", "rejected", message=message)


def ingest_sources(con: duckdb.DuckDBPyConnection, p: Paths, sources: list[str],
                   school_years: set[str] | None = None, run_id: str | None = None
                   ) -> dict[str, list[FileResult]]:
    return {s: ingest_source(con, p, s, school_years, run_id) for s in sources}


__all__ = ["ingest_source", "ingest_sources", "inbox_files", "sample_hashes", "SourceFile"]
