"""The article-7 rule catalogue: every error a source can make, as data, generated from the contract.

Every protocol's article 7 obliges the recipient to report *erroneous, inaccurate, incomplete,
missing, outdated or superfluous* data to the source. Each :class:`Rule` is one such check on one
source file type: its article-7 category, its severity, whether it blocks, the sources it compares
with, and one SQL query that returns the affected records.

**Generated from the source contract.** :mod:`orchestration.foundations.sources` says what every
column means (its code list or format, the register it refers to, the window its dates lie in,
the bounds of its counts, the file's natural key); :func:`contract_rules` turns that into rules,
so a new column brings its checks with it:

- codes: ``unknown_code_<col>`` (blocking) and ``code_not_canonical_<col>`` (a code staging would
  repair: other case or padding; reported to the source first, then repaired);
- references: ``unknown_<register>_<col>`` (school and branch per school year, provider per
  school year, NIS code, trajectory);
- dates: ``<col>_outside_school_year``, ``<col>_after_reference_date``, ``<col>_before_<other>``,
  ``<col>_before_birth`` and ``<col>_at_impossible_age`` (birth date from the enrolments);
- quantities: ``<col>_out_of_bounds`` (minimum, maximum, another column, school days of the
  Flemish calendar);
- uniqueness: ``duplicate_row`` (an exact copy) and ``key_conflict`` (the same natural key with
  other values): two different findings.

Rules that are not about one column (ingestion's quarantine, whole files, expected files, the
extract's reference date, the contradictions across sources, the protocol's scope) are written
below once, for every file type they apply to.

**One typed layer.** Rules never parse raw text: ``__BATCH__`` stands for the *typed* rows of the
validated file type (:func:`typed_relation`: dates, integers and flags typed by the contract,
codes kept as delivered, so a code's case and padding can still be reported). Another file type
is read through the same function. Article-7 rules are the only place these facts are judged;
dbt tests on staging and marts are model invariants (keys, not-null, relationships between
models), never a second copy of a source rule.

Each rule query is used twice:

- as a Great Expectations ``UnexpectedRowsExpectation`` in the suite ``raw_<file_type>`` (built by
  :mod:`orchestration.quality.suites`), run as a Dagster asset check on ``raw/<file_type>``: the
  check sees the *number* of rows, never the rows;
- by the findings register (:mod:`orchestration.quality.register`), which needs the records
  themselves (file, row, the source's own key, the pupil key) to route findings to the source.

Output contract of every rule query (one row per affected record; ``source_row`` 0 = the whole
file, as in the ground truth and in ``ingest.quarantine``):

    source_file, source_file_sha256, source_row, slot, pupil_key, record_key, source_key,
    column_name

``source_key`` is the source's *own* plain identifier of the record (``Inschrijving_id=E123``),
never the INSZ, a name or another source's data; ``slot`` is only set where there is no file
(an expected file that never arrived); the register takes it from ``ingest.files`` otherwise.

Which defects block: a rule is **blocking** when the affected rows were loaded into ``raw`` and
would carry wrong, impossible or out-of-scope values into staging, marts and deliveries (codes
outside the code lists, references that resolve to nothing, impossible dates or counts,
duplicates, a stale extract, out-of-scope records). Rules on rows or files that ingestion already
held back (quarantine, rejected files), on codes staging repairs, on missing records and on
plausibility are warnings: they are reported to the source but stop nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from orchestration.foundations import calendar
from orchestration.foundations import school_year as sy
from orchestration.foundations.raw_layout import (has_personal_record_key, has_vault_columns,
                                                  slot_of)
from orchestration.foundations.sources import BY_FILE_TYPE, SOURCE_FILES, Column, SourceFile

Category = Literal["erroneous", "inaccurate", "incomplete", "missing", "outdated", "superfluous"]
CATEGORIES: tuple[str, ...] = ("erroneous", "inaccurate", "incomplete", "missing", "outdated",
                               "superfluous")
#: Dutch wording of article 7, for the reports to the sources.
CATEGORY_NL = {"erroneous": "foutief", "inaccurate": "onnauwkeurig", "incomplete": "onvolledig",
               "missing": "ontbrekend", "outdated": "verouderd", "superfluous": "overtollig"}
Severity = Literal["critical", "warning"]

BATCH = "__BATCH__"
SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"

#: File types whose every extract is the whole state of a register on its reference date: a later
#: extract is the source's current answer, so it can resolve a finding on an earlier one.
STATE_REGISTERS = frozenset({"duo_registrations", "rijksregister_children"})

OUTPUT_COLUMNS = ("source_file", "source_file_sha256", "source_row", "slot", "pupil_key",
                  "record_key", "source_key", "column_name")

#: Youngest age at which a pupil can hold an attest or a certificate (kleuter attests do not
#: exist; the first attests are given in lager onderwijs).
YOUNGEST_CERTIFICATE_AGE = 5


@dataclass(frozen=True)
class Rule:
    """One article-7 check on one source file type."""

    id: str  # snake_case; also the Dagster check name (unique per file type)
    file_type: str
    category: Category
    severity: Severity
    title: str  # what is wrong, in one line (no values)
    description: str  # what a failure means for the data steward
    sql: str  # affected records, OUTPUT_COLUMNS; __BATCH__ = the validated (typed) rows
    blocking: bool = False
    column: str | None = None  # the source header concerned, when there is one
    table: str = ""  # the validated table when it is not raw.<file_type> (then untyped)
    needs: tuple[str, ...] = ()  # tables that must exist besides the batch (else not evaluated)
    unit: str = "records"  # what a count counts: records, files, schools
    compared_with: tuple[str, ...] = ()  # other source systems the rule compares with
    kinds: tuple[str, ...] = field(default=(), compare=False)  # generator defect kinds it finds

    @property
    def source(self) -> str:
        return BY_FILE_TYPE[self.file_type].source

    @property
    def batch_table(self) -> str:
        return self.table or f"raw.{self.file_type}"

    @property
    def key(self) -> str:
        """Unique over the catalogue: ``<file_type>.<rule id>``."""
        return f"{self.file_type}.{self.id}"

    def _batch(self, table: str) -> str:
        if self.table:
            return f"(select * from {table})"
        return typed_relation(BY_FILE_TYPE[self.file_type], table)

    def gx_query(self) -> str:
        """The query as GX wants it: ``{batch}`` for the table, every other brace doubled.

        GX substitutes ``{batch}`` with an aliased subquery (``(...) AS subselect``), or, when
        the query contains a join, an unaliased one; wrapping it in a derived table gives one
        that takes our own alias in both cases.
        """
        return (self.sql.replace("{", "{{").replace("}", "}}")
                .replace(BATCH, self._batch("(select * from {batch})")))

    def sql_for(self, table: str | None = None) -> str:
        """The query for a direct run on the warehouse."""
        return self.sql.replace(BATCH, self._batch(table or self.batch_table))


# ------------------------------------------------------------------------------ the typed layer


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(_q(v) for v in values) + ")"


def typed_column(spec: SourceFile, c: Column, alias: str = "r") -> str:
    """The typed value of one plain column (ingestion guarantees that it parses)."""
    ref = f"{alias}.{c.name}"
    if c.type == "date":
        return f"try_strptime({ref}, {_q(spec.date_format)})::date"
    if c.type == "int":
        return f"try_cast({ref} as bigint)"
    if c.type == "flag":
        return f"case upper(trim({ref})) when 'J' then true when 'N' then false end"
    return ref  # text and school years as delivered: codes keep their case and padding


def typed_relation(spec: SourceFile, table: str | None = None) -> str:
    """The typed rows of a file type as a derived table: every plain column under its raw name,
    typed by the contract; ``pupil_key``, ``record_key`` and provenance; ``_year`` = the first
    calendar year of the file's school year. The one place where rules meet raw text."""
    source = table or f"raw.{spec.file_type}"
    cols = [f"{typed_column(spec, c)} as {c.name}" for c in spec.columns
            if c.sensitivity == "plain"]
    if any(c.sensitivity == "insz" for c in spec.columns):
        cols.append("r.pupil_key")
    if has_personal_record_key(spec):
        cols.append("r.record_key")
    if has_vault_columns(spec):
        cols.append("r._vault_digest")
    cols += ["r._source_file", "r._source_file_sha256", "r._source_row", "r._school_year",
             "cast(left(r._school_year, 4) as integer) as _year"]
    return f"(select {', '.join(cols)} from {source} r)"


