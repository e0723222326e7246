"""Where things live and how every DuckDB connection is configured.

All paths derive from one project root and can be moved with environment variables, so tests
run against a temporary copy of ``data/`` and CI against a clean clone. Nothing here connects to
anything: connections are opened only inside assets and commands (see ``warehouse.py``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

ENV_DATA_DIR = "PROTOCOL_WAREHOUSE_DATA_DIR"
ENV_MEMORY_LIMIT = "PROTOCOL_WAREHOUSE_MEMORY_LIMIT"
# DuckDB's memory limit unless the environment sets one: at 1.2 million pupils 4 GB kept the
# main job's peak resident memory at 4.5 GB (DuckDB spills the rest to temp_directory); with
# 12 GB it rose to 8.8 GB. The benchmark's peak-memory target is 6 GB.
DEFAULT_MEMORY_LIMIT = "5GB"

# The data folders hold personal data: every file and folder this project creates is the owning
# user's alone, from the moment it exists (not chmod-ed afterwards).
OWNER_ONLY_UMASK = 0o077
OWNER_DIR = 0o700
OWNER_FILE = 0o600


def owner_only_umask() -> None:
    """Make every file and folder this process creates owner-only, including the ones DuckDB,
    dbt and Dagster create themselves (set once, when the package is imported)."""
    os.umask(OWNER_ONLY_UMASK)


def restricted_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) owner-only; tighten it if it already existed."""
    path.mkdir(parents=True, exist_ok=True, mode=OWNER_DIR)
    if path.stat().st_mode & 0o777 != OWNER_DIR:
        os.chmod(path, OWNER_DIR)
    return path


def owner_only_file(path: Path) -> Path:
    """Tighten an existing file to owner-only (files made before the umask was in force)."""
    if path.exists() and path.stat().st_mode & 0o777 != OWNER_FILE:
        os.chmod(path, OWNER_FILE)
    return path


def move_owner_only(source: Path, target: Path) -> Path:
    """Move ``source`` into the owner-only folder of ``target``; when ``target`` already holds
    the same content (named by its hash), the source copy is dropped instead."""
    restricted_dir(target.parent)
    if target.exists():
        source.unlink()
    else:
        shutil.move(source, target)
        os.chmod(target, OWNER_FILE)
    return target


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's entry to disk (a folder after a create or rename in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Paths:
    """The data folders. Everything personal stays under ``data/``, outside git."""

    data: Path

    @property
    def sample(self) -> Path:
        """The committed synthetic sample (source extracts as the agencies send them)."""
        return PROJECT_ROOT / "data" / "sample"

    @property
    def inbox(self) -> Path:
        """Landing area: one folder per source where extracts are dropped."""
        return self.data / "inbox"

    @property
    def warehouse_dir(self) -> Path:
        return self.data / "warehouse"

    @property
    def warehouse(self) -> Path:
        """The pseudonymised warehouse: no INSZ, names or addresses."""
        return self.warehouse_dir / "warehouse.duckdb"

    @property
    def restricted(self) -> Path:
        """The restricted zone: the key vault and quarantined raw content."""
        return self.data / "restricted"

    @property
    def vault(self) -> Path:
        """Key vault: INSZ <-> pupil key, names and addresses. Only ingestion and the few
        identified deliveries open it."""
        return self.restricted / "vault.duckdb"

    @property
    def quarantine_files(self) -> Path:
        """Files rejected whole, kept as received."""
        return self.restricted / "quarantine"

    @property
    def scratch(self) -> Path:
        """Short-lived copies of received files (line endings normalised for the parser),
        deleted after each load; inside the restricted zone because they hold the content."""
        return self.restricted / "scratch"

    @property
    def outbox(self) -> Path:
        return self.data / "outbox"

    @property
    def tmp(self) -> Path:
        return self.data / "tmp"

    def inbox_of(self, source: str) -> Path:
        return self.inbox / source

    def refused_of(self, source: str) -> Path:
        """Where files refused at the inbox are kept, as received (restricted zone)."""
        return self.restricted / "refused" / source


def paths() -> Paths:
    """Paths for this process: ``$PROTOCOL_WAREHOUSE_DATA_DIR`` or the project's ``data/``."""
    return Paths(Path(os.environ.get(ENV_DATA_DIR, PROJECT_ROOT / "data")).resolve())


def duckdb_config(p: Paths | None = None) -> dict[str, str]:
    """The one DuckDB configuration every connection uses (a second connection to the same
    file with another configuration fails in DuckDB)."""
    p = p or paths()
    return {
        "threads": "2",
        "memory_limit": os.environ.get(ENV_MEMORY_LIMIT, DEFAULT_MEMORY_LIMIT),
        "preserve_insertion_order": "false",
        "temp_directory": str(p.tmp / "duckdb"),
    }
