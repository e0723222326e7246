"""Retention rules from the registry, turned into a plan of erasures: pure functions, no IO.

The registry says how long each protocol's data may be kept (``retention``); ``sources.py`` says
which protocols each source file type serves (the registry's ``draws_on``). A file type's data may
be erased only when **every** protocol it serves allows it:

- a protocol with ``not_stated`` retention keeps the data (Discimus, LED: AGODI's own master data
  serve protocols without a term, so they are never erased here);
- ``years_after_receipt`` (zorgthuis, 30 years): each received file is erased ``term`` after the
  day it was ingested, with its quarantined rows, its rejected copy and its landing file;
- ``years_after_birth`` (duo_leerplicht, 30 years): each row is erased ``term`` after the birth
  date in it (rows of DUO and Rijksregister files), quarantined rows alike; a file and its copies
  go when the youngest person in it is past the term;
- ``end_of_research_assignment`` (naft_evaluation): the data go the day after the assignment's end
  date; while that date is a placeholder in the registry the action is **held** until it is
  confirmed (a forced action with a reason);
- ``retention.landing_wipe_after`` (duo_leerplicht, 3 months): the source's own files are removed
  from the landing area (``data/inbox/<source>/``) that long after receipt; the rows stay;
- a file type whose protocols disagree on the kind of rule is **unresolved**: kept and reported.

Refused files (``data/restricted/refused/``) and files of unknown type left in an inbox are
deleted ``REFUSED_FILES_TERM`` after they were refused (LOCAL RULE: the registry has no rule for
data received without a protocol). Delivered files in ``data/outbox/<protocol>/`` follow their
protocol's rule from the day they were written; under ``end_of_research_assignment`` only
person-level files go and aggregated results stay. A protocol's processor hand-offs
(``data/outbox/processors/<processor>/<protocol>/``: the files handed off and the rejections of
answers) and the processor's answers (``data/inbox/processors/<processor>/<protocol>/``) hold
the protocol's keys: they follow the same rule of that protocol.

Persons who, after the erasures, appear in no raw table any more are forgotten altogether (vault
entry, derived rows, pseudonyms): that step needs the database and lives in ``erasure``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from orchestration.protocols.registry import Protocol, Registry, add_duration, duration_parts
from orchestration.foundations.sources import BY_FILE_TYPE, SOURCE_FILES, SourceFile, identify

# LOCAL RULE (registry gap): how long a refused file (unknown type, no valid protocol) is kept in
# the restricted zone for the data steward to see before it is deleted.
REFUSED_FILES_TERM = "P30D"

# The header of the birth-date column in every source that has one (as ingestion's row findings
# assume). A years_after_birth file type without it cannot be planned and is reported.
BIRTH_DATE_HEADER = "Geboortedatum"


# ------------------------------------------------------------------------------------ holdings

@dataclass(frozen=True)
class IngestedFile:
    """One file ingestion took in (``ingest.files``, grouped by SHA-256 and file type)."""

    sha256: str
    file_type: str
    file_name: str
    status: str  # loaded | superseded | rejected | erased
    received_on: dt.date
    school_year: str | None = None
    rows: int = 0  # rows still held for it: raw rows plus quarantined rows in the vault
    youngest_birth: dt.date | None = None  # birth-governed types: latest birth date in its rows
    unreadable_births: int = 0  # birth-governed types: rows whose birth date cannot be read


@dataclass(frozen=True)
class StoredFile:
    """A file on disk under the data folder that retention governs."""

    path: str  # relative to the data folder, POSIX form
    area: str  # inbox | quarantine | refused | outbox | processor
    owner: str  # inbox/quarantine/refused: the source; outbox, processor: the protocol id
    modified_on: dt.date
    size: int = 0
    sha256: str | None = None  # inbox: full SHA-256; quarantine/refused: 12-character prefix


@dataclass
class Holdings:
    """Everything retention looks at; built by ``inventory``, or by hand in tests."""

    files: list[IngestedFile] = field(default_factory=list)
    # file type -> [(birth date, rows)] of raw rows and readable quarantined rows
    births: dict[str, list[tuple[dt.date, int]]] = field(default_factory=dict)
    stored: list[StoredFile] = field(default_factory=list)
    # outbox path -> delivery file id, from the audit trail's delivery entries
    delivered: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------------ rules

@dataclass(frozen=True)
class TypeRule:
    """The retention rule of one source file type, combined over the protocols it serves."""

    file_type: str
    kind: str  # receipt | birth | fixed | keep | unresolved
    protocols: tuple[str, ...]
    label: str
    term: str | None = None
    until: dt.date | None = None
    placeholder: bool = False
    age_min: int = 0
    landing_wipe_after: str | None = None
    landing_label: str | None = None


def _longest(terms: Iterable[str]) -> str:
    return max(terms, key=lambda t: add_duration(dt.date(2000, 1, 1), t))


def protocol_rule_label(p: Protocol) -> str:
    r = p.retention
    if r.rule == "years_after_receipt":
        return f"{p.id}: {_years(r.term)} after receipt ({r.term})"
    if r.rule == "years_after_birth":
        return f"{p.id}: {_years(r.term)} after the pupil's birth ({r.term})"
    if r.rule == "end_of_research_assignment":
        placeholder = " (placeholder)" if r.research_assignment_end_is_placeholder else ""
        return (f"{p.id}: end of the research assignment "
                f"{r.research_assignment_end.isoformat()}{placeholder}")
    return f"{p.id}: no retention term stated"


def _years(term: str | None) -> str:
    years, months, days = duration_parts(term or "P0D")
    parts = [f"{n} {unit}{'s' if n != 1 else ''}"
             for n, unit in ((years, "year"), (months, "month"), (days, "day")) if n]
    return " ".join(parts) or "0 days"


def type_rule(spec: SourceFile, registry: Registry) -> TypeRule:
    """Combine the retention of every registry protocol that ``spec`` serves."""
    protocols = registry.drawing_on(spec.file_type)
    ids = tuple(p.id for p in protocols)
    wipe = [(p.retention.landing_wipe_after, p) for p in protocols
            if p.retention.landing_wipe_after
            and any(spec.source in s.systems for s in p.parties.sources)]
    landing, landing_label = None, None
    if wipe:
        term, owner = min(wipe, key=lambda w: add_duration(dt.date(2000, 1, 1), w[0]))
        landing = term
        landing_label = f"{owner.id}: {spec.source} files removed from the landing area " \
                        f"{_years(term)} after receipt ({term})"
    base = dict(file_type=spec.file_type, protocols=ids, landing_wipe_after=landing,
                landing_label=landing_label)
    if not protocols:
        return TypeRule(kind="keep", label="no protocol governs this file type (reference data)",
                        **base)
    rules = {p.retention.rule for p in protocols}
    if "not_stated" in rules:
        silent = [p.id for p in protocols if p.retention.rule == "not_stated"]
        return TypeRule(kind="keep", label=f"kept: {', '.join(silent)} state(s) no retention term",
                        **base)
    if len(rules) > 1:
        return TypeRule(kind="unresolved", label=(
            f"unresolved: protocols {', '.join(ids)} combine different retention rules "
            f"({', '.join(sorted(rules))}); decide in the registry"), **base)
    rule = rules.pop()
    labels = "; ".join(protocol_rule_label(p) for p in protocols)
    if rule == "years_after_receipt":
        return TypeRule(kind="receipt", label=labels,
                        term=_longest(p.retention.term for p in protocols), **base)
    if rule == "years_after_birth":
        if BIRTH_DATE_HEADER not in spec.headers:
            return TypeRule(kind="unresolved", label=(
                f"unresolved: {labels}, but {spec.file_type} has no {BIRTH_DATE_HEADER} column"),
                **base)
        ages = [p.population.age_min for p in protocols if p.population.age_min is not None]
        return TypeRule(kind="birth", label=labels,
                        term=_longest(p.retention.term for p in protocols),
                        age_min=min(ages) if len(ages) == len(protocols) else 0, **base)
    ends = [(p.retention.research_assignment_end, p) for p in protocols]
    until, owner = max(ends, key=lambda e: e[0])
    return TypeRule(kind="fixed", label=labels, until=until,
                    placeholder=owner.retention.research_assignment_end_is_placeholder, **base)


def first_birth_date_kept(today: dt.date, term: str) -> dt.date:
    """The earliest birth date whose data may still be kept on ``today``: rows born before it
    are past ``birth + term`` (``add_duration`` rules, so 29 February ages like the registry)."""
    years, months, days = duration_parts(term)
    guess = today - dt.timedelta(days=int(years * 365.2425 + months * 30.437 + days) + 40)
    while add_duration(guess, term) < today:
        guess += dt.timedelta(days=1)
    while add_duration(guess - dt.timedelta(days=1), term) >= today:
        guess -= dt.timedelta(days=1)
    return guess


def _minus_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def file_keep_until(rule: TypeRule, f: IngestedFile) -> dt.date | None:
    """The last day a received file (its rows, quarantined rows and copies) may be kept."""
    if rule.kind == "receipt":
        return add_duration(f.received_on, rule.term or "P0D")
    if rule.kind == "fixed":
        return rule.until
    if rule.kind == "birth":
        # The youngest person the file (and its copies) can hold: its youngest birth date when
        # every row it still has is readable; otherwise (unreadable rows, a file rejected whole,
        # a superseded file whose rows left raw) at most age_min years before receipt.
        if f.youngest_birth is not None and f.rows and not f.unreadable_births:
            youngest = f.youngest_birth
        else:
            youngest = _minus_years(f.received_on, rule.age_min)
            if f.youngest_birth is not None and f.youngest_birth > youngest:
                youngest = f.youngest_birth
        return add_duration(youngest, rule.term or "P0D")
    return None


# ------------------------------------------------------------------------------------ the plan

@dataclass(frozen=True)
class Action:
    kind: str  # erase_file | erase_born_before | delete_stored_file
    rule: str  # the rule, in words
    target: str  # what, in words (file name, file type, path)
    keep_until: dt.date | None = None
    protocols: tuple[str, ...] = ()
    file_type: str | None = None
    sha256: str | None = None
    born_before: dt.date | None = None
    path: str | None = None
    rows: int = 0  # rows concerned (estimate from the holdings)
    held: str | None = None  # why the action waits for a confirmation

    @property
    def is_held(self) -> bool:
        return self.held is not None


@dataclass
class RetentionPlan:
    today: dt.date
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # kept or unresolved, for the steward

    def to_apply(self, confirm_placeholders: bool = False) -> list[Action]:
        return [a for a in self.actions if confirm_placeholders or not a.is_held]

    @property
    def held(self) -> list[Action]:
        return [a for a in self.actions if a.is_held]

    def summary(self) -> dict[str, int]:
        return {
            "files_to_erase": sum(a.kind == "erase_file" for a in self.actions if not a.is_held),
            "rows_to_erase": sum(a.rows for a in self.actions if not a.is_held
                                 and a.kind in ("erase_file", "erase_born_before")),
            "stored_files_to_delete": sum(a.kind == "delete_stored_file" for a in self.actions
                                          if not a.is_held),
            "held_actions": len(self.held),
        }

    def markdown(self) -> str:
        if not self.actions:
            head = f"Retention on {self.today.isoformat()}: nothing to erase."
        else:
            head = (f"Retention on {self.today.isoformat()}: {len(self.actions)} action(s)"
                    f" ({len(self.held)} held).\n\n"
                    "| action | target | rows | kept until | rule | held |\n"
                    "|---|---|---|---|---|---|\n" + "".join(
                        f"| {a.kind} | {a.target} | {a.rows} | "
                        f"{a.keep_until.isoformat() if a.keep_until else ''} | {a.rule} | "
                        f"{a.held or ''} |\n" for a in self.actions))
        if self.notes:
            head += "\n\nNotes:\n" + "".join(f"- {n}\n" for n in self.notes)
        return head


def plan(registry: Registry, holdings: Holdings, today: dt.date,
         specs: Iterable[SourceFile] = SOURCE_FILES) -> RetentionPlan:
    """What retention erases on ``today``; nothing is touched here."""
    rules = {s.file_type: type_rule(s, registry) for s in specs}
    result = RetentionPlan(today)
    for r in rules.values():
        if r.kind == "unresolved":
            result.notes.append(f"{r.file_type}: {r.label}")

    by_sha: dict[str, IngestedFile] = {}
    file_until: dict[tuple[str, str], dt.date | None] = {}
    for f in sorted(holdings.files, key=lambda f: (f.received_on, f.file_name)):
        by_sha.setdefault(f.sha256, f)
        rule = rules.get(f.file_type)
        if rule is None:
            continue
        until = None if f.status == "erased" else file_keep_until(rule, f)
        file_until[(f.sha256, f.file_type)] = until
        if f.status == "erased" or until is None or today <= until:
            continue
        result.actions.append(Action(
            "erase_file", rule.label, f"{f.file_name} ({f.status}, received "
            f"{f.received_on.isoformat()})", until, rule.protocols, f.file_type, f.sha256,
            rows=f.rows, held=_held(rule, registry)))

    for file_type, rule in rules.items():
        if rule.kind != "birth":
            continue
        cutoff = first_birth_date_kept(today, rule.term or "P0D")
        rows = sum(n for born, n in holdings.births.get(file_type, []) if born < cutoff)
        if rows:
            result.actions.append(Action(
                "erase_born_before", rule.label, f"rows of {file_type} born before "
                f"{cutoff.isoformat()}", add_duration(cutoff - dt.timedelta(days=1), rule.term),
                rule.protocols, file_type, born_before=cutoff, rows=rows))

    for s in sorted(holdings.stored, key=lambda s: s.path):
        action = _stored_file_action(s, rules, by_sha, file_until, registry, holdings, today)
        if action is not None:
            result.actions.append(action)
    return result


def _held(rule: TypeRule, registry: Registry) -> str | None:
    if rule.kind == "fixed" and rule.placeholder:
        return (f"the end date {rule.until.isoformat()} is a placeholder in the registry "
                "(research_assignment_end_is_placeholder): confirm the real date there, or run "
                "with confirm_placeholder_dates and a reason")
    return None


def _stored_file_action(s: StoredFile, rules: dict[str, TypeRule], by_sha: dict[str, IngestedFile],
                        file_until: dict[tuple[str, str], dt.date | None], registry: Registry,
                        holdings: Holdings, today: dt.date) -> Action | None:
    name = PurePosixPath(s.path).name

    def delete(until: dt.date | None, rule: str, protocols: tuple[str, ...] = (),
               held: str | None = None) -> Action | None:
        if until is None or today <= until:
            return None
        return Action("delete_stored_file", rule, s.path, until, protocols, path=s.path,
                      held=held)

    if s.area == "refused":
        return delete(add_duration(s.modified_on, REFUSED_FILES_TERM),
                      f"refused file kept {_years(REFUSED_FILES_TERM)} (local rule)")
    if s.area in ("outbox", "processor"):
        return _outbox_action(s, registry, holdings, today, delete)
    if s.area == "quarantine":
        matches = [f for f in by_sha.values() if s.sha256 and f.sha256.startswith(s.sha256)
                   and f.file_type in BY_FILE_TYPE
                   and BY_FILE_TYPE[f.file_type].source == s.owner]
        if not matches:
            return None  # a copy ingestion did not record: reported by the steward's review
        f = matches[0]
        rule = rules[f.file_type]
        until = None if f.status == "erased" else file_until.get((f.sha256, f.file_type))
        if f.status == "erased":
            until = today - dt.timedelta(days=1)
        return delete(until, rule.label, rule.protocols, _held(rule, registry))
    # inbox
    found = identify(name)
    if found is None or found[0].source != s.owner:
        return delete(add_duration(s.modified_on, REFUSED_FILES_TERM),
                      f"file of unknown type in the landing area, kept "
                      f"{_years(REFUSED_FILES_TERM)} (local rule)")
    rule = rules.get(found[0].file_type)
    if rule is None:
        return None
    ingested = by_sha.get(s.sha256 or "")
    received = ingested.received_on if ingested else s.modified_on
    if rule.landing_wipe_after:
        return delete(add_duration(received, rule.landing_wipe_after), rule.landing_label or "",
                      rule.protocols)
    if ingested is None:
        return None  # not ingested yet: the inbox sensor will take it
    if ingested.status == "erased":
        return delete(today - dt.timedelta(days=1), rule.label, rule.protocols)
    until = file_until.get((ingested.sha256, ingested.file_type))
    return delete(until, rule.label, rule.protocols, _held(rule, registry))


def _outbox_action(s: StoredFile, registry: Registry, holdings: Holdings, today: dt.date,
                   delete) -> Action | None:
    protocol = registry.protocols.get(s.owner)
    if protocol is None:
        return None
    r = protocol.retention
    file_id = holdings.delivered.get(s.path) or _delivery_file_id(protocol, s.path)
    personal = True
    if file_id is not None:
        personal = protocol.delivery_file(file_id).person_level
    kind = ("processor hand-off or answer" if s.area == "processor"
            else "delivered file" if file_id else "delivered file, type unknown")
    label = f"{protocol_rule_label(protocol)} ({kind})"
    if r.rule == "years_after_receipt":
        return delete(add_duration(s.modified_on, r.term), label, (protocol.id,))
    if r.rule == "years_after_birth":
        age = protocol.population.age_min or 0
        return delete(add_duration(_minus_years(s.modified_on, age), r.term), label, (protocol.id,))
    if r.rule == "end_of_research_assignment" and personal:
        held = None
        if r.research_assignment_end_is_placeholder:
            held = (f"the end date {r.research_assignment_end.isoformat()} is a placeholder in "
                    "the registry: confirm it, or run with confirm_placeholder_dates and a reason")
        return delete(r.research_assignment_end, label, (protocol.id,), held)
    return None


def _delivery_file_id(protocol: Protocol, path: str) -> str | None:
    """The registry delivery file a delivered file belongs to, from its path: a folder named
    after the file id, or a file name that starts with it (longest id first)."""
    parts = PurePosixPath(path).parts
    ids = sorted((f.id for f in protocol.delivery_files), key=len, reverse=True)
    for file_id in ids:
        if file_id in parts[:-1] or parts[-1].startswith(file_id):
            return file_id
    return None
