"""The article-7 rule catalogue: every data-quality rule the warehouse checks, as data.

Every protocol's article 7 obliges the recipient to report *erroneous, inaccurate, incomplete,
missing, outdated or superfluous* data to the source. Each :class:`Rule` below is one such check on
one source file type: its article-7 category, its severity, whether it blocks deliveries, and one
SQL query that returns the affected records. That one query is used twice:

- as a Great Expectations ``UnexpectedRowsExpectation`` in the suite ``raw_<file_type>`` (built by
  :mod:`orchestration.quality.suites`), run as a Dagster asset check on ``raw/<file_type>``: the
  check sees the *number* of rows, never the rows (GX 1.24 has no regex SQL for DuckDB, and the
  raw layer is text, so every raw rule is SQL);
- by the findings register (:mod:`orchestration.quality.register`), which needs the records
  themselves (file, row, the source's own key, the pupil key) to route findings back to the source.

Output contract of every rule query (one row per affected record; ``source_row`` 0 = the whole
file, as in the ground truth and in ``ingest.quarantine``):

    source_file, source_file_sha256, source_row, slot, pupil_key, record_key, source_key,
    column_name

``source_key`` is the source's *own* plain identifier of the record (``Inschrijving_id=E123``),
never the INSZ, a name or another source's data; ``slot`` is only set where there is no file
(an expected file that never arrived); the register takes it from ``ingest.files`` otherwise.

Queries are written with the placeholder ``__BATCH__`` for the table the suite validates
(``raw.<file_type>``). :meth:`Rule.gx_query` turns it into GX's ``{batch}`` (doubling every other
brace, because GX formats the query); :meth:`Rule.sql_for` into the table name for direct runs.
Rules that read only the ingestion bookkeeping still mention ``{batch}`` once (a one-row count),
because GX warns on stdout for every query without it.

Which defects block: a rule is **blocking** when the affected rows were loaded into ``raw`` and
would carry wrong, impossible or out-of-scope values into staging, marts and deliveries (codes
outside the code lists, impossible dates or combinations, a birth date that contradicts the INSZ,
duplicates, a stale extract, out-of-scope records). Rules on rows or files that ingestion already
held back (quarantine, rejected files), on missing records and on plausibility are warnings: they
are reported to the source but stop nothing.
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
from orchestration.foundations.raw_layout import raw_columns, slot_of
from orchestration.foundations.sources import BY_FILE_TYPE, SOURCE_FILES, Column, SourceFile

Category = Literal["erroneous", "inaccurate", "incomplete", "missing", "outdated", "superfluous"]
CATEGORIES: tuple[str, ...] = ("erroneous", "inaccurate", "incomplete", "missing", "outdated",
                               "superfluous")
#: Dutch wording of article 7, for the reports to the sources.
CATEGORY_NL = {"erroneous": "foutief", "inaccurate": "onnauwkeurig", "incomplete": "onvolledig",
               "missing": "ontbrekend", "outdated": "verouderd", "superfluous": "overtollig"}
Severity = Literal["critical", "warning"]

BATCH = "__BATCH__"
SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "codes"

#: File types whose every extract is the whole state of a register on its reference date: a later
#: extract is the source's current answer, so it can resolve a finding on an earlier one.
STATE_REGISTERS = frozenset({"duo_registrations", "rijksregister_children"})

#: NAFT files: the protocol covers school years 2020-21 to 2024-25 (read from the registry).
NAFT_FILE_TYPES = ("binc_naft_trajectories", "binc_naft_beneficiaries", "binc_naft_providers")

OUTPUT_COLUMNS = ("source_file", "source_file_sha256", "source_row", "slot", "pupil_key",
                  "record_key", "source_key", "column_name")


@dataclass(frozen=True)
class Rule:
    """One article-7 check on one source file type."""

    id: str  # snake_case; also the Dagster check name (unique per file type)
    file_type: str
    category: Category
    severity: Severity
    title: str  # what is wrong, in one line (no values)
    description: str  # what a failure means for the data steward
    sql: str  # affected records, OUTPUT_COLUMNS; __BATCH__ = the validated table
    blocking: bool = False
    column: str | None = None  # the source header concerned, when there is one
    table: str = ""  # the validated table; default raw.<file_type>
    needs: tuple[str, ...] = ()  # tables that must exist besides the batch (else not evaluated)
    unit: str = "records"  # what a count counts: records, files, schools
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

    def gx_query(self) -> str:
        """The query as GX wants it: ``{batch}`` for the table, every other brace doubled.

        GX substitutes ``{batch}`` with an aliased subquery (``(...) AS subselect``), or, when
        the query contains a join, an unaliased one; wrapping it in ``(select * from {batch})``
        gives a derived table that takes our own alias in both cases.
        """
        return (self.sql.replace("{", "{{").replace("}", "}}")
                .replace(BATCH, "(select * from {batch})"))

    def sql_for(self, table: str | None = None) -> str:
        """The query for a direct run on the warehouse."""
        return self.sql.replace(BATCH, table or self.batch_table)


# ------------------------------------------------------------------------------ SQL helpers


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(_q(v) for v in values) + ")"


def _col(spec: SourceFile, header: str) -> Column | None:
    return next((c for c in spec.columns if c.header == header), None)


def _has(spec: SourceFile, header: str) -> bool:
    return _col(spec, header) is not None and _col(spec, header).sensitivity == "plain"


def _date(spec: SourceFile, column: str, alias: str = "b") -> str:
    return f"try_strptime({alias}.{column}, {_q(spec.date_format)})::date"


def _source_key(spec: SourceFile, alias: str = "b") -> str:
    """The plain part of the source's own record key as ``Header=value | ...`` (null if none).

    Personal key columns (the INSZ, DUO's fictitious number) are left out: such records are
    identified by file and row, which the source can look up in its own file.
    """
    plain = {c.name: c for c in spec.columns if c.sensitivity == "plain"}
    parts = [plain[k] for k in spec.key_columns if k in plain]
    if not parts:
        return "null::varchar"
    return " || ' | ' || ".join(f"{_q(c.header + '=')} || coalesce({alias}.{c.name}, '')"
                                for c in parts)


def _pupil_key(spec: SourceFile, alias: str = "b") -> str:
    return f"{alias}.pupil_key" if any(c.sensitivity == "insz" for c in spec.columns) \
        else "null::varchar"


def _record_key(spec: SourceFile, alias: str = "b") -> str:
    names = [n for n, _ in raw_columns(spec)]
    return f"{alias}.record_key" if "record_key" in names else "null::varchar"


def _row_select(spec: SourceFile, column: str | None, alias: str = "b") -> str:
    """The OUTPUT_COLUMNS of a raw row."""
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
    """A query on the bookkeeping only, still naming the batch once (see the module docstring)."""
    return (f"select r.* from ({sql}) r cross join "
            f"(select count(*) as batch_rows from {BATCH}) as batch_anchor")


def _key_columns(spec: SourceFile) -> list[str]:
    """The raw columns holding the source's record key (the INSZ is ``pupil_key``, a personal
    key ``record_key``); all content columns when the file type declares no key."""
    names = {c.name: c for c in spec.columns}
    out = []
    for k in spec.key_columns:
        c = names[k]
        out.append("pupil_key" if c.sensitivity == "insz" else
                   "record_key" if c.sensitivity == "vault" else c.name)
    return list(dict.fromkeys(out)) or _content_columns(spec)


def _content_columns(spec: SourceFile) -> list[str]:
    return [n for n, _ in raw_columns(spec) if not n.startswith("_")]


@lru_cache(maxsize=None)
def seed_codes(name: str) -> tuple[str, ...]:
    """The codes of a dbt code-list seed (``dbt_project/seeds/codes/<name>.csv``)."""
    with (SEEDS / f"{name}.csv").open(encoding="utf-8") as fh:
        return tuple(row["code"].strip().upper() for row in csv.DictReader(fh))


# ------------------------------------------------------------------------------ registry facts


def _registry_exchanges(file_type: str, school_year: str):
    """The exchanges of the protocols drawing on a file type, for one school year."""
    from orchestration.protocols import load_registry
    from orchestration.protocols.dates import exchange_windows

    return [e for p in load_registry().drawing_on(file_type)
            for e in exchange_windows(p, school_year)]


@lru_cache(maxsize=None)
def source_period(file_type: str) -> tuple[str, str]:
    """School years (short form) of a source file type that its protocols cover, from the
    registry (``draws_on`` with ``school_year_from``/``school_year_to``)."""
    from orchestration.protocols import load_registry

    periods = {(u.school_year_from, u.school_year_to)
               for p in load_registry().drawing_on(file_type) for u in p.draws_on
               if u.file_type == file_type}
    if len(periods) != 1 or None in next(iter(periods)):
        raise ValueError(f"the protocols drawing on {file_type} state no single period: "
                         f"{periods}")
    first, last = periods.pop()
    return first, last


# ------------------------------------------------------------------------------ generic rules


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


def generic_rules(spec: SourceFile) -> list[Rule]:
    """Rules every file type gets: rows and files ingestion held back, duplicates, gaps."""
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
        where f.file_type = {_q(ft)} and f.status = 'rejected'"""
    rules.append(Rule(
        "file_has_unexpected_columns", ft, "superfluous", "warning",
        "The file has columns the protocol does not provide",
        "The whole file was refused at ingestion because its header holds columns outside the "
        "contract; nothing of it was loaded. The source must resend it with the agreed columns.",
        _anchored(rejected.replace(
            "null::varchar as column_name",
            "regexp_extract(f.message, 'unexpected columns \\[([^\\]]*)\\]', 1) as column_name")
            + " and f.message like '%unexpected columns%'"),
        unit="files", kinds=("extra_column",)))
    rules.append(Rule(
        "file_rejected", ft, "erroneous", "warning",
        "The file was refused whole (header, encoding, structure or school year out of range)",
        "Nothing of the file was loaded; ingest.files.message says why.",
        _anchored(rejected + " and f.message not like '%unexpected columns%'"), unit="files"))

    cols = ", ".join(f"b.{c}" for c in _content_columns(spec))
    keys = ", ".join(f"b.{c}" for c in _key_columns(spec))
    rules.append(Rule(
        "duplicate_row", ft, "superfluous", "critical",
        "The same record appears more than once in one file",
        "Every copy after the first is superfluous and would be counted twice in marts and "
        "deliveries.",
        # exact copies share the file and the source's record key: a 64-bit hash of those finds
        # every candidate group in one pass; all columns are compared on the candidates only
        f"""
        with candidates as (
            select hash(b._source_file_sha256, {keys}) as key_hash from {BATCH} b
            group by key_hash having count(*) > 1)
        select {_row_select(spec, None)}
        from (select b.*, row_number() over (partition by b._source_file_sha256, {cols}
                                             order by b._source_row) as copy_number
              from {BATCH} b semi join candidates c
                   on c.key_hash = hash(b._source_file_sha256, {keys})) b
        where b.copy_number > 1""", blocking=True, kinds=("duplicate_row",)))
    rules.append(_expected_files_rule(spec))
    return rules


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
    (15 October, 15 December, 15 February). Zorgthuis: every exchange of the protocol (provisional
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
        else:
            variants = [{"reference_date": d.isoformat()}
                        for d in calendar.duo_reference_dates(year).values()]
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
    rows of
    ``quality.expected_slots``, which the quality step writes before it validates."""
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


# ------------------------------------------------------------------------------ specific rules


def _code_rule(spec: SourceFile, header: str, codes: Iterable[str], kinds=("unknown_code",),
               note: str = "") -> Rule:
    c = _col(spec, header)
    assert c is not None, (spec.file_type, header)
    codes = tuple(codes)
    return Rule(
        f"unknown_code_{c.name}", spec.file_type, "erroneous", "critical",
        f"{header} holds a code outside its code list",
        f"Allowed: {', '.join(codes)}{note}. A code outside the list cannot be labelled or "
        "classified and would reach deliveries as an unknown value.",
        f"""
        select {_row_select(spec, header)}
        from {BATCH} b
        where nullif(trim(b.{c.name}), '') is not null
          and upper(trim(b.{c.name})) not in {_in_list(codes)}""",
        blocking=True, column=header, kinds=kinds)


def _school_year_rule(spec: SourceFile) -> Rule:
    return Rule(
        "school_year_differs_from_file", spec.file_type, "erroneous", "critical",
        "The row's school year differs from the school year the file is for",
        "Each file covers one school year (its name); a row of another year is misplaced and "
        "would be counted in the wrong year.",
        f"""
        select {_row_select(spec, 'Schooljaar')}
        from {BATCH} b
        where left(b.schooljaar, 4) <> left(b._school_year, 4)""",
        blocking=True, column="Schooljaar")


def _reference_date_rules(spec: SourceFile) -> list[Rule]:
    c = _col(spec, next(h.header for h in spec.columns if h.name == spec.reference_date_column))
    newest = f"""
        select b._source_file_sha256 as sha256, max({_date(spec, c.name)}) as newest,
               min({_date(spec, c.name)}) as oldest
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
        where n.newest >= f.reference_date and {_date(spec, c.name)} <> f.reference_date""",
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


def _not_compulsory_rule(spec: SourceFile, rule_id: str, category: Category, severity: Severity,
                         title: str, description: str, kinds=()) -> Rule:
    ref = spec.reference_date_column
    return Rule(
        rule_id, spec.file_type, category, severity, title, description,
        f"""
        select {_row_select(spec, 'Geboortedatum')}
        from {BATCH} b
        where {_date(spec, 'geboortedatum')} is not null and {_date(spec, ref)} is not null
          and {_leerplicht_sql(_date(spec, 'geboortedatum'), _date(spec, ref))}""",
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


def _enrolment_rules(spec: SourceFile) -> list[Rule]:
    b, e = _date(spec, "begindatum"), _date(spec, "einddatum")
    first = "make_date(cast(left(b.schooljaar, 4) as int), 9, 1)"
    last = "make_date(cast(left(b.schooljaar, 4) as int) + 1, 8, 31)"
    study_year = "try_cast(b.leerjaar as int)"
    level = "left(b.hoofdstructuur, 1)"
    age = f"(cast(left(b.schooljaar, 4) as int) - year({_date(spec, 'geboortedatum')}))"
    return [
        Rule("enrolment_ends_before_start", spec.file_type, "inaccurate", "critical",
             "The enrolment ends before it starts",
             "Einddatum before Begindatum: the enrolment period is impossible; counting-date "
             "status and durations would be wrong.",
             f"select {_row_select(spec, 'Einddatum')} from {BATCH} b where {e} < {b}",
             blocking=True, column="Einddatum", kinds=("impossible_dates",)),
        Rule("enrolment_outside_school_year", spec.file_type, "inaccurate", "critical",
             "The enrolment starts or ends outside its school year (1 September - 31 August)",
             "An enrolment of school year X must lie within X; one outside it would be counted "
             "on counting dates of another year.",
             f"""
             select {_row_select(spec, 'Begindatum')} from {BATCH} b
             where {b} < {first} or {b} > {last} or {e} < {first} or {e} > {last}""",
             blocking=True, column="Begindatum", kinds=("impossible_dates",)),
        Rule("study_year_impossible_for_level", spec.file_type, "erroneous", "critical",
             "The study year is impossible for the level of the hoofdstructuur (e.g. a kleuter "
             "in the 5th year)",
             "Kleuteronderwijs has age classes 1-3, lager onderwijs years 1-6, secundair 1-7.",
             f"""
             select {_row_select(spec, 'Leerjaar')} from {BATCH} b
             where ({level} = '1' and {study_year} not between 1 and 3)
                or ({level} = '2' and {study_year} not between 1 and 6)
                or ({level} = '3' and {study_year} not between 1 and 7)""",
             blocking=True, column="Leerjaar", kinds=("impossible_combination",)),
        Rule("grade_inconsistent_with_study_year", spec.file_type, "erroneous", "critical",
             "The graad does not fit the study year (secondary: years 1-2 = graad 1, 3-4 = 2, "
             "5-7 = 3; no graad outside secondary)",
             "An impossible combination of graad and leerjaar.",
             f"""
             select {_row_select(spec, 'Graad')} from {BATCH} b
             where try_cast(b.graad as int) is not null and {level} in ('1', '2', '3')
               and ({level} <> '3' or try_cast(b.graad as int)
                    <> least(3, ({study_year} + 1) // 2))""",
             blocking=True, column="Graad"),
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
        _code_rule(spec, "Hoofdstructuur", seed_codes("main_structure")),
        _code_rule(spec, "Onderwijsvorm", seed_codes("education_form")),
        _code_rule(spec, "Finaliteit", seed_codes("finality")),
        _code_rule(spec, "Leerweg", ("SCHOOL", "DUAAL"), kinds=()),
        _code_rule(spec, "Opleidingsvorm", ("OV1", "OV2", "OV3", "OV4"), kinds=()),
        _code_rule(spec, "Geslacht", ("M", "V", "X"), kinds=()),
        _code_rule(spec, "Reden_uitschrijving", seed_codes("deregistration_reason"), kinds=()),
        _code_rule(spec, "Situatie_na", seed_codes("situation_after"), kinds=()),
        _school_without_pupils_rule(spec),
    ]


def _school_without_pupils_rule(spec: SourceFile) -> Rule:
    """A school in the register that had pupils on the previous count date and has none now."""
    b, e = _date(spec, "begindatum"), _date(spec, "einddatum")
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
            where {b} <= d.counting_date and coalesce({e}, date '9999-12-31') >= d.counting_date
            group by all),
        registered as (
            select distinct lpad(s.instellingsnummer, 6, '0') as school,
                   s._school_year as school_year
            from raw.school_register_schools s)
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
        sql, needs=("raw.school_register_schools",), unit="schools")


