"""Writing extract files the way the agencies send them, fast.

Why DuckDB: tens of millions of CSV rows must be written in minutes. DuckDB's CSV writer is
multi-threaded, keeps an ORDER BY (so output is byte-identical for the same input), and quotes a
value only when it contains the delimiter, a quote or a newline, like csv.QUOTE_MINIMAL. Empty
values are written as NULL (an empty field, never ""). LED and DUO files start with a UTF-8
byte-order mark, as exports from those systems do.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.foundations.sources import BY_FILE_TYPE, SourceFile

BOM_SOURCES = frozenset({"led", "duo"})
BOM = b"\xef\xbb\xbf"


class Writer:
    """One DuckDB connection that writes every extract file into ``out/<source>/``."""

    def __init__(self, out: Path, threads: int = 2, memory_limit: str | None = None):
        self.out = Path(out)
        # a scratch database file: DuckDB can then page tables out instead of failing at the limit
        self._scratch = Path(tempfile.mkdtemp(prefix="synthetic-"))
        self.con = duckdb.connect(str(self._scratch / "scratch.duckdb"))
        self.con.execute(f"SET threads = {threads}")
        self.con.execute("SET preserve_insertion_order = true")
        limit = memory_limit or os.environ.get("SYNTHETIC_DUCKDB_MEMORY", "4GB")
        self.con.execute(f"SET memory_limit = '{limit}'")
        self.con.execute(f"SET temp_directory = '{(self._scratch / 'spill').as_posix()}'")
        # day number (int, days since 1970-01-01; very negative = no date) -> formatted text
        self.con.execute("CREATE MACRO fd(x, f) AS CASE WHEN x IS NULL OR x < -100000 THEN NULL "
                         "ELSE strftime(DATE '1970-01-01' + CAST(x AS INTEGER), f) END")
        self.con.execute("CREATE MACRO jn(x) AS CASE WHEN x THEN 'J' ELSE 'N' END")
        self.written: list[Path] = []

    def register(self, name: str, table: pa.Table | object, materialize: bool = False) -> None:
        """Expose an Arrow table or pandas DataFrame to the SQL of :meth:`write`.

        ``materialize`` copies it into DuckDB once: much faster for tables that many files scan.
        """
        if not materialize:
            self.con.register(name, table)
            return
        self.con.register("_incoming", table)
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _incoming")
        self.con.unregister("_incoming")

    def write(self, file_type: str, file_name: str, select_sql: str) -> Path:
        """Run ``select_sql`` (columns aliased to the exact headers) into one extract file."""
        spec: SourceFile = BY_FILE_TYPE[file_type]
        if not spec.match(file_name):
            raise ValueError(f"{file_name} does not match the pattern of {file_type}")
        folder = self.out / spec.source
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / file_name
        tmp = folder / (file_name + ".part")
        self.con.execute(f"COPY ({select_sql}) TO '{tmp.as_posix()}' (HEADER, DELIMITER ';', "
                         "QUOTE '\"', ESCAPE '\"', NEW_LINE '\\n')")
        with tmp.open("rb") as fh:
            header = fh.readline().decode("utf-8").rstrip("\n")
        if header != ";".join(spec.headers):
            tmp.unlink()
            raise AssertionError(f"{file_name}: header {header!r} is not the contract's")
        if spec.source in BOM_SOURCES:
            with path.open("wb") as dst, tmp.open("rb") as src:
                dst.write(BOM)
                shutil.copyfileobj(src, dst, 16 * 1024 * 1024)
            tmp.unlink()
        else:
            tmp.replace(path)
        self.written.append(path)
        return path

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self._scratch, ignore_errors=True)


def sha256sums(root: Path, files: list[Path]) -> str:
    """sha256sum-format lines for ``files``, paths relative to ``root``, sorted."""
    lines = []
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(8 * 1024 * 1024), b""):
                digest.update(block)
        lines.append(f"{digest.hexdigest()}  {path.relative_to(root).as_posix()}\n")
    return "".join(lines)