def _col(spec: SourceFile, header: str) -> Column | None:
    return next((c for c in spec.columns if c.header == header), None)


def _has(spec: SourceFile, header: str) -> bool:
    return _col(spec, header) is not None and _col(spec, header).sensitivity == "plain"


def _source_key(spec: SourceFile, alias: str = "b") -> str:
    """The plain part of the source's own record key as ``Header=value | ...`` (null if none).

    Personal key columns (the INSZ, DUO's fictitious number) are left out: such records are
    identified by file and row, which the source can look up in its own file.
    """
    plain = {c.name: c for c in spec.columns if c.sensitivity == "plain"}
    parts = [plain[k] for k in spec.key_columns if k in plain]
    if not parts:
        return "null::varchar"
    return " || ' | ' || ".join(f"{_q(c.header + '=')} || coalesce(cast({alias}.{c.name} "
                                f"as varchar), '')" for c in parts)


def _pupil_key(spec: SourceFile, alias: str = "b") -> str:
    return f"{alias}.pupil_key" if any(c.sensitivity == "insz" for c in spec.columns) \
        else "null::varchar"


def _record_key(spec: SourceFile, alias: str = "b") -> str:
    return f"{alias}.record_key" if has_personal_record_key(spec) else "null::varchar"


def _row_select(spec: SourceFile, column: str | None, alias: str = "b") -> str:
    """The OUTPUT_COLUMNS of a (typed) row."""
    return (f"{alias}._source_file as source_file, {alias}._source_file_sha256 as "
            f"source_file_sha256, {alias}._source_row as source_row, null::varchar as slot, "
            f"{_pupil_key(spec, alias)} as pupil_key, {_record_key(spec, alias)} as record_key, "
            f"{_source_key(spec, alias)} as source_key, "
            f"{_q(column) if column else 'null::varchar'} as column_name")


def _file_select(alias: str = "f", column: str | None = None) -> str:
    """The OUTPUT_COLUMNS of a whole file (``quality.current_files`` row): row 0."""
    return (f"{alias}.file_name as source_file, {alias}.sha256 as source_file_sha256, "
            f"0::bigint as source_row, null::varchar as slot, null::varchar as pupil_key, "
            f"null::varchar as record_key, null::varchar as source_key, "
            f"{_q(column) if column else 'null::varchar'} as column_name")


def _anchored(sql: str) -> str:
    """A query on the bookkeeping only, still naming the batch once (GX warns on stdout for
    every query without it)."""
    return (f"select r.* from ({sql}) r cross join "
            f"(select count(*) as batch_rows from {BATCH}) as batch_anchor")


def _natural_key(spec: SourceFile) -> list[str]:
    """The typed columns holding the source's natural key (the INSZ is ``pupil_key``, a personal
    key ``record_key``); all content columns when the file type declares no key."""
    names = {c.name: c for c in spec.columns}
    out = []
    for k in spec.key_columns:
        c = names[k]
        out.append("pupil_key" if c.sensitivity == "insz" else
                   "record_key" if c.sensitivity == "vault" else c.name)
    return list(dict.fromkeys(out)) or _content_columns(spec)


def _content_columns(spec: SourceFile) -> list[str]:
    cols = [c.name for c in spec.columns if c.sensitivity == "plain"]
    if any(c.sensitivity == "insz" for c in spec.columns):
        cols.insert(0, "pupil_key")
    if has_personal_record_key(spec):
        cols.append("record_key")
    if has_vault_columns(spec):
        cols.append("_vault_digest")  # names and addresses, compared without their values
    return cols


# ------------------------------------------------------------------------------ code lists


