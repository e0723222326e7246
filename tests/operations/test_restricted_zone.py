"""The restricted zone is the owner's alone, from creation: folders 700, files 600.

Real files: a real ingestion (vault, quarantine copy of a rejected file, scratch copy), the real
audit log, a refused file, the benchmark's throw-away key. Agencies drop files with their own
modes (here 644, as under the usual umask 022), and the modes are checked on disk.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.ingestion.inbox import ingest_source
from orchestration.foundations import audit
from orchestration.ingestion.admission import Verdict, move_refused
from orchestration.foundations.settings import PROJECT_ROOT
from orchestration.foundations.sources import BY_FILE_TYPE
from orchestration.foundations.warehouse import connect
from tests.operations.conftest import write_inbox

pytestmark = pytest.mark.usefixtures("test_master_key")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def loose_modes(root: Path) -> list[str]:
    """Everything below ``root`` (and root) that others could read, enter or write."""
    return [f"{oct(mode(x))} {x.relative_to(root.parent)}" for x in [root, *root.rglob("*")]
            if mode(x) & 0o077]


def test_importing_the_package_makes_the_process_owner_only():
    out = subprocess.run([sys.executable, "-c", "import os, orchestration; "
                          "print(oct(os.umask(0o022)))"], cwd=PROJECT_ROOT, check=True,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": "."})
    assert out.stdout.strip() == "0o77"


def test_vault_quarantine_scratch_refused_and_audit_log_are_owner_only_on_disk(data_dir):
    header = ";".join(BY_FILE_TYPE["zorgthuis_lists"].headers)
    loaded = write_inbox(data_dir, "zorgthuis", "zorgthuis_2025-10-01_voorlopig.csv",
                         header + "\r85073003328;01/10/2025;VOORLOPIG;N\r")  # CR: scratch copy
    rejected = write_inbox(data_dir, "zorgthuis", "zorgthuis_2025-10-01_definitief.csv",
                           header + ";Opmerking\n85073003328;01/10/2025;DEFINITIEF;N;x\n")
    refused = write_inbox(data_dir, "zorgthuis", "zorgthuis_lijst.csv", header + "\n")
    for f in (loaded, rejected, refused):
        os.chmod(f, 0o644)  # as an agency's upload leaves it
    with connect(data_dir, vault=True) as con:
        results = ingest_source(con, data_dir, "zorgthuis")
    assert sorted(r.status for r in results) == ["loaded", "rejected", "rejected"]
    move_refused(data_dir, "zorgthuis", Verdict("refused", refused.name, "ab" * 32))

    restricted, log = data_dir.restricted, audit.log_path(data_dir)
    assert mode(restricted) == 0o700 and mode(data_dir.vault) == 0o600
    [kept] = (data_dir.quarantine_files / "zorgthuis").iterdir()
    [gone] = (data_dir.refused_of("zorgthuis")).iterdir()
    assert mode(kept) == mode(gone) == 0o600 and mode(kept.parent) == 0o700
    assert mode(log) == 0o600 and mode(log.parent) == 0o700
    assert loose_modes(restricted) == [] and loose_modes(log.parent) == []


def test_the_audit_log_is_created_owner_only_whatever_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        log = tmp_path / "audit" / "audit_log.jsonl"
        audit.record("forced_action", path=log, action="test", reason="modes")
    finally:
        os.umask(previous)
    assert (mode(log.parent), mode(log)) == (0o700, 0o600)


def test_the_benchmark_key_is_created_owner_only_not_restricted_afterwards(tmp_path,
                                                                          monkeypatch):
    from tools.benchmark import throwaway_key

    def too_late(self, *args, **kwargs):
        raise AssertionError(f"{self.name} was restricted after it was written")

    monkeypatch.setattr(Path, "chmod", too_late)
    previous = os.umask(0o022)
    try:
        key = throwaway_key(tmp_path, reuse=False)
    finally:
        os.umask(previous)
    path = tmp_path / "throwaway_master_key"
    assert mode(path) == 0o600 and path.read_text() == key and len(key) > 32