def _attest_rules(spec: SourceFile) -> list[Rule]:
    d = _date(spec, "datum_attest")
    return [
        Rule("attest_date_outside_school_year", spec.file_type, "inaccurate", "critical",
             "The attest is dated outside its school year",
             "An attest of school year X is issued between 1 September of X and 31 August.",
             f"""
             select {_row_select(spec, 'Datum_attest')} from {BATCH} b
             where {d} < make_date(cast(left(b.schooljaar, 4) as int), 9, 1)
                or {d} > make_date(cast(left(b.schooljaar, 4) as int) + 1, 8, 31)""",
             blocking=True, column="Datum_attest", kinds=("impossible_dates",)),
        Rule("study_year_out_of_range", spec.file_type, "erroneous", "critical",
             "The study year of the attest is not 1-7", "Attests exist for study years 1-7.",
             f"select {_row_select(spec, 'Leerjaar')} from {BATCH} b "
             f"where try_cast(b.leerjaar as int) not between 1 and 7",
             blocking=True, column="Leerjaar"),
        _code_rule(spec, "Attest", seed_codes("attest"), kinds=()),
    ]


def _absence_rules(spec: SourceFile) -> list[Rule]:
    return [Rule(
        "absences_exceed_expected", spec.file_type, "erroneous", "critical",
        "More absent half days than expected half days, or more problematic than absent ones",
        "Absence counts that cannot be true; absence rates would exceed 100 %.",
        f"""
        select {_row_select(spec, 'Halve_dagen_afwezig')} from {BATCH} b
        where try_cast(b.halve_dagen_afwezig as bigint)
                > try_cast(b.halve_dagen_aanwezig_verwacht as bigint)
           or try_cast(b.halve_dagen_problematisch as bigint)
                > try_cast(b.halve_dagen_afwezig as bigint)""",
        blocking=True, column="Halve_dagen_afwezig")]