def _seed_rows(folder: str, name: str) -> list[dict[str, str]]:
    with (SEEDS / folder / f"{name}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=None)
def seed_codes(name: str) -> tuple[str, ...]:
    """The codes of a dbt code-list seed (``dbt_project/seeds/codes/<name>.csv``), upper case."""
    return tuple(row["code"].strip().upper() for row in _seed_rows("codes", name))


@lru_cache(maxsize=None)
def code_list(codes: str | tuple[str, ...]) -> tuple[str, ...]:
    """A column's code list as the list spells it (a seed name or the codes themselves)."""
    if isinstance(codes, tuple):
        return codes
    return tuple(row["code"].strip() for row in _seed_rows("codes", codes))


@lru_cache(maxsize=1)
def municipality_codes() -> tuple[str, ...]:
    """Every NIS code of the Statbel list (seed ``reference/municipalities``)."""
    return tuple(sorted({row["nis_code"] for row in _seed_rows("reference", "municipalities")}))


@lru_cache(maxsize=None)
def school_days(school_year: str) -> int:
    """School days of a school year by the Flemish calendar (1 September - 31 August)."""
    day, last, n = sy.first_day(school_year), sy.last_day(school_year), 0
    while day <= last:
        n += calendar.is_school_day(day)
        day += dt.timedelta(days=1)
    return n


def _school_days_relation() -> str:
    rows = ", ".join(f"({sy.start_year(y)}, {school_days(y)})" for y in sy.ALL)
    return f"(values {rows}) as school_days(start_year, days)"


# ------------------------------------------------------------------------------ registry facts


def _protocols_of(file_type: str) -> str:
    """The ids of the protocols drawing on a file type, for a rule's text."""
    from orchestration.protocols import load_registry

    return ", ".join(p.id for p in load_registry().drawing_on(file_type))


def _registry_exchanges(file_type: str, school_year: str):
    """The exchanges of the protocols drawing on a file type, for one school year."""
    from orchestration.protocols import load_registry
    from orchestration.protocols.dates import exchange_windows

    return [e for p in load_registry().drawing_on(file_type)
            for e in exchange_windows(p, school_year)]


@lru_cache(maxsize=None)
def _in_force_during(file_type: str, school_year: str) -> bool:
    """Whether a protocol drawing on the file type is in force on some day of the school year:
    the three DUO reference dates are the cadence of those protocols, so a school year before
    any of them took effect expects no file (the yearly 15 October population extracts of
    earlier school years are requested for another purpose and expect no December or February
    extract)."""
    from orchestration.protocols import load_registry

    first, last = sy.first_day(school_year), sy.last_day(school_year)
    for p in load_registry().drawing_on(file_type):
        until = p.valid_until
        if p.validity.valid_from <= last and (until is None or until >= first):
            return True
    return False


@lru_cache(maxsize=None)
def protocol_period(file_type: str) -> tuple[str, str] | None:
    """(first, last) school year of a source file type that the protocols drawing on it cover
    (registry ``draws_on`` with ``school_year_from``/``school_year_to``); None when one of them
    uses it without limit, or none draws on it."""
    from orchestration.protocols import load_registry

    uses = [p.source_use(file_type) for p in load_registry().drawing_on(file_type)]
    if not uses or any(u.school_year_from is None or u.school_year_to is None for u in uses):
        return None
    return (min((u.school_year_from for u in uses), key=sy.start_year),
            max((u.school_year_to for u in uses), key=sy.start_year))


# ------------------------------------------------------------------------------ rows and files


def _quarantine_rule(spec: SourceFile, rule_id: str, ingest_rules: tuple[str, ...],
                     category: Category, title: str, description: str,
                     kinds: tuple[str, ...] = ()) -> Rule:
    sql = f"""
        select q.file_name as source_file, q.sha256 as source_file_sha256, q.source_row,
               null::varchar as slot, null::varchar as pupil_key, null::varchar as record_key,
               null::varchar as source_key,
               string_agg(distinct q.column_name, ', ' order by q.column_name) as column_name
        from ingest.quarantine q
        join quality.current_files f on f.sha256 = q.sha256 and f.file_type = q.file_type
        where q.file_type = {_q(spec.file_type)} and q.source_row > 0
          and q.rule in {_in_list(ingest_rules)}
        group by q.file_name, q.sha256, q.source_row"""
    return Rule(rule_id, spec.file_type, category, "warning", title, description,
                _anchored(sql), kinds=kinds)


def _row_and_file_rules(spec: SourceFile) -> list[Rule]:
    """Rows and files ingestion held back, rejected files, expected files that never came."""
    ft = spec.file_type
    rules: list[Rule] = []
    if any(c.sensitivity == "insz" for c in spec.columns):
        rules.append(_quarantine_rule(
            spec, "invalid_insz", ("invalid_insz",), "erroneous",
            "INSZ with an invalid checksum (neither a valid national number nor a BIS number)",
            "The row was quarantined at ingestion and reached no table: the pupil is missing "
            "from everything built on this file until the source corrects the INSZ.",
            kinds=("invalid_insz_checksum",)))
    if any(c.required for c in spec.columns):
        rules.append(_quarantine_rule(
            spec, "missing_required", ("missing_required",), "incomplete",
            "A value the source contract requires is empty",
            "The row was quarantined at ingestion because a required column (sources.py) is "
            "empty; the column is named in the record list.", kinds=("missing_required",)))
    rules.append(_quarantine_rule(
        spec, "unparseable_value", ("invalid_date", "invalid_integer", "invalid_flag",
                                    "invalid_school_year", "malformed_row"), "erroneous",
        "A value does not parse as its declared type, or the line is not a valid CSV record",
        "The row was quarantined at ingestion (date, integer, J/N flag, school year or CSV "
        "structure)."))

    rejected = f"""
        select {_file_select('f')}
        from quality.current_files f
        where f.file_type = {_q(ft)} and f.status in ('rejected', 'held')"""
    rules.append(Rule(
        "file_has_unexpected_columns", ft, "superfluous", "warning",
        "The file has columns the protocol does not provide",
        "The whole file was refused at ingestion because its header holds columns outside the "
        "contract; nothing of it was loaded. The source must resend it with the agreed columns.",
        _anchored(rejected.replace(
            "null::varchar as column_name",
            "'position ' || regexp_extract(f.message, 'unexpected columns at positions "
            "([0-9, ]*[0-9])', 1) as column_name")
            + " and f.message like '%unexpected columns%'"),
        unit="files", kinds=("extra_column",)))
    rules.append(Rule(
        "file_rejected", ft, "erroneous", "warning",
        "The file was refused whole (header, encoding, structure, date format or school year "
        "out of range), or held because it would shrink its slot",
        "Nothing of the file was loaded; ingest.files.message says why. A held file waits for "
        "the data steward; the earlier file of its slot stays loaded.",
        _anchored(rejected + " and f.message not like '%unexpected columns%'"), unit="files"))
    rules.append(_expected_files_rule(spec))
    return rules


def _uniqueness_rules(spec: SourceFile) -> list[Rule]:
    """An exact copy and two rows that share the natural key but disagree: two findings."""
    ft = spec.file_type
    content = ", ".join(f"b.{c}" for c in _content_columns(spec))
    keys = ", ".join(f"b.{c}" for c in _natural_key(spec))
    key_names = ", ".join(spec.key_columns) or "all columns"
    # one pass over the file: a 64-bit hash of the key finds every candidate group, and all
    # columns are compared on the candidates only
    ranked = f"""
        with candidates as (
            select hash(b._source_file_sha256, {keys}) as key_hash from {BATCH} b
            group by key_hash having count(*) > 1),
        ranked as (
            select b.*,
                   row_number() over (partition by b._source_file_sha256, {content}
                                      order by b._source_row) as copy_number,
                   min(b._source_row) over (partition by b._source_file_sha256, {keys})
                       as first_of_key,
                   count(distinct hash({content})) over (partition by b._source_file_sha256,
                                                         {keys}) as versions
            from {BATCH} b semi join candidates c
                 on c.key_hash = hash(b._source_file_sha256, {keys}))"""
    return [
        Rule("duplicate_row", ft, "superfluous", "critical",
             "The same record appears more than once in one file (an exact copy)",
             "Every copy after the first is superfluous and would be counted twice in marts and "
             "deliveries.",
             f"{ranked} select {_row_select(spec, None)} from ranked b where b.copy_number > 1",
             blocking=True, kinds=("duplicate_row",)),
        Rule("key_conflict", ft, "inaccurate", "critical",
             f"Two records share the natural key ({key_names}) but disagree on other values",
             "The file holds two versions of one record (e.g. the same child twice with another "
             "address); which one is true cannot be decided here. Every version after the "
             "first is listed.",
             f"""{ranked} select {_row_select(spec, None)} from ranked b
             where b.versions > 1 and b.copy_number = 1 and b._source_row > b.first_of_key""",
             blocking=True, kinds=("key_conflict",)),
    ]


# ------------------------------------------------------------------------------ expected files


def expected_file_name(spec: SourceFile, groups: dict[str, str]) -> str:
    """The file name a source would use for a slot, from the file type's name pattern."""
    name = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: groups[m.group(1)], spec.pattern)
    name = name.replace("\\.", ".")
    if not spec.match(name):
        raise ValueError(f"{name} does not match the pattern of {spec.file_type}")
    return name


