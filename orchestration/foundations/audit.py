"""The audit trail: an append-only, hash-chained log of everything done with personal data.

Why outside DuckDB: the warehouse file admits one writing process at a time, but sensors, the
ingestion step, deliveries and the retention job all have to log, sometimes while another
process holds the warehouse. So the log is a plain JSON Lines file,
``data/audit/audit_log.jsonl``, that any process can append to under an exclusive file lock,
with ``fsync`` after every entry.

Tamper evidence: every entry carries ``prev`` (the hash of the entry before it; 64 zeros for the
first) and ``hash`` = SHA-256 of the entry's canonical JSON without ``hash``. Changing, inserting
or deleting an entry breaks the chain at that point, and ``verify`` names the first broken entry
by its position (line number). Cutting entries off the end leaves a valid chain; the
``compliance/audit_log`` asset therefore remembers the last count and head hash it saw and
reports a log that shrank or whose earlier head disappeared.

What goes in: counts, file names, SHA-256 of files, protocol ids, run ids, reasons. What never
goes in: INSZ numbers, names, birth dates, addresses, pupil keys or protocol pseudonyms. The log
cannot be erased, so ``record`` refuses (raises ``AuditRefused``) a value that looks like one:

- a valid INSZ anywhere (plain or formatted);
- a date written as the sources write dates (dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy): received
  content. The warehouse's own dates are ISO (yyyy-mm-dd: file names, effective dates);
- an address: a street name (Faker's Flemish street suffixes: ...straat, ...laan, ...dreef) with
  a house number, or a postcode followed by a place name;
- a person's name: a capitalised pair whose first word is a known given name or whose last word
  is a known surname (Faker's nl_BE, fr_BE, nl_NL and tr_TR lists, the vocabulary synthetic
  people are drawn from), or "Surname, Given name";
- a 32+ character hexadecimal token (the pupil key's shape) under a field whose name does not
  end in ``sha256``, or a protocol pseudonym (``PREFIX<version>-`` and 32 code letters).

A guard on shapes cannot know every name; it is the second line. The first is that messages
describe (columns, positions, counts) and never quote received content.

Usage::

    from orchestration.foundations import audit
    audit.record("delivery", protocol="zorgthuis", recipient="AGODI", key_version=None,
                 files=[{"file": "verification_list_2024-10-01.csv", "sha256": "ab12..."}])

Command line: ``python -m orchestration.foundations.audit verify`` (exit status 1 and the first
broken entry when the chain is broken), ``... tail [-n 20] [--protocol ID] [--event TYPE]
[--since YYYY-MM-DD] [--until YYYY-MM-DD] [--json]`` (one readable line per entry by default).
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import functools
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stdnum.be import ssn

from orchestration.foundations import settings

GENESIS = "0" * 64
LOG_NAME = "audit_log.jsonl"

# Event types and the fields each must carry. Extra fields are allowed (counts, run ids, ...).
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    # one file taken in by ingestion: loaded, rejected whole, held for the steward, or a copy of
    # a file already taken in, under a new name (status duplicate: nothing loaded)
    "ingestion": ("file", "sha256", "source", "file_type", "status", "received", "loaded",
                  "quarantined"),
    # a file the inbox gatekeeper refused (unknown file type, no valid protocol, ...)
    "file_refused": ("file", "sha256", "source", "reason"),
    # a Dagster run that materialised assets ended (success or failure)
    "materialisation": ("run_id", "job", "status"),
    # a delivery: which protocol, to whom, which files (name + SHA-256), which key version
    "delivery": ("protocol", "recipient", "files", "key_version"),
    # a delivery the rules refused (expired protocol, second once-only delivery, ...)
    "delivery_refused": ("protocol", "reason"),
    # the vault was opened to re-identify (zorgthuis, duo_leerplicht) or to link identities
    "vault_use": ("protocol", "purpose"),
    # a processor hand-off: which protocol, to which processor, which files (name, rows,
    # SHA-256) with which columns, keyed by the delivery's pseudonym only
    "processor_hand_off": ("protocol", "processor", "files"),
    # something done outside the normal rules, and why (e.g. a placeholder date confirmed)
    "forced_action": ("action", "reason"),
    # retention: what was erased under which rule, as counts
    "erasure": ("rule", "counts"),
    # recovery after a crash: a dead run marked failed (its slots freed), an audit entry or a
    # delivery an interrupted run left unfinished, completed (orchestration.platform.recovery and the slices)
    "recovery": ("action", "reason"),
    # a data breach recorded by the steward (orchestration.compliance.breach): what, when,
    # which protocols, deliveries and recipients, by when the authority must know
    "data_breach": ("breach_id", "what", "discovered_at", "protocols", "deliveries",
                    "recipients", "authority_deadline"),
    # a breach notification written to one protocol's data-protection officers
    "breach_notification": ("breach_id", "protocol", "to", "deadline", "authority_deadline"),
    # a protocol ended by notice (registry validity.notice): from ends_on nothing is delivered
    "protocol_terminated": ("protocol", "notice_given_on", "given_by", "ends_on"),
    # a source's reply to an article-7 report (a status per finding), admitted or rejected
    "article7_reply": ("file", "sha256", "source", "status", "received", "applied", "rejected"),
}

_INSZ_LIKE = re.compile(
    r"(?<![0-9A-Za-z])(\d{2}\.?\d{2}\.?\d{2}[-. ]?\d{3}\.?\d{2})(?![0-9A-Za-z])")
_HEX_TOKEN = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32,}(?![0-9A-Fa-f])")
_PSEUDONYM = re.compile(r"\b[A-Z]{2,5}\d+-[A-Z]{32}\b")
_SOURCE_DATE = re.compile(r"(?<![\d/.-])(0?[1-9]|[12]\d|3[01])([/.-])(0?[1-9]|1[0-2])\2"
                          r"(1[89]|2\d)\d\d(?![\d/.-])")
_CAPITALISED = r"[A-ZÀ-ÖØ-Þ][\w'’-]*[\w]"
_POSTCODE_PLACE = re.compile(r"(?<![\w.-])[1-9]\d{3}\s+[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’-]{2,}")


@dataclass(frozen=True)
class _Shapes:
    name: re.Pattern[str]
    street: re.Pattern[str]


@functools.cache
def _shapes() -> _Shapes:
    """Name and street patterns from Faker's locale data (the vocabulary synthetic people are
    drawn from): a given name followed by a capitalised word, a capitalised word followed by
    a surname, "Surname, Given name"; a street name with a house number."""
    from faker.providers.address.nl_BE import Provider as FlemishAddresses
    from faker.providers.person import fr_BE, nl_BE, nl_NL, tr_TR

    given: set[str] = set()
    surnames: set[str] = set()
    for module in (nl_BE, fr_BE, nl_NL, tr_TR):
        provider = module.Provider
        for attr in ("first_names", "first_names_male", "first_names_female"):
            given.update(getattr(provider, attr, ()) or ())
        surnames.update(getattr(provider, "last_names", ()) or ())

    def alternation(words: set[str]) -> str:
        return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True) if len(w) > 2)

    g, s, c = alternation(given), alternation(surnames), _CAPITALISED
    edge, end = r"(?<![\w-])", r"(?![\w-])"
    name = re.compile(rf"{edge}(?:(?:{g})\s+{c}|{c}\s+(?:{s})|(?:{s}),\s*(?:{g})){end}")
    suffixes = sorted(set(FlemishAddresses.street_suffixes) | {"plein", "kaai", "dijk", "markt",
                                                               "gracht", "steenweg", "dreefje"},
                      key=len, reverse=True)
    street = re.compile(rf"{edge}[A-ZÀ-ÖØ-Þ][\w'’-]*(?:{'|'.join(suffixes)})\s+\d+[A-Za-z]?\b")
    return _Shapes(name, street)


def personal_shape(value: str) -> str | None:
    """What personal value ``value`` looks like (``"name"``, ``"date"``...), or None."""
    for token in _INSZ_LIKE.findall(value):
        if ssn.is_valid(re.sub(r"\D", "", token)):
            return "national number (INSZ)"
    if _SOURCE_DATE.search(value):
        return "date as a source writes it (e.g. a birth date)"
    shapes = _shapes()
    if shapes.street.search(value) or _POSTCODE_PLACE.search(value):
        return "address"
    if shapes.name.search(value):
        return "person's name"
    if _PSEUDONYM.search(value):
        return "protocol pseudonym"
    return None


class AuditRefused(ValueError):
    """An entry that would put a personal value or pseudonym in the log, or is malformed."""


@dataclass(frozen=True)
class Entry:
    position: int  # 1-based line number in the log
    seq: int
    at: str
    event: str
    fields: dict[str, Any]
    prev: str
    hash: str


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int  # entries read (up to and including the first broken one)
    first_broken: int | None = None  # 1-based position of the first broken entry
    problem: str = ""
    last: Entry | None = None  # the last entry of a valid chain

    def __str__(self) -> str:
        if self.ok:
            head = f"; last #{self.last.seq} {self.last.event} at {self.last.at}" if self.last \
                else ""
            return f"audit chain verified: {self.entries} entries{head}"
        return f"audit chain BROKEN at entry {self.first_broken}: {self.problem}"


# ------------------------------------------------------------------------------------ the file

def log_path(p: settings.Paths | None = None) -> Path:
    """``data/audit/audit_log.jsonl`` under the current data folder."""
    p = p or settings.paths()
    return p.data / "audit" / LOG_NAME


def _canonical(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(seq: int, at: str, event: str, fields: Mapping[str, Any], prev: str) -> str:
    body = {"seq": seq, "at": at, "event": event, "fields": fields, "prev": prev}
    return hashlib.sha256(_canonical(body)).hexdigest()


def _last_line(f) -> bytes:
    """The last non-empty line of an open binary file (read backwards, not the whole file)."""
    f.seek(0, os.SEEK_END)
    end = f.tell()
    block, data = 4096, b""
    pos = end
    while pos > 0:
        step = min(block, pos)
        pos -= step
        f.seek(pos)
        data = f.read(step) + data
        stripped = data.rstrip(b"\n")
        if b"\n" in stripped:
            return stripped.rsplit(b"\n", 1)[1]
    return data.rstrip(b"\n")


# ------------------------------------------------------------------------------------ guard

def check_fields(fields: Mapping[str, Any], path: str = "") -> None:
    """Refuse values that are, or look like, personal identifiers or pseudonyms."""
    for key, value in fields.items():
        if not isinstance(key, str):
            raise AuditRefused(f"field names must be text, got {key!r}")
        _check_value(value, f"{path}{key}", key)


def _check_value(value: Any, where: str, key: str) -> None:
    if value is None or isinstance(value, bool | int | float):
        return
    if isinstance(value, dt.date | dt.datetime):
        return
    if isinstance(value, str):
        shape = personal_shape(value)
        if shape:
            raise AuditRefused(f"{where}: holds what looks like a {shape}; the audit log "
                               "takes counts and file names, never personal values")
        if not key.lower().endswith("sha256") and _HEX_TOKEN.search(value):
            raise AuditRefused(f"{where}: holds a long hexadecimal token, the shape of a "
                               "pseudonym; only fields named *sha256 may carry hashes")
        return
    if isinstance(value, Mapping):
        check_fields(value, f"{where}.")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_value(item, f"{where}[{i}]", key)
        return
    raise AuditRefused(f"{where}: {type(value).__name__} is not a JSON value")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# ------------------------------------------------------------------------------------ API

def record(event_type: str, /, *, path: Path | None = None, **fields: Any) -> Entry:
    """Append one entry and return it. Safe across processes (exclusive lock + fsync).

    ``event_type`` is one of ``EVENT_TYPES``; its required fields must be present. Raises
    ``AuditRefused`` for an unknown type, a missing field, or a value that looks personal.
    """
    if event_type not in EVENT_TYPES:
        raise AuditRefused(f"unknown audit event type {event_type!r}; known: {sorted(EVENT_TYPES)}")
    missing = [f for f in EVENT_TYPES[event_type] if f not in fields]
    if missing:
        raise AuditRefused(f"{event_type} entry without {missing}")
    check_fields(fields)
    fields = _jsonable(fields)
    target = path or log_path()
    settings.restricted_dir(target.parent)
    created = not target.exists()
    # created owner-only: the log names files and counts, and says what was done to whom
    with os.fdopen(os.open(target, os.O_RDWR | os.O_APPEND | os.O_CREAT, settings.OWNER_FILE),
                   "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            last = _last_line(f)
            seq, prev = 1, GENESIS
            if last:
                try:
                    previous = json.loads(last)
                    seq, prev = int(previous["seq"]) + 1, str(previous["hash"])
                except (ValueError, KeyError, TypeError):
                    # A torn or tampered last line: chain on from it by its bytes, so verify
                    # reports that line (not this one) as the first broken entry.
                    seq, prev = _count_lines(target) + 1, hashlib.sha256(last).hexdigest()
            at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
            digest = entry_hash(seq, at, event_type, fields, prev)
            line = {"seq": seq, "at": at, "event": event_type, "fields": fields, "prev": prev,
                    "hash": digest}
            f.seek(0, os.SEEK_END)
            if f.tell() > 0:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    f.write(b"\n")
            f.write(_canonical(line) + b"\n")
            f.flush()
            os.fsync(f.fileno())
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    if created:
        settings.fsync_path(target.parent)
    return Entry(seq, seq, at, event_type, fields, prev, digest)


def _count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def entries(path: Path | None = None) -> Iterator[Entry]:
    """Every entry in order (raises ValueError on a line that is not an entry)."""
    target = path or log_path()
    if not target.exists():
        return
    with open(target, "rb") as f:
        for position, raw in enumerate((line for line in f if line.strip()), start=1):
            obj = json.loads(raw)
            yield Entry(position, obj["seq"], obj["at"], obj["event"], obj["fields"], obj["prev"],
                        obj["hash"])


def verify(path: Path | None = None) -> Verification:
    """Check the whole chain; report the first broken entry by its position (1-based)."""
    target = path or log_path()
    if not target.exists():
        return Verification(True, 0)
    prev, last, count = GENESIS, None, 0
    with open(target, "rb") as f:
        lines = (line for line in f if line.strip())
        for position, raw in enumerate(lines, start=1):
            count = position
            try:
                obj = json.loads(raw)
                seq, at, event = obj["seq"], obj["at"], obj["event"]
                fields, claimed_prev, claimed = obj["fields"], obj["prev"], obj["hash"]
            except (ValueError, KeyError, TypeError):
                return Verification(False, count, position, "not a readable audit entry")
            if seq != position:
                return Verification(False, count, position,
                                    f"sequence number {seq} where {position} was expected "
                                    "(an entry was removed or inserted)")
            if claimed_prev != prev:
                return Verification(False, count, position,
                                    "does not chain to the entry before it (the previous entry "
                                    "was changed, removed or inserted)")
            if entry_hash(seq, at, event, fields, claimed_prev) != claimed:
                return Verification(False, count, position,
                                    "its content does not match its hash (the entry was changed)")
            prev = claimed
            last = Entry(position, seq, at, event, fields, claimed_prev, claimed)
    return Verification(True, count, last=last)


def trusted_entries(path: Path | None = None, chain: Verification | None = None) -> list[Entry]:
    """The entries before the first broken one (all of them when the chain holds)."""
    chain = chain or verify(path)
    if chain.entries == 0:
        return []
    limit = chain.entries if chain.ok else (chain.first_broken or 1) - 1
    found: list[Entry] = []
    if limit <= 0:
        return found
    for e in entries(path):
        found.append(e)
        if len(found) >= limit:
            break
    return found


# Ingestion statuses after which the same bytes are never ingested again. Not "held": a held
# file released by the steward goes back to the inbox to be ingested.
TAKEN_IN = ("loaded", "rejected", "duplicate")


def ingested_sha256s(path: Path | None = None) -> set[str]:
    """SHA-256 of every file ingestion took in (``TAKEN_IN``), from the trail.

    Why here: the inbox sensors must not open DuckDB, yet must know what an in-process run
    (``make run``) already ingested, so that opening the UI afterwards starts nothing again.
    Unreadable lines are skipped (``verify`` is where a broken chain is reported)."""
    target = path or log_path()
    if not target.exists():
        return set()
    found: set[str] = set()
    with open(target, "rb") as f:
        for raw in f:
            if b'"ingestion"' not in raw:
                continue
            try:
                obj = json.loads(raw)
                fields = obj["fields"]
                if obj["event"] == "ingestion" and fields.get("status") in TAKEN_IN:
                    found.add(str(fields["sha256"]))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
    return found


def ingestion_fields(result: Any, run_id: str | None = None) -> dict[str, Any] | None:
    """The audit fields of one ingestion ``FileResult``; None for results that are not events
    (the same file seen again under its own name, or a file of unknown type that never had a
    hash)."""
    if not result.sha256 or result.status not in ("loaded", "rejected", "held", "duplicate"):
        return None
    if result.status == "duplicate" and not getattr(result, "new_copy", False):
        return None
    from orchestration.foundations.sources import BY_FILE_TYPE

    spec = BY_FILE_TYPE.get(result.file_type)
    fields: dict[str, Any] = {
        "file": result.file_name, "sha256": result.sha256,
        "source": spec.source if spec else None, "file_type": result.file_type,
        "status": result.status, "school_year": result.school_year,
        "received": result.received, "loaded": result.loaded, "quarantined": result.quarantined,
        "quarantine_rules": dict(result.rule_counts),
    }
    if result.status in ("rejected", "held", "duplicate"):
        # These messages name file, rule, positions and counts, never a row value.
        fields["reason"] = result.message[:500]
    if run_id:
        fields["run_id"] = run_id
    return fields


def record_ingestion(results: list[Any], run_id: str | None = None,
                     path: Path | None = None) -> int:
    """One ``ingestion`` entry per file that ingestion loaded or rejected; returns how many."""
    written = 0
    for r in results:
        fields = ingestion_fields(r, run_id)
        if fields is not None:
            record("ingestion", path=path, **fields)
            written += 1
    return written


# ------------------------------------------------------------------------------------ CLI

def select(found: list[Entry], *, protocol: str | None = None, events: list[str] | None = None,
           since: dt.date | None = None, until: dt.date | None = None) -> list[Entry]:
    """The entries of one protocol (those naming it), of some event types, on days
    ``since``..``until`` (inclusive, UTC as recorded)."""
    out = []
    for e in found:
        day = dt.date.fromisoformat(e.at[:10])
        if protocol is not None and e.fields.get("protocol") != protocol:
            continue
        if events and e.event not in events:
            continue
        if (since is not None and day < since) or (until is not None and day > until):
            continue
        out.append(e)
    return out


def _brief(value: Any) -> str:
    """One field value for a reader: lists of files by name, nested maps as key=value."""
    if isinstance(value, list):
        names = [v.get("file") for v in value if isinstance(v, Mapping) and v.get("file")]
        if names:
            return f"{len(value)} file(s): " + ", ".join(names)
        return ", ".join(_brief(v) for v in value) if value else "none"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={_brief(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef"
                                                            for c in value):
        return value[:12] + "…"  # a file's SHA-256, shortened for reading
    return str(value)


def readable(e: Entry) -> str:
    """One entry as a line a steward reads: number, time, event, protocol, then the fields."""
    when = e.at[:19].replace("T", " ")
    head = f"#{e.seq:<5} {when} UTC  {e.event:<16}"
    protocol = e.fields.get("protocol")
    rest = "  ".join(f"{k}: {_brief(v)}" for k, v in e.fields.items()
                     if k != "protocol" and v not in (None, "", [], {}))
    return f"{head} {protocol or '-':<16} {rest}".rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.foundations.audit",
                                     description="Verify or show the audit trail.")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="check the hash chain; exit 1 at the first broken entry")
    v.add_argument("--path", type=Path, help=f"default: $DATA/audit/{LOG_NAME}")
    t = sub.add_parser("tail", help="show the last entries (after the filters), one per line")
    t.add_argument("-n", type=int, default=20, help="how many (default 20; 0 = all)")
    t.add_argument("--protocol", help="only entries naming this protocol id")
    t.add_argument("--event", action="append", choices=sorted(EVENT_TYPES),
                   help="only this event type (repeat for several)")
    t.add_argument("--since", type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                   help="only entries on or after this day (UTC)")
    t.add_argument("--until", type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                   help="only entries on or before this day (UTC)")
    t.add_argument("--json", action="store_true", help="the entries' fields as JSON")
    t.add_argument("--path", type=Path)
    args = parser.parse_args(argv)
    target = args.path or log_path()
    if args.command == "verify":
        result = verify(target)
        print(f"{target}: {result}")
        return 0 if result.ok else 1
    shown = select(list(entries(target)), protocol=args.protocol, events=args.event,
                   since=args.since, until=args.until)
    if args.n > 0:
        shown = shown[-args.n:]
    for e in shown:
        if args.json:
            print(f"#{e.seq} {e.at} {e.event} {json.dumps(e.fields, ensure_ascii=False)}")
        else:
            print(readable(e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