def _naft_period_rule(spec: SourceFile) -> Rule:
    first, last = source_period(spec.file_type)
    year = "coalesce(b.schooljaar, b._school_year)" if _has(spec, "Schooljaar") else \
        "b._school_year"
    dates = ""
    if _has(spec, "Begindatum"):
        dates = (f" or {_date(spec, 'begindatum')} < date "
                 f"{_q(sy.first_day(first).isoformat())}"
                 f" or {_date(spec, 'begindatum')} > date {_q(sy.last_day(last).isoformat())}")
    return Rule(
        "outside_naft_protocol_period", spec.file_type, "superfluous", "critical",
        f"The record lies outside the NAFT protocol's school years {first} to {last}",
        "The naft_evaluation protocol covers BINC data of these school years only; anything "
        "outside is superfluous and must not be delivered.",
        f"""
        select {_row_select(spec, 'Schooljaar' if _has(spec, 'Schooljaar') else None)}
        from {BATCH} b
        where left({year}, 4)::int not between {sy.start_year(first)} and {sy.start_year(last)}
              {dates}""",
        blocking=True, column="Schooljaar" if _has(spec, "Schooljaar") else None,
        kinds=("out_of_scope",))


def _trajectory_rules(spec: SourceFile) -> list[Rule]:
    return [
        Rule("trajectory_ends_before_start", spec.file_type, "inaccurate", "critical",
             "The trajectory ends before it starts",
             "Einddatum before Begindatum: durations and the result date are impossible.",
             f"select {_row_select(spec, 'Einddatum')} from {BATCH} b "
             f"where {_date(spec, 'einddatum')} < {_date(spec, 'begindatum')}",
             blocking=True, column="Einddatum", kinds=("impossible_dates",)),
        _code_rule(spec, "Type", seed_codes("naft_trajectory_type")),
        _code_rule(spec, "Vorm", seed_codes("naft_form"), kinds=()),
        _code_rule(spec, "Doelgroep", seed_codes("naft_target_group"), kinds=()),
        _code_rule(spec, "Deelname", seed_codes("naft_participation"), kinds=()),
        _naft_period_rule(spec),
    ]