def expected_slots(spec: SourceFile) -> list[tuple[str, str, str, str | None]]:
    """Every slot the calendar expects for a file type:
    (order key, slot, expected file name, slot that makes it unnecessary or None).

    School-year files: one per school year. DUO and Rijksregister: the three DUO reference dates
    (15 October, 15 December, 15 February) of every school year in which a protocol drawing on
    them is in force. Zorgthuis: every exchange of the protocol (provisional
    and definitive lists for October and February, one list for January and May); a provisional
    list is not missing once the definitive list of its counting date has arrived.
    """
    out = []
    for year in sy.ALL:
        if "school_year" in spec.pattern:
            variants = [{"school_year": sy.long_form(year)}]
        elif spec.file_type == "zorgthuis_lists":
            kinds = {"provisional": "voorlopig", "definitive": "definitief", "single": "definitief"}
            variants = [{"reference_date": e.counting_date.isoformat(),
                         "list_kind": kinds[e.list_kind]}
                        for e in _registry_exchanges(spec.file_type, year)]
        elif _in_force_during(spec.file_type, year):
            variants = [{"reference_date": d.isoformat()}
                        for d in calendar.duo_reference_dates(year).values()]
        else:
            variants = []
        for groups in variants:
            slot, school_year, ref = slot_of(spec, groups)
            order = ref.isoformat() if ref else school_year
            superseded_by = None
            if groups.get("list_kind") == "voorlopig":
                superseded_by = slot_of(spec, {**groups, "list_kind": "definitief"})[0]
            out.append((order, slot, expected_file_name(spec, groups), superseded_by))
    return sorted(set(out), key=lambda r: (r[0], r[1]))


def expected_slot_rows() -> list[tuple[str, str, str, str, str | None]]:
    """(file type, order key, slot, expected file name, superseded by) of every file type: the
    rows of ``quality.expected_slots``, which the quality step writes before it validates."""
    return [(spec.file_type, *row) for spec in SOURCE_FILES for row in expected_slots(spec)]


def count_date_rows() -> list[tuple[str, str, dt.date, dt.date]]:
    """(school year, previous school year, count date, previous count date) with the official
    Flemish count date (first school day of February): ``quality.count_dates``."""
    rows = []
    for i, year in enumerate(sy.ALL[1:], start=1):
        rows.append((year, sy.ALL[i - 1],
                     calendar.counting_dates(year)["first_school_day_of_february"],
                     calendar.counting_dates(sy.ALL[i - 1])["first_school_day_of_february"]))
    return rows


def _expected_files_rule(spec: SourceFile) -> Rule:
    sql = f"""
        with expected as (
            select order_key, slot, file_name, superseded_by from quality.expected_slots
            where file_type = {_q(spec.file_type)}),
        delivered as (
            select distinct e.order_key, e.slot
            from quality.current_files f join expected e on e.slot = f.slot
            where f.file_type = {_q(spec.file_type)}),
        bounds as (select min(order_key) as first_key, max(order_key) as last_key from delivered)
        select e.file_name as source_file, null::varchar as source_file_sha256,
               0::bigint as source_row, e.slot, null::varchar as pupil_key,
               null::varchar as record_key, null::varchar as source_key,
               null::varchar as column_name
        from expected e cross join bounds b
        where e.order_key between b.first_key and b.last_key
          and e.slot not in (select slot from delivered)
          and (e.superseded_by is null
               or e.superseded_by not in (select slot from delivered))"""
    return Rule(
        "expected_file_missing", spec.file_type, "missing", "warning",
        "A file the calendar expects between the first and the last delivered one never arrived",
        "A counting date, reference date or school year inside the delivered range has no file "
        "at all (a rejected file is reported as rejected, not as missing). Dates after the latest "
        "delivery are not expected yet. Expected slots: quality.expected_slots "
        "(orchestration.foundations.calendar).",
        _anchored(sql), unit="files")


# ------------------------------------------------------------------------------ from the contract


def _code_rules(spec: SourceFile, c: Column) -> list[Rule]:
    """Against the column's code list or format: unknown (blocking), and not as the list spells
    it (case, padding, separators: staging repairs it, the source is told first)."""
    v = f"b.{c.name}" if c.type == "text" else f"cast(b.{c.name} as varchar)"
    present = f"nullif(trim({v}), '') is not null"
    if c.codes is not None:
        exact = code_list(c.codes)
        upper = tuple(dict.fromkeys(x.upper() for x in exact))
        unknown = f"upper(trim({v})) not in {_in_list(upper)}"
        repairable = f"upper(trim({v})) in {_in_list(upper)} and {v} not in {_in_list(exact)}"
        allowed = f"Allowed: {', '.join(exact)}"
        unknown_id, unknown_title = f"unknown_code_{c.name}", f"{c.header} holds a code " \
                                                                "outside its code list"
    else:
        compact = f"upper(regexp_replace({v}, '[ .-]', '', 'g'))"
        unknown = f"not regexp_full_match({compact}, {_q(c.pattern)})"
        repairable = f"regexp_full_match({compact}, {_q(c.pattern)}) and {v} <> {compact}"
        allowed = f"Format: {c.pattern} (upper case, no spaces, dots or dashes)"
        unknown_id, unknown_title = f"invalid_format_{c.name}", f"{c.header} does not have " \
                                                                  "the agreed format"
    return [
        Rule(unknown_id, spec.file_type, "erroneous", "critical", unknown_title,
             f"{allowed}. A value outside the list cannot be labelled or classified and would "
             "reach deliveries as an unknown value.",
             f"select {_row_select(spec, c.header)} from {BATCH} b where {present} and {unknown}",
             blocking=True, column=c.header, kinds=("unknown_code",)),
        Rule(f"code_not_canonical_{c.name}", spec.file_type, "inaccurate", "warning",
             f"{c.header} holds a valid code written differently (case, spaces, separators)",
             f"{allowed}. The warehouse repairs it in staging; the source is asked to send the "
             "code as the list writes it.",
             f"select {_row_select(spec, c.header)} from {BATCH} b "
             f"where {present} and {repairable}",
             column=c.header, kinds=("code_not_canonical",)),
    ]


_REGISTERS = {
    # reference: (file type of the register, what it is called in a report)
    "school": ("school_register_schools", "school"),
    "branch": ("school_register_branches", "branch"),
    "provider": ("binc_naft_providers", "NAFT provider"),
    "trajectory": ("binc_naft_trajectories", "trajectory"),
}


