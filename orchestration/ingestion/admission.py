"""The inbox gatekeeper: which files in ``data/inbox/<source>/`` may start ingestion.

Used by the inbox sensors, which must never open DuckDB (another process may hold the warehouse),
so everything here works from the folder and the sensor's cursor alone:

- a file is identified by its SHA-256; the cursor remembers every SHA-256 it already started a
  run for, so the same bytes never start a second run (renamed or copied again: still seen);
- a file whose SHA-256 the audit trail records as ingested (``audit.ingested_sha256s``: loaded or
  rejected whole, also by a run outside the daemon such as ``make run``) is seen, not new: the
  trail is a JSON Lines file, so this needs no DuckDB;
- hashing is cached in the cursor by (name, size, modification time), so a large extract is
  hashed once, not on every tick;
- a file still being written (modified less than ``SETTLE_SECONDS`` ago) waits for a later tick;
- an article-7 reply (``<source>_antwoord_art7_<date>.csv``) is neither ingested nor refused:
  the article-7 quality step of the next main run admits it (``orchestration/quality/replies.py``);
- a file is **refused** (moved out of the inbox to ``data/restricted/refused/<source>/``, logged,
  and recorded in the audit trail; never ingested) when its name is no known file type of the
  source, when its school year is outside the warehouse's partitions, or when every protocol
  that its file type serves is invalid (expired or not yet in force) on the day it is received.

Moving a refused file out is what keeps it from being ingested: the ingestion step loads every
file of the requested school years that lies in the inbox.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Set
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.foundations import school_year as sy
from orchestration.foundations.raw_layout import slot_of
from orchestration.protocols.registry import Registry
from orchestration.foundations.hashing import sha256_of
from orchestration.foundations.settings import Paths, move_owner_only
from orchestration.foundations.sources import SourceFile, file_types_of, identify, is_reply

SETTLE_SECONDS = 30
CURSOR_VERSION = 1


@dataclass(frozen=True)
class Seen:
    """A file in the inbox folder as the sensor finds it."""

    name: str
    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Verdict:
    kind: str  # new | seen | refused | settling
    file: str
    sha256: str = ""
    school_year: str | None = None
    file_type: str | None = None
    message: str = ""


@dataclass
class Cursor:
    """The sensor's memory: SHA-256 of every file it already handled, and a hash cache."""

    seen: set[str] = field(default_factory=set)
    # file name -> (size, modification time in ns, SHA-256)
    hashes: dict[str, tuple[int, int, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, raw: str | None) -> Cursor:
        if not raw:
            return cls()
        obj = json.loads(raw)
        if obj.get("v") != CURSOR_VERSION:
            return cls()
        return cls(set(obj.get("seen", [])),
                   {k: (int(v[0]), int(v[1]), str(v[2])) for k, v in obj.get("hashes", {}).items()})

    def dump(self) -> str:
        return json.dumps({"v": CURSOR_VERSION, "seen": sorted(self.seen),
                           "hashes": {k: list(v) for k, v in sorted(self.hashes.items())}},
                          separators=(",", ":"))


def list_inbox(p: Paths, source: str) -> list[Seen]:
    """The files ingestion would look at, in name order (hidden files are skipped, as there)."""
    folder = p.inbox_of(source)
    if not folder.exists():
        return []
    found = []
    for f in sorted(folder.iterdir()):
        if f.is_file() and not f.name.startswith("."):
            st = f.stat()
            found.append(Seen(f.name, f, st.st_size, st.st_mtime_ns))
    return found


def protocol_refusal(spec: SourceFile, registry: Registry, day: dt.date) -> str | None:
    """Why no protocol allows receiving a file of this type on ``day``; None when one does.

    Only protocols the registry knows count. A file type that serves no protocol (the school
    register) is reference data and always admitted.
    """
    known = registry.drawing_on(spec.file_type)
    if not known or any(p.is_valid_on(day) for p in known):
        return None
    parts = []
    for p in known:
        if day < p.validity.valid_from:
            parts.append(f"{p.id} is not valid before {p.validity.valid_from.isoformat()}")
        else:
            parts.append(f"{p.id} expired on {p.valid_until.isoformat()}")
    only = "protocol" if len(known) == 1 else "protocols"
    return (f"file type {spec.file_type} serves only {only} "
            f"{', '.join(p.id for p in known)}, and on {day.isoformat()} "
            f"{'; '.join(parts)}: no protocol allows receiving it")


def judge(source: str, name: str, registry: Registry, day: dt.date) -> Verdict:
    """Admit or refuse one file name of ``source`` received on ``day`` (no hashing here)."""
    found = identify(name)
    if found is None or found[0].source != source:
        expected = ", ".join(s.pattern for s in file_types_of(source))
        return Verdict("refused", name, message=(
            f"{name}: not a known {source} file type; expected a name matching one of: "
            f"{expected}"))
    spec, match = found
    groups = {k: v for k, v in match.groupdict().items() if v is not None}
    try:
        _, school_year, _ = slot_of(spec, groups)
    except ValueError as e:
        return Verdict("refused", name, file_type=spec.file_type,
                       message=f"{name}: the date or school year in the name is not valid ({e})")
    if school_year not in sy.ALL:
        return Verdict("refused", name, file_type=spec.file_type, school_year=school_year,
                       message=(f"{name}: school year {school_year} is outside the warehouse's "
                                f"partitions {sy.ALL[0]}..{sy.ALL[-1]}"))
    refusal = protocol_refusal(spec, registry, day)
    if refusal:
        return Verdict("refused", name, file_type=spec.file_type, school_year=school_year,
                       message=f"{name}: {refusal}")
    return Verdict("new", name, file_type=spec.file_type, school_year=school_year)


def evaluate(p: Paths, source: str, cursor: Cursor, registry: Registry, day: dt.date,
             now: float | None = None, ingested: Set[str] = frozenset()) -> list[Verdict]:
    """Every file in the source's inbox, judged; updates ``cursor`` (hash cache and seen set).

    ``seen`` verdicts are files already handled: started by this sensor, or among ``ingested``
    (the SHA-256 the audit trail shows as taken in); ``settling`` ones are still being written.
    """
    now = now if now is not None else dt.datetime.now(dt.UTC).timestamp()
    verdicts: list[Verdict] = []
    present: dict[str, tuple[int, int, str]] = {}
    for f in list_inbox(p, source):
        if is_reply(f.name, source):  # an article-7 reply: the quality slice admits it
            verdicts.append(Verdict("reply", f.name, message=f"{f.name}: an article-7 reply, "
                                    "read by the next article-7 quality step"))
            continue
        if now - f.mtime_ns / 1e9 < SETTLE_SECONDS:
            verdicts.append(Verdict("settling", f.name, message=f"{f.name}: still being written"))
            continue
        cached = cursor.hashes.get(f.name)
        sha = cached[2] if cached and cached[:2] == (f.size, f.mtime_ns) else sha256_of(f.path)
        present[f.name] = (f.size, f.mtime_ns, sha)
        if sha in cursor.seen or sha in ingested:
            cursor.seen.add(sha)
            verdicts.append(Verdict("seen", f.name, sha))
            continue
        v = judge(source, f.name, registry, day)
        verdicts.append(Verdict(v.kind, f.name, sha, v.school_year, v.file_type, v.message))
        if v.kind == "new":
            # Refused files are moved out, not remembered: the same bytes dropped again under a
            # corrected name (or after a renewal) are judged afresh.
            cursor.seen.add(sha)
    cursor.hashes = present
    return verdicts


def move_refused(p: Paths, source: str, verdict: Verdict) -> Path:
    """Move a refused file out of the inbox into the restricted zone (kept there under the
    retention job's rule for refused files). Its modification time becomes the refusal time."""
    target = p.refused_of(source) / f"{verdict.sha256[:12]}_{verdict.file}"
    existed = target.exists()
    move_owner_only(p.inbox_of(source) / verdict.file, target)
    if not existed:
        os.utime(target)
    return target