def _beneficiary_rules(spec: SourceFile) -> list[Rule]:
    return [
        _code_rule(spec, "Geslacht", ("M", "V", "X"), kinds=()),
        _naft_period_rule(spec),
        Rule("trajectory_unknown", spec.file_type, "erroneous", "critical",
             "The beneficiary's trajectory is not in the trajectory files",
             "Every young person with an individual trajectory refers to a trajectory BINC "
             "delivered; a dangling reference cannot be linked to its trajectory.",
             f"""
             select {_row_select(spec, 'Traject_id')} from {BATCH} b
             where not exists (select 1 from raw.binc_naft_trajectories t
                               where t.traject_id = b.traject_id)""",
             blocking=True, column="Traject_id", needs=("raw.binc_naft_trajectories",)),
        Rule("beneficiary_not_enrolled", spec.file_type, "missing", "warning",
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
               and not exists (select 1 from raw.discimus_enrolments e
                               where e.pupil_key = b.pupil_key
                                 and e._school_year = b._school_year)""",
             needs=("raw.discimus_enrolments",)),
    ]


def _zorgthuis_rules(spec: SourceFile) -> list[Rule]:
    kind = "case when f.slot like '%/voorlopig/%' then 'VOORLOPIG' else 'DEFINITIEF' end"
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
        _code_rule(spec, "Soort_lijst", ("VOORLOPIG", "DEFINITIEF"), kinds=()),
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
    ]


def _duo_rules(spec: SourceFile) -> list[Rule]:
    return [
        Rule("brin_format_invalid", spec.file_type, "erroneous", "critical",
             "BRIN is not a valid DUO institution code (2 digits, 2 letters, optional 2-digit "
             "location)",
             "The Dutch school cannot be identified (python-stdnum nl.brin rule, after removing "
             "spaces, dots and dashes).",
             f"""
             select {_row_select(spec, 'BRIN')} from {BATCH} b
             where nullif(trim(b.brin), '') is not null and not regexp_full_match(
                   upper(regexp_replace(b.brin, '[ .-]', '', 'g')),
                   '[0-9]{{2}}[A-Z]{{2}}([0-9]{{2}})?')""",
             blocking=True, column="BRIN", kinds=("unknown_code",)),
        _not_compulsory_rule(
            spec, "not_compulsory_school_age", "superfluous", "critical",
            "The pupil is not of compulsory-school age on the reference date",
            "The protocol covers compulsory-age pupils (leerplicht: from 1 September of the year "
            "the child turns 5, to 30 June of the year it turns 18 or the 18th birthday); other "
            "records are superfluous and must not be kept or delivered.",
            kinds=("out_of_scope",)),
    ]


def _rijksregister_rules(spec: SourceFile) -> list[Rule]:
    return [
        _code_rule(spec, "Geslacht", ("M", "V", "X"), kinds=()),
        _not_compulsory_rule(
            spec, "not_compulsory_school_age", "superfluous", "warning",
            "The child is not of compulsory-school age on the reference date",
            "The extract should hold compulsory-age children only (leerplicht, see "
            "orchestration.foundations.calendar); others are superfluous for the control."),
    ]


def _school_register_rules(spec: SourceFile) -> list[Rule]:
    if spec.file_type == "school_register_schools":
        return [_code_rule(spec, "Soort_bestuur", seed_codes("school_network"),
                           note=" (net: soort bestuur)"),
                _code_rule(spec, "Niveau", ("BAO", "SO"), kinds=())]
    if spec.file_type == "school_register_branches":
        return [_code_rule(spec, "Verstedelijking", seed_codes("urbanisation"), kinds=())]
    level = "left(b.hoofdstructuur, 1)"
    study_year = "try_cast(b.leerjaar as int)"
    return [
        _code_rule(spec, "Hoofdstructuur", seed_codes("main_structure"), kinds=()),
        _code_rule(spec, "Onderwijsvorm", seed_codes("education_form"), kinds=()),
        _code_rule(spec, "Finaliteit", seed_codes("finality"), kinds=()),
        _code_rule(spec, "Leerweg", ("SCHOOL", "DUAAL"), kinds=()),
        Rule("study_year_impossible_for_level", spec.file_type, "erroneous", "critical",
             "The study year is impossible for the level of the hoofdstructuur",
             "Kleuteronderwijs has age classes 1-3, lager onderwijs years 1-6, secundair 1-7.",
             f"""
             select {_row_select(spec, 'Leerjaar')} from {BATCH} b
             where ({level} = '1' and {study_year} not between 1 and 3)
                or ({level} = '2' and {study_year} not between 1 and 6)
                or ({level} = '3' and {study_year} not between 1 and 7)""",
             blocking=True, column="Leerjaar"),
        Rule("negative_capacity", spec.file_type, "erroneous", "critical",
             "Available places are negative", "A capacity cannot be negative.",
             f"select {_row_select(spec, 'Beschikbare_plaatsen')} from {BATCH} b "
             f"where try_cast(b.beschikbare_plaatsen as bigint) < 0",
             blocking=True, column="Beschikbare_plaatsen"),
    ]


def _led_rules(spec: SourceFile) -> list[Rule]:
    return [
        _code_rule(spec, "Status", seed_codes("led_status"), kinds=()),
        _code_rule(spec, "Bewijsstaat", ("EINDBEWIJS", "TUSSENBEWIJS"), kinds=()),
        _code_rule(spec, "Schooltype", ("GEWOON", "BUITENGEWOON"), kinds=()),
    ]


def _linkage_rules() -> list[Rule]:
    spec = BY_FILE_TYPE["duo_registrations"]
    return [Rule(
        "not_linkable_to_rijksregister", spec.file_type, "missing", "warning",
        "The DUO pupil could not be linked to a child in the Rijksregister extract",
        "No (or no certain) match on name, first names, birth date and address: the pupil stays "
        "in the compulsory-education cell's review queue (linkage.duo_review: no_candidate, "
        "uncertain or conflict). DUO is asked to check the identification data of the record.",
        f"""
        select {_row_select(spec, None, 'b')}
        from {BATCH} v
        join raw.duo_registrations b on b.record_key = v.record_key
             and {_date(spec, 'peildatum')} = v.peildatum""",
        table="linkage.duo_review", needs=("raw.duo_registrations",))]


_SPECIFIC = {
    "discimus_enrolments": _enrolment_rules,
    "discimus_attests": _attest_rules,
    "discimus_absences": _absence_rules,
    "binc_naft_trajectories": _trajectory_rules,
    "binc_naft_beneficiaries": _beneficiary_rules,
    "binc_naft_providers": lambda spec: [_naft_period_rule(spec)],
    "zorgthuis_lists": _zorgthuis_rules,
    "duo_registrations": _duo_rules,
    "rijksregister_children": _rijksregister_rules,
    "school_register_schools": _school_register_rules,
    "school_register_branches": _school_register_rules,
    "school_register_capacity": _school_register_rules,
    "led_certificates": _led_rules,
}


def _rules_of(spec: SourceFile) -> list[Rule]:
    rules = generic_rules(spec)
    if _has(spec, "Schooljaar") and "school_year" in spec.pattern:
        rules.append(_school_year_rule(spec))
    if spec.reference_date_column:
        rules.extend(_reference_date_rules(spec))
    if any(c.sensitivity == "insz" for c in spec.columns) and _col(spec, "Geboortedatum"):
        rules.append(_birth_date_rule(spec))
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