def _reference_rule(spec: SourceFile, c: Column) -> Rule:
    """A reference to another register resolves: schools and branches of the school register
    and providers of BINC in the row's school year (checked only for school years whose
    register file was loaded), trajectories of BINC, NIS codes of the Statbel list."""
    school_column = c.name if c.refers_to == "school" else "instellingsnummer"
    school = f"lpad(cast(b.{school_column} as varchar), 6, '0')"
    if c.refers_to == "municipality":
        return Rule(
            f"unknown_municipality_{c.name}", spec.file_type, "erroneous", "critical",
            f"{c.header} is not a NIS code of a Belgian municipality",
            "NIS codes come from Statbel's list (seed reference/municipalities); an unknown code "
            "cannot be placed in a municipality, province or region.",
            f"select {_row_select(spec, c.header)} from {BATCH} b "
            f"where nullif(trim(b.{c.name}), '') is not null "
            f"and trim(b.{c.name}) not in {_in_list(municipality_codes())}",
            blocking=True, column=c.header, kinds=("unknown_reference",))
    register, label = _REGISTERS[c.refers_to]
    other = typed_relation(BY_FILE_TYPE[register])
    # the register's keys once (a hash anti-join), and the school years it was loaded for
    if c.refers_to == "school":
        keys, mine = "lpad(cast(r.instellingsnummer as varchar), 6, '0')", [school]
    elif c.refers_to == "branch":
        keys = "lpad(cast(r.instellingsnummer as varchar), 6, '0'), r.vestigingsplaats"
        mine = [school, f"b.{c.name}"]
    elif c.refers_to == "provider":
        keys, mine = "r.aanbieder_id", [f"b.{c.name}"]
    else:
        keys, mine = "r.traject_id", [f"b.{c.name}"]
    per_year = c.refers_to != "trajectory"
    key_list = keys + (", r._year" if per_year else "")
    mine_list = mine + (["b._year"] if per_year else [])
    match = " and ".join(f"k.k{i} = {m}" for i, m in enumerate(mine_list))
    names = ", ".join(f"k{i}" for i in range(len(mine_list)))
    loaded = f" and b._year in (select distinct _year from {other} y)" if per_year else ""
    sql = f"""
        with k({names}) as (select distinct {key_list} from {other} r)
        select {_row_select(spec, c.header)} from {BATCH} b
        where b.{c.name} is not null{loaded}
          and not exists (select 1 from k where {match})"""
    compared = () if BY_FILE_TYPE[register].source == spec.source \
        else (BY_FILE_TYPE[register].source,)
    return Rule(
        f"unknown_{c.refers_to}_{c.name}", spec.file_type, "erroneous", "critical",
        f"{c.header} names a {label} that is not in the {register.replace('_', ' ')} file"
        + ("" if c.refers_to == "trajectory" else " of that school year"),
        f"Every {label} a record refers to must exist in {BY_FILE_TYPE[register].owner}'s "
        f"{register} file{'' if c.refers_to == 'trajectory' else ' of the same school year'}; "
        "a dangling reference joins to nothing in marts and deliveries.",
        sql, blocking=True, column=c.header, needs=(f"raw.{register}",), compared_with=compared,
        kinds=("unknown_reference",))


def _year_of(spec: SourceFile) -> str:
    """The school year (first calendar year) a row belongs to."""
    return "cast(left(b.schooljaar, 4) as integer)" if _has(spec, "Schooljaar") else "b._year"


def _reference_day(spec: SourceFile) -> str:
    return f"b.{spec.reference_date_column}"


def _date_rules(spec: SourceFile, c: Column) -> list[Rule]:
    d, rules = f"b.{c.name}", []
    if c.within == "school_year":
        y = _year_of(spec)
        rules.append(Rule(
            f"{c.name}_outside_school_year", spec.file_type, "inaccurate", "critical",
            f"{c.header} lies outside the record's school year (1 September - 31 August)",
            "A date of school year X lies between 1 September of X and 31 August; one outside "
            "it would be counted on counting dates of another year.",
            f"select {_row_select(spec, c.header)} from {BATCH} b "
            f"where {d} < make_date({y}, 9, 1) or {d} > make_date({y} + 1, 8, 31)",
            blocking=True, column=c.header, kinds=("impossible_dates",)))
    if c.within == "reference_date":
        rules.append(Rule(
            f"{c.name}_after_reference_date", spec.file_type, "inaccurate", "critical",
            f"{c.header} lies after the extract's reference date",
            "An extract describes its reference date; a date after it (e.g. a child born after "
            "the reference date) is impossible.",
            f"select {_row_select(spec, c.header)} from {BATCH} b "
            f"where {d} > {_reference_day(spec)}",
            blocking=True, column=c.header, kinds=("impossible_dates",)))
    if c.not_before:
        other = _col(spec, c.not_before)
        rules.append(Rule(
            f"{c.name}_before_{other.name}", spec.file_type, "inaccurate", "critical",
            f"{c.header} lies before {other.header} (the period ends before it starts)",
            f"{c.header} before {other.header}: the period is impossible; durations and "
            "counting-date status would be wrong.",
            f"select {_row_select(spec, c.header)} from {BATCH} b where {d} < b.{other.name}",
            blocking=True, column=c.header, kinds=("impossible_dates",)))
    birth = _col(spec, "Geboortedatum")
    if birth is not None and c is not birth and c.name != spec.reference_date_column:
        rules.append(Rule(
            f"{c.name}_before_birth", spec.file_type, "inaccurate", "critical",
            f"{c.header} lies before the birth date on the same record",
            "Either this date or the birth date is wrong.",
            f"select {_row_select(spec, c.header)} from {BATCH} b where {d} < b.geboortedatum",
            blocking=True, column=c.header, kinds=("impossible_dates",)))
    if birth is None and any(x.sensitivity == "insz" for x in spec.columns) \
            and c.name != spec.reference_date_column:
        enrolments = typed_relation(BY_FILE_TYPE["discimus_enrolments"])
        rules.append(Rule(
            f"{c.name}_at_impossible_age", spec.file_type, "inaccurate", "critical",
            f"{c.header} lies before the pupil's {YOUNGEST_CERTIFICATE_AGE}th birthday (birth "
            "date of the pupil's enrolments)",
            "Attests and certificates are given from lager onderwijs on; a date before birth or "
            "at an impossible age is wrong (compared with the birth date in Discimus).",
            f"""
            select {_row_select(spec, c.header)} from {BATCH} b
            join (select pupil_key, min(geboortedatum) as born from {enrolments} e
                  group by pupil_key) e on e.pupil_key = b.pupil_key
            where {d} < e.born + interval {YOUNGEST_CERTIFICATE_AGE} year""",
            blocking=True, column=c.header, needs=("raw.discimus_enrolments",),
            compared_with=() if spec.source == "discimus" else ("discimus",),
            kinds=("impossible_dates",)))
    return rules


def _bounds_rule(spec: SourceFile, c: Column) -> Rule:
    v, parts, said = f"b.{c.name}", [], []
    if c.minimum is not None:
        parts.append(f"{v} < {c.minimum}")
        said.append(f"at least {c.minimum}")
    if c.maximum is not None:
        parts.append(f"{v} > {c.maximum}")
        said.append(f"at most {c.maximum}")
    join = ""
    if c.at_most in ("school_days", "school_half_days"):
        factor = 2 if c.at_most == "school_half_days" else 1
        join = f" left join {_school_days_relation()} on school_days.start_year = {_year_of(spec)}"
        parts.append(f"{v} > {factor} * school_days.days")
        said.append(f"at most the {'half ' if factor == 2 else ''}days of school in the school "
                    "year (Flemish calendar)")
    elif c.at_most:
        other = _col(spec, c.at_most)
        parts.append(f"{v} > b.{other.name}")
        said.append(f"at most {other.header}")
    return Rule(
        f"{c.name}_out_of_bounds", spec.file_type, "erroneous", "critical",
        f"{c.header} is outside its bounds ({', '.join(said)})",
        "A count that cannot be true; rates built on it would be wrong.",
        f"select {_row_select(spec, c.header)} from {BATCH} b{join} "
        f"where {' or '.join(parts)}",
        blocking=True, column=c.header, kinds=("quantity_out_of_bounds",))


