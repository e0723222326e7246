"""Opening the warehouse and the vault, always with the same configuration.

DuckDB allows one read-write process per file, so every Dagster step that touches these files
runs in the ``duckdb`` concurrency pool and opens its connection inside the step, never at
import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from orchestration.foundations.settings import (Paths, duckdb_config, owner_only_file, paths,
                                                restricted_dir)

POOL = "duckdb"  # Dagster concurrency pool of everything that opens the DuckDB files


@contextmanager
def connect(p: Paths | None = None, *, vault: bool = False, read_only: bool = False
            ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse; with ``vault=True`` the vault is attached as ``vault``.

    Only ingestion, the identified deliveries and retention attach the vault.
    """
    p = p or paths()
    p.warehouse_dir.mkdir(parents=True, exist_ok=True)
    (p.tmp / "duckdb").mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(p.warehouse), read_only=read_only, config=duckdb_config(p))
    try:
        if vault:
            restricted_dir(p.restricted)
            mode = " (read_only)" if read_only else ""
            con.execute(f"attach '{p.vault}' as vault{mode}")
            owner_only_file(p.vault)  # a vault made before the umask was in force
        yield con
    finally:
        con.close()
