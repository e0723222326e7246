"""Where a delivery is written before the recipient may see it: the restricted zone.

A delivery is written into ``data/restricted/staging/deliveries/<protocol>/.partial-<pid>-<id>``
(it may hold national numbers, e.g. zorgthuis), sealed under its delivery id in the same folder
once complete and recorded, and only then renamed into ``data/outbox/<protocol>/<delivery id>``:
one ``rename`` on the same file system, so the outbox shows a delivery complete or not at all.
When ``data/outbox`` is on another file system the sealed folder is copied to a hidden
``.partial-<pid>-<id>`` beside its final place, flushed, and renamed.

A crash leaves either a ``.partial-*`` folder (removed at the next start when the process that
wrote it is gone) or a sealed folder (published by the next delivery when ``deliveries_log``
recorded it, removed when not): see ``writer.recover_staged_deliveries``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import uuid
from pathlib import Path

from orchestration.foundations.settings import Paths, fsync_path

log = logging.getLogger(__name__)

PARTIAL_PREFIX = ".partial-"
_OWNER = re.compile(r"^\.partial-(\d+)-[0-9a-f]+$")


def staging_root(p: Paths) -> Path:
    return p.restricted / "staging" / "deliveries"


def staging_folder(p: Paths, protocol_id: str) -> Path:
    return staging_root(p) / protocol_id


def new_partial(p: Paths, protocol_id: str) -> Path:
    """A fresh, owner-only folder to write one delivery into, named after this process."""
    folder = staging_folder(p, protocol_id)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{PARTIAL_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
    partial.mkdir(mode=0o700)
    return partial


def sealed(p: Paths, protocol_id: str, delivery_id: str) -> Path:
    return staging_folder(p, protocol_id) / delivery_id


def fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with path.open("rb") as f:
            os.fsync(f.fileno())
    fsync_path(folder)


def publish(staged: Path, final: Path) -> None:
    """Move a sealed delivery to its final place in the outbox, atomically."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if os.stat(staged).st_dev == os.stat(final.parent).st_dev:
        os.rename(staged, final)  # the folder appears complete or not at all
    else:
        hidden = final.parent / f"{PARTIAL_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        shutil.copytree(staged, hidden)
        fsync_tree(hidden)
        os.rename(hidden, final)
        shutil.rmtree(staged)
    fsync_path(final.parent)


def _owner_alive(name: str) -> bool:
    from orchestration.platform.recovery import process_alive

    match = _OWNER.match(name)
    return bool(match) and process_alive(int(match.group(1)))


def remove_leftovers(p: Paths) -> list[Path]:
    """Remove the ``.partial-*`` folders of processes that are gone, in the outbox and in the
    staging area (a folder of a live process is being written and stays)."""
    removed = []
    for root in (p.outbox, staging_root(p)):
        if not root.exists():
            continue
        for folder in sorted(root.glob(f"*/{PARTIAL_PREFIX}*")):
            if folder.is_dir() and not _owner_alive(folder.name):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    if removed:
        log.warning("removed %d half-written delivery folder(s) left by an interrupted run: %s",
                    len(removed), ", ".join(f"{f.parent.name}/{f.name}" for f in removed))
    return removed