def contract_rules(spec: SourceFile) -> list[Rule]:
    """The checks every column's meaning in the contract implies (see the module docstring)."""
    rules = _uniqueness_rules(spec)
    for c in spec.columns:
        if c.sensitivity != "plain":
            continue
        if c.codes is not None or c.pattern is not None:
            rules += _code_rules(spec, c)
        if c.refers_to:
            rules.append(_reference_rule(spec, c))
        if c.type == "date":
            rules += _date_rules(spec, c)
        if c.minimum is not None or c.maximum is not None or c.at_most:
            rules.append(_bounds_rule(spec, c))
    return rules


# ------------------------------------------------------------------------------ whole extracts


def _school_year_rule(spec: SourceFile) -> Rule:
    return Rule(
        "school_year_differs_from_file", spec.file_type, "erroneous", "critical",
        "The row's school year differs from the school year the file is for",
        "Each file covers one school year (its name); a row of another year is misplaced and "
        "would be counted in the wrong year.",
        f"select {_row_select(spec, 'Schooljaar')} from {BATCH} b "
        f"where left(b.schooljaar, 4) <> left(b._school_year, 4)",
        blocking=True, column="Schooljaar")


def _reference_date_rules(spec: SourceFile) -> list[Rule]:
    c = next(h for h in spec.columns if h.name == spec.reference_date_column)
    newest = f"""
        select b._source_file_sha256 as sha256, max(b.{c.name}) as newest
        from {BATCH} b group by 1"""
    stale = Rule(
        "reference_date_stale", spec.file_type, "outdated", "critical",
        f"The extract is older than the date it claims: every {c.header} lies before the "
        "reference date in the file name",
        "An old extract was sent (or resent) under a newer date; its population describes an "
        "earlier day and must not be used for the claimed counting or reference date.",
        f"""
        select {_file_select('f', c.header)}
        from quality.current_files f join ({newest}) b on b.sha256 = f.sha256
        where f.status = 'loaded' and b.newest < f.reference_date""",
        blocking=True, column=c.header, unit="files", kinds=("stale_extract",))
    differs = Rule(
        "reference_date_differs_from_file", spec.file_type, "erroneous", "critical",
        f"{c.header} differs from the reference date in the file name",
        "Rows of one extract must all describe the extract's reference date.",
        f"""
        select {_row_select(spec, c.header)}
        from {BATCH} b
        join quality.current_files f on f.sha256 = b._source_file_sha256
        join ({newest}) n on n.sha256 = f.sha256
        where n.newest >= f.reference_date and b.{c.name} <> f.reference_date""",
        blocking=True, column=c.header)
    return [stale, differs]


def _leerplicht_sql(born: str, on_day: str) -> str:
    """SQL twin of ``calendar.is_compulsory_school_age(born, on_day)`` (negated: true = NOT)."""
    start_5 = f"make_date(year({born}) + 5, 9, 1)"
    start = (f"case when {start_5} < date {_q(calendar.LEERPLICHT_AGE_5_FROM.isoformat())} "
             f"then make_date(year({born}) + 6, 9, 1) else {start_5} end")
    y18 = f"(year({born}) + 18)"
    leap = f"({y18} % 4 = 0 and ({y18} % 100 <> 0 or {y18} % 400 = 0))"
    birthday_18 = (f"case when month({born}) = 2 and day({born}) = 29 and not {leap} "
                   f"then make_date({y18}, 3, 1) else make_date({y18}, month({born}), day({born})) "
                   f"end")
    end = f"least({birthday_18}, make_date({y18}, 6, 30))"
    return f"({on_day} < {start} or {on_day} > {end})"


def not_compulsory_school_age_sql(born: str, on_day: str) -> str:
    """Public for the parity test with ``orchestration.foundations.calendar``."""
    return _leerplicht_sql(born, on_day)


def _not_compulsory_rule(spec: SourceFile, severity: Severity, title: str, description: str,
                         kinds=()) -> Rule:
    ref = f"b.{spec.reference_date_column}"
    return Rule(
        "not_compulsory_school_age", spec.file_type, "superfluous", severity, title, description,
        f"""
        select {_row_select(spec, 'Geboortedatum')} from {BATCH} b
        where b.geboortedatum is not null and {ref} is not null
          and {_leerplicht_sql('b.geboortedatum', ref)}""",
        blocking=severity == "critical", column="Geboortedatum", kinds=kinds)


def _birth_date_rule(spec: SourceFile) -> Rule:
    sql = f"""
        select r.file_name as source_file, r.sha256 as source_file_sha256, r.source_row,
               null::varchar as slot, r.pupil_key, null::varchar as record_key,
               {_source_key(spec, 'b')} as source_key, r.column_name
        from ingest.row_findings r
        join quality.current_files f on f.sha256 = r.sha256
        left join {BATCH} b on b._source_file_sha256 = r.sha256 and b._source_row = r.source_row
        where r.file_type = {_q(spec.file_type)} and r.rule = 'insz_birth_date_mismatch'"""
    return Rule(
        "birth_date_contradicts_insz", spec.file_type, "inaccurate", "critical",
        "The birth date contradicts the birth date encoded in the INSZ",
        "Either the birth date or the INSZ is wrong (ingestion compared them; neither value "
        "leaves the vault). Birth years and ages in deliveries would be wrong.",
        sql, blocking=True, column="Geboortedatum", kinds=("insz_birth_date_mismatch",))


def _protocol_period_rule(spec: SourceFile) -> Rule | None:
    """Records of a school year outside every period the registry's protocols use this file type
    for are superfluous (today: BINC's NAFT files, 2020-21 to 2024-25)."""
    period = protocol_period(spec.file_type)
    if period is None:
        return None
    first, last = period
    year = "b._year"
    dates = ""
    if _has(spec, "Begindatum"):
        dates = (f" or b.begindatum < date {_q(sy.first_day(first).isoformat())}"
                 f" or b.begindatum > date {_q(sy.last_day(last).isoformat())}")
    if _has(spec, "Schooljaar"):
        year = "cast(left(coalesce(b.schooljaar, b._school_year), 4) as integer)"
    return Rule(
        "outside_protocol_period", spec.file_type, "superfluous", "critical",
        f"The record lies outside the school years {first} to {last} that the protocols "
        f"drawing on {spec.file_type} cover",
        "The protocol registry covers this source's data of these school years only; anything "
        "outside is superfluous and must not be delivered.",
        f"""
        select {_row_select(spec, 'Schooljaar' if _has(spec, 'Schooljaar') else None)}
        from {BATCH} b
        where {year} not between {sy.start_year(first)} and {sy.start_year(last)}{dates}""",
        blocking=True, column="Schooljaar" if _has(spec, "Schooljaar") else None,
        kinds=("out_of_scope",))


