"""Scanning a source's inbox folder and loading what is new, for the requested school years."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import duckdb

from orchestration.foundations import pseudonymisation as pseudo
from orchestration.ingestion.load import FileResult, ensure_schema, load_file, slot_of, \
    _ensure_raw_table
from orchestration.foundations.settings import Paths
from orchestration.foundations.sources import SourceFile, file_types_of, identify

log = logging.getLogger(__name__)


def sample_hashes(p: Paths) -> frozenset[str]:
    """SHA-256 of every file of the committed synthetic sample (``data/sample/SHA256SUMS``)."""
    sums = p.sample / "SHA256SUMS"
    if not sums.exists():
        return frozenset()
    return frozenset(line.split()[0] for line in sums.read_text().splitlines() if line.strip())


def inbox_files(p: Paths, source: str) -> list[Path]:
    folder = p.inbox_of(source)
    if not folder.exists():
        return []
    return sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith("."))


def ingest_source(con: duckdb.DuckDBPyConnection, p: Paths, source: str,
                  school_years: set[str] | None = None) -> list[FileResult]:
    """Load every new file of one source whose school year is requested (all when None).

    Files are taken in name order, so within a slot the later delivery wins.
    """
    master = pseudo.master_key()
    hashes = sample_hashes(p)
    ensure_schema(con)
    for spec in file_types_of(source):
        _ensure_raw_table(con, spec)
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
        log.info("%s: %s (received %d, loaded %d, quarantined %d)", path.name, result.status,
                 result.received, result.loaded, result.quarantined)
        results.append(result)
    return results


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
                   school_years: set[str] | None = None) -> dict[str, list[FileResult]]:
    return {s: ingest_source(con, p, s, school_years) for s in sources}


__all__ = ["ingest_source", "ingest_sources", "inbox_files", "sample_hashes", "SourceFile"]
