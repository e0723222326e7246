"""Dagster's SQLite event log, written with few disk syncs while a command-line run writes it.

Creating a ``warehouse_job`` run writes about 1,700 events (one planned materialisation per
school year of every partitioned asset, one planned evaluation per check) and the run about
2,700 more. Dagster's ``SqliteEventLogStorage`` opens a connection for every write, commits and
closes it: the commit syncs the write-ahead log (``synchronous=FULL``, SQLite's default) and
closing the last connection to a WAL database checkpoints it (two more syncs). Creating the run
on the sample made 21,300 ``fdatasync`` calls; with a busy disk they are most of its wall time.

``fewer_syncs`` holds, for the run, one idle connection to the event log's index and to the
run's own database, so closing Dagster's connections no longer checkpoints (SQLite checkpoints
when the WAL grows past 1,000 pages, and when the last connection closes), and sets
``synchronous=NORMAL`` on the event log's connections: in WAL mode the database stays
consistent after a crash or a power cut, which can only lose the last events written. The
events themselves, and what the UI shows, are unchanged.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import sqlalchemy
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, \
    SqliteEventLogStorage
from sqlalchemy.engine import Engine


def _database_file(connection: sqlite3.Connection) -> Path | None:
    for _, name, file in connection.execute("PRAGMA database_list").fetchall():
        if name == "main" and file:
            return Path(file).resolve()
    return None


class _IdleConnections:
    """One idle connection per database file, opened once the file is in WAL mode (before
    that, Dagster is still creating it): while it is open, no other connection's close is the
    last one."""

    def __init__(self, files: set[Path]):
        self.files = files
        self.held: dict[Path, sqlite3.Connection] = {}
        self.lock = threading.Lock()

    def hold(self, file: Path) -> None:
        with self.lock:
            if file not in self.files or file in self.held:
                return
            connection = sqlite3.connect(file, check_same_thread=False)
            # the read makes it a WAL reader (without a transaction: it blocks no checkpoint)
            if connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                self.held[file] = connection
            else:
                connection.close()

    def close(self) -> None:
        with self.lock:
            for connection in self.held.values():
                connection.close()  # the last one checkpoints the WAL into the database
            self.held.clear()


@contextmanager
def fewer_syncs(instance: dg.DagsterInstance, run_id: str) -> Iterator[None]:
    """While the run ``run_id`` executes in this process: its SQLite event log writes with
    ``synchronous=NORMAL`` and without a checkpoint per write. Other storages: nothing."""
    storage = instance.event_log_storage
    if not isinstance(storage, SqliteEventLogStorage):
        yield
        return
    folder = Path(storage.path_for_shard(INDEX_SHARD_NAME)).resolve().parent
    idle = _IdleConnections({folder / f"{INDEX_SHARD_NAME}.db", folder / f"{run_id}.db"})

    def on_connect(dbapi_connection, _record) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        file = _database_file(dbapi_connection)
        if file is None or file.parent != folder:
            return
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        idle.hold(file)

    sqlalchemy.event.listen(Engine, "connect", on_connect)
    try:
        yield
    finally:
        sqlalchemy.event.remove(Engine, "connect", on_connect)
        idle.close()