# ------------------------------------------------------------------------------ per file type


def _level_rules(spec: SourceFile) -> list[Rule]:
    """Discimus and capacity: study year and graad against the level of the hoofdstructuur."""
    level, study_year = "left(b.hoofdstructuur, 1)", "b.leerjaar"
    rules = [Rule(
        "study_year_impossible_for_level", spec.file_type, "erroneous", "critical",
        "The study year is impossible for the level of the hoofdstructuur (e.g. a kleuter in "
        "the 5th year)",
        "Kleuteronderwijs has age classes 1-3, lager onderwijs years 1-6, secundair 1-7.",
        f"""
        select {_row_select(spec, 'Leerjaar')} from {BATCH} b
        where ({level} = '1' and {study_year} not between 1 and 3)
           or ({level} = '2' and {study_year} not between 1 and 6)
           or ({level} = '3' and {study_year} not between 1 and 7)""",
        blocking=True, column="Leerjaar", kinds=("impossible_combination",))]
    if _has(spec, "Graad"):
        rules.append(Rule(
            "grade_inconsistent_with_study_year", spec.file_type, "erroneous", "critical",
            "The graad does not fit the study year (secondary: years 1-2 = graad 1, 3-4 = 2, "
            "5-7 = 3; no graad outside secondary)",
            "An impossible combination of graad and leerjaar.",
            f"""
            select {_row_select(spec, 'Graad')} from {BATCH} b
            where b.graad is not null and {level} in ('1', '2', '3')
              and ({level} <> '3' or b.graad <> least(3, ({study_year} + 1) // 2))""",
            blocking=True, column="Graad", kinds=("impossible_combination",)))
    return rules


def _enrolment_rules(spec: SourceFile) -> list[Rule]:
    level, study_year = "left(b.hoofdstructuur, 1)", "b.leerjaar"
    age = "(cast(left(b.schooljaar, 4) as int) - year(b.geboortedatum))"
    full_time = "right(trim(b.hoofdstructuur), 1) = '1'"
    return [*_level_rules(spec),
        Rule("age_implausible_for_study_year", spec.file_type, "inaccurate", "warning",
             "The pupil's age does not fit the study year",
             "Age in the calendar year the school year starts, minus the normal age of the "
             "study year (kleuter 2 + class, lager 5 + year, secundair 11 + year), must lie "
             "between -1 (one year ahead) and the longest plausible delay: 2 in kleuter, 4 in "
             "gewoon and 6 in buitengewoon lager onderwijs, 7 in secundair. OKAN is exempt. "
             "Usually a wrong birth date or study year.",
             f"""
             select {_row_select(spec, 'Geboortedatum')} from {BATCH} b
             where upper(coalesce(b.onderwijsvorm, '')) <> 'OKAN' and (
                   ({level} = '1' and {age} - 2 - {study_year} not between -1 and 2)
                or ({level} = '2' and {age} - 5 - {study_year} not between -1
                    and case substr(b.hoofdstructuur, 2, 1) when '2' then 6 else 4 end)
                or ({level} = '3' and {age} - 11 - {study_year} not between -1 and 7))""",
             column="Geboortedatum"),
        Rule("full_time_in_two_schools", spec.file_type, "inaccurate", "critical",
             "The pupil is enrolled full-time in two schools on the same day",
             "Two full-time enrolments (hoofdstructuur programma 1) of one pupil in different "
             "schools overlap; the pupil would be counted twice. The later-starting enrolment "
             "is listed.",
             f"""
             with candidates as (
                 select b.pupil_key, b._year from {BATCH} b where {full_time}
                 group by b.pupil_key, b._year
                 having count(distinct lpad(b.instellingsnummer, 6, '0')) > 1),
             full_time as (
                 select b.pupil_key, b._year, b.instellingsnummer, b.begindatum, b.einddatum,
                        b.inschrijving_id, b._source_file, b._source_file_sha256, b._source_row
                 from {BATCH} b
                 semi join candidates c on c.pupil_key = b.pupil_key and c._year = b._year
                 where {full_time})
             select distinct {_row_select(spec, 'Instellingsnummer')}
             from full_time b join full_time a
               on a.pupil_key = b.pupil_key and a._year = b._year
              and lpad(a.instellingsnummer, 6, '0') <> lpad(b.instellingsnummer, 6, '0')
              and (a.begindatum < b.begindatum
                   or (a.begindatum = b.begindatum and a._source_row < b._source_row))
              and b.begindatum <= coalesce(a.einddatum, date '9999-12-31')""",
             blocking=True, column="Instellingsnummer", kinds=("full_time_in_two_schools",)),
        _school_without_pupils_rule(spec),
    ]


def _school_without_pupils_rule(spec: SourceFile) -> Rule:
    """A school in the register that had pupils on the previous count date and has none now."""
    schools = typed_relation(BY_FILE_TYPE["school_register_schools"])
    sql = f"""
        with counting as (
            select school_year, previous_year, counting_date, previous_date
            from quality.count_dates),
        count_days(school_year, counting_date) as (
            select school_year, counting_date from counting
            union select previous_year, previous_date from counting),
        enrolled as (
            select lpad(b.instellingsnummer, 6, '0') as school, d.school_year,
                   count(*) as enrolments
            from {BATCH} b join count_days d on d.school_year = b._school_year
            where b.begindatum <= d.counting_date
              and coalesce(b.einddatum, date '9999-12-31') >= d.counting_date
            group by all),
        registered as (
            select distinct lpad(s.instellingsnummer, 6, '0') as school,
                   s._school_year as school_year
            from {schools} s)
        select f.file_name as source_file, f.sha256 as source_file_sha256, 0::bigint as source_row,
               null::varchar as slot, null::varchar as pupil_key, null::varchar as record_key,
               'Instellingsnummer=' || r.school as source_key, 'Instellingsnummer' as column_name
        from registered r
        join counting c on c.school_year = r.school_year
        join enrolled p on p.school = r.school and p.school_year = c.previous_year
        join quality.current_files f on f.file_type = {_q(spec.file_type)}
             and f.status = 'loaded' and f.school_year = r.school_year
        left join enrolled n on n.school = r.school and n.school_year = r.school_year
        where n.enrolments is null"""
    return Rule(
        "school_without_pupils_on_counting_date", spec.file_type, "missing", "warning",
        "A school in the school register had pupils on the previous count date (first school day "
        "of February) and has none on this year's",
        "The school is still registered for the year, so its enrolments are probably missing "
        "from the file. Reported per school (row 0 of the year's file).",
        sql, needs=("raw.school_register_schools",), unit="schools",
        compared_with=("school_register",))


def _beneficiary_rules(spec: SourceFile) -> list[Rule]:
    enrolments = typed_relation(BY_FILE_TYPE["discimus_enrolments"])
    return [Rule(
        "beneficiary_not_enrolled", spec.file_type, "missing", "warning",
        "A NAFT beneficiary has no enrolment in Discimus in that school year",
        "NAFT trajectories are for pupils in secondary education; a young person unknown in "
        "the enrolments of the year points at a wrong INSZ (or a missing enrolment). Only "
        "checked for school years whose enrolment file was loaded.",
        f"""
        select {_row_select(spec, None)} from {BATCH} b
        where b.pupil_key is not null
          and exists (select 1 from quality.current_files f
                      where f.file_type = 'discimus_enrolments' and f.status = 'loaded'
                        and f.school_year = b._school_year)
          and not exists (select 1 from {enrolments} e
                          where e.pupil_key = b.pupil_key and e._school_year = b._school_year)""",
        needs=("raw.discimus_enrolments",), compared_with=("discimus",))]


def _zorgthuis_rules(spec: SourceFile) -> list[Rule]:
    kind = "case when f.slot like '%/voorlopig/%' then 'VOORLOPIG' else 'DEFINITIEF' end"
    enrolments = typed_relation(BY_FILE_TYPE["discimus_enrolments"])
    provisional_late = f"""
        select f.file_name as source_file, f.sha256 as source_file_sha256, 0::bigint as source_row,
               null::varchar as slot, null::varchar as pupil_key, null::varchar as record_key,
               null::varchar as source_key, null::varchar as column_name
        from quality.current_files f
        join ingest.files d on d.file_type = f.file_type and d.reference_date = f.reference_date
             and d.slot like '%/definitief/%' and d.status in ('loaded', 'superseded')
        where f.file_type = {_q(spec.file_type)} and f.status = 'loaded'
          and f.slot like '%/voorlopig/%'
        group by f.file_name, f.sha256, f.ingested_at
        having cast(f.ingested_at as date) > cast(min(d.ingested_at) as date)"""
    return [
        Rule("list_kind_differs_from_file_name", spec.file_type, "erroneous", "critical",
             "Soort_lijst differs from the list kind in the file name (voorlopig/definitief)",
             "A provisional list labelled definitive (or the reverse) would be used for the "
             "wrong exchange.",
             f"""
             select {_row_select(spec, 'Soort_lijst')} from {BATCH} b
             join quality.current_files f on f.sha256 = b._source_file_sha256
             where upper(trim(b.soort_lijst)) in ('VOORLOPIG', 'DEFINITIEF')
               and upper(trim(b.soort_lijst)) <> {kind}""",
             blocking=True, column="Soort_lijst"),
        Rule("provisional_list_after_definitive", spec.file_type, "outdated", "warning",
             "A provisional list arrived after the definitive list of the same counting date",
             "The definitive list supersedes the provisional one; a provisional list received "
             "later (on a later day) is outdated and is not used.",
             _anchored(provisional_late), unit="files"),
        Rule("not_enrolled_on_counting_date", spec.file_type, "inaccurate", "critical",
             "A pupil on the list is enrolled in no school on the counting date (Discimus)",
             "The zorgthuis indicator is for pupils; a listed child without an enrolment on the "
             "counting date points at a wrong INSZ or a child that is not a pupil. Compared "
             "with Discimus' enrolments; only checked when the enrolment file of the counting "
             "date's school year was loaded.",
             f"""
             select {_row_select(spec, 'INSZ')} from {BATCH} b
             where b._school_year in (select distinct _school_year from {enrolments} y)
               and not exists (select 1 from {enrolments} e
                               where e.pupil_key = b.pupil_key
                                 and e.begindatum <= b.teldatum
                                 and coalesce(e.einddatum, date '9999-12-31') >= b.teldatum)""",
             blocking=True, column="INSZ", needs=("raw.discimus_enrolments",),
             compared_with=("discimus",), kinds=("not_enrolled_on_counting_date",)),
    ]


def _duo_rules(spec: SourceFile) -> list[Rule]:
    return [_not_compulsory_rule(
        spec, "critical",
        "The pupil is not of compulsory-school age on the reference date",
        "The protocol covers compulsory-age pupils (leerplicht: from 1 September of the year "
        "the child turns 5, to 30 June of the year it turns 18 or the 18th birthday); other "
        "records are superfluous and must not be kept or delivered.",
        kinds=("out_of_scope",))]


def _rijksregister_rules(spec: SourceFile) -> list[Rule]:
    return [_not_compulsory_rule(
        spec, "warning",
        "The child is not of compulsory-school age on the reference date",
        "The extract should hold compulsory-age children only (leerplicht, see "
        "orchestration.foundations.calendar); others are superfluous for the control.")]


def _linkage_rules() -> list[Rule]:
    spec = BY_FILE_TYPE["duo_registrations"]
    return [Rule(
        "not_linkable_to_rijksregister", spec.file_type, "missing", "warning",
        "The DUO pupil matches no child in the Rijksregister extract",
        "No child of the Rijksregister extract comes near on name, first names, birth date and "
        "address (linkage.duo_review, reason no_candidate): DUO is asked to check the "
        "identification data of the record. Uncertain and conflicting candidates are the "
        "compulsory-education cell's own review, not a defect of DUO's data, and are not "
        "reported.",
        f"""
        select {_row_select(spec, None, 'b')}
        from {BATCH} v
        join {typed_relation(spec)} b on b.record_key = v.record_key
             and b.peildatum = v.peildatum
        where v.reason = 'no_candidate'""",
        table="linkage.duo_review", needs=("raw.duo_registrations",),
        compared_with=("rijksregister",))]


_SPECIFIC = {
    "discimus_enrolments": _enrolment_rules,
    "binc_naft_beneficiaries": _beneficiary_rules,
    "zorgthuis_lists": _zorgthuis_rules,
    "duo_registrations": _duo_rules,
    "rijksregister_children": _rijksregister_rules,
    "school_register_capacity": _level_rules,
}


def _rules_of(spec: SourceFile) -> list[Rule]:
    rules = _row_and_file_rules(spec) + contract_rules(spec)
    if _has(spec, "Schooljaar") and "school_year" in spec.pattern:
        rules.append(_school_year_rule(spec))
    if spec.reference_date_column:
        rules.extend(_reference_date_rules(spec))
    if any(c.sensitivity == "insz" for c in spec.columns) and _col(spec, "Geboortedatum"):
        rules.append(_birth_date_rule(spec))
    period = _protocol_period_rule(spec)
    if period is not None:
        rules.append(period)
    rules.extend(_SPECIFIC.get(spec.file_type, lambda s: [])(spec))
    return rules


@lru_cache(maxsize=1)
def all_rules() -> tuple[Rule, ...]:
    """Every rule: the raw rules of each file type, then the rules on the linkage result."""
    rules = [r for spec in SOURCE_FILES for r in _rules_of(spec)] + _linkage_rules()
    keys = [(r.batch_table, r.id) for r in rules]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise ValueError(f"rule ids must be unique per validated table: {sorted(duplicates)}")
    return tuple(rules)


def raw_rules(file_type: str | None = None) -> tuple[Rule, ...]:
    return tuple(r for r in all_rules() if not r.table
                 and (file_type is None or r.file_type == file_type))


def linkage_rules() -> tuple[Rule, ...]:
    return tuple(r for r in all_rules() if r.table)


def by_key() -> dict[str, Rule]:
    return {r.key: r for r in all_rules()}
