"""Processor hand-offs: part of a file made by a processor that never sees identities.

A delivery file with a ``processor_hand_off`` in the registry (vtc_2015_34: CEVI nv
geo-references the addresses, "Op deze manier beschikt CEVI nv op geen enkel moment over
essentiële informatie van leerlingen") is completed in two steps, both at delivery time and
set-based in DuckDB:

1. :func:`hand_off` writes, per school year, one CSV (semicolon, UTF-8) to the processor's folder
   ``data/outbox/processors/<processor>/<protocol>/<file>_<school year>.csv``: the file's key
   (the per-year pseudonym the delivery carries, nothing else that identifies) and the columns
   the registry's ``sends`` names, taken from the vault (``source: rijksregister_address``: the
   Rijksregister address of the school year, from the latest extract dated in it; a pupil
   without one is not handed off). Written in the restricted zone and renamed into place, so
   the processor never reads half a file; the audit trail records counts and hashes only.
2. :func:`load_answers` reads every answer the processor put in
   ``data/inbox/processors/<processor>/<protocol>/`` (CSV: the key, then the ``answers``
   columns) into a temp table ``__processor_answers`` of the connection; the writer fills the
   ``processor_answer`` columns from it, joined on the key. A key not answered stays empty.

The answers come from outside, so they are checked like a source's file (:func:`check_answer_file`):
a file that is not UTF-8 text (a UTF-8 BOM and CRLF or CR line endings are fine), is empty,
larger than the hand-off could ever answer, or whose header is not ``key;<answers>`` (by
position and count: a header is never quoted back) is rejected whole; every row is checked
(field count, a key of the delivery's pseudonym form that was handed off, an answer of its
column's form, a key once per file) and a bad row is rejected by file, row, rule and column,
never with its value, while the good rows count (received = accepted + rejected). Only
accepted rows are answers: the latest file (by name) that answers a key validly wins, so a
later, worse file never replaces a good earlier answer. The rejections go back to the
processor as ``<outbox folder>/rejected/<file>.rejected.csv``.

For the synthetic sample, ``tools/geocoder.py`` stands in for the processor.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.deliveries.pseudonyms import CODE_ALPHABET, CODE_LETTERS, scheme_of
from orchestration.foundations.audit import personal_shape
from orchestration.foundations.hashing import sha256_of
from orchestration.foundations.settings import Paths
from orchestration.protocols.registry import DeliveryFile, Protocol

PROCESSORS_FOLDER = "processors"
SCHOOL_YEAR = re.compile(r"\d{4}-\d{2}")
ANSWERS_TABLE = "__processor_answers"
# Where each hand-off source finds what it sends: the vault columns, by their hand-off names.
SOURCES = {
    "rijksregister_address": {"postcode": "r.postcode", "street": "i.straat",
                              "house_number": "i.huisnummer"},
}

# The form of each answer a processor may send, by the registry's answer column names.
# statistical_sector: Statbel's code, the municipality's NIS code (5 digits), the letter of the
# former municipality, three characters (digits or capitals; the last may be '-'): 11002A00-.
ANSWER_FORMATS = {
    "statistical_sector": r"[0-9]{5}[A-Z][0-9A-Z]{2}[0-9A-Z-]",
}
# An answer line is a key of 40-odd characters and a short code: a file with more bytes than
# this per handed-off key (plus its header) cannot be an answer to what was sent.
MAX_BYTES_PER_KEY = 256
REJECTED_FOLDER = "rejected"
ACCEPTED, PARTLY, REJECTED = "accepted", "partly_accepted", "rejected"
ERROR_COLUMNS = ("file", "row", "rule", "column")
RULE_TEXT = {
    "not_csv": "not a .csv file",
    "not_a_regular_file": "a link, not a file the processor wrote (not followed)",
    "too_large": "larger than an answer to the keys handed off can be",
    "empty_file": "empty: no header",
    "not_utf8": "not UTF-8 text (UTF-16, another encoding or a binary file)",
    "wrong_header": "the header is not the expected columns",
    "wrong_field_count": "not as many fields as the header",
    "missing_required": "empty",
    "invalid_key": "not a key of the form the hand-off carries",
    "key_not_sent": "a key that was never handed off",
    "invalid_answer": "not of the answer's form",
    "duplicate_key": "the key was answered earlier in the file",
    "conflicting_answers": "the key has different answers in the file",
}


@dataclass
class AnswerFile:
    """One answer file read: counts and errors only (row 0 = the whole file; 1 = the first
    line after the header), never a value."""

    file: str
    status: str
    received: int = 0
    accepted: int = 0
    rejected: int = 0
    errors: list[tuple[int, str, str | None]] = field(default_factory=list)  # row, rule, column
    detail: str = ""  # for a file rejected whole: what is wrong, by counts and positions

    def message(self) -> str:
        head = (f"{self.file}: {self.status} (received {self.received}, accepted "
                f"{self.accepted}, rejected {self.rejected})")
        shown = "; ".join(
            (f"row {r}: " if r else "file: ") + f"{rule} ({RULE_TEXT[rule]}"
            + (f", column {c})" if c else ")") for r, rule, c in self.errors[:5])
        more = f" ... and {len(self.errors) - 5} more" if len(self.errors) > 5 else ""
        return head + (f": {shown}{more}" if shown else "") + (
            f"; {self.detail}" if self.detail else "")


@dataclass
class Answers:
    """What :func:`load_answers` read: keys answered, and every file with its counts."""

    keys: int = 0
    files: list[AnswerFile] = field(default_factory=list)

    @property
    def received(self) -> int:
        return sum(f.received for f in self.files)

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)


class HandOffError(RuntimeError):
    """A hand-off the registry asks for cannot be made (the message names no value)."""


def outbox_folder(p: Paths, protocol: Protocol, delivery: DeliveryFile) -> Path:
    """Where the processor collects the hand-off files."""
    return p.outbox / PROCESSORS_FOLDER / delivery.processor_hand_off.processor / protocol.id


def answer_folder(p: Paths, protocol: Protocol, delivery: DeliveryFile) -> Path:
    """Where the processor puts its answers."""
    return p.inbox / PROCESSORS_FOLDER / delivery.processor_hand_off.processor / protocol.id


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def hand_off(con: duckdb.DuckDBPyConnection, protocol: Protocol, delivery: DeliveryFile,
             model_table: str, p: Paths) -> list[dict]:
    """Write the hand-off files of one delivery file from its model (``model_table``, holding
    ``pupil_key``, ``school_year`` and the key column); returns per file its name, rows and
    SHA-256 (no values). The vault must be attached as ``vault``."""
    spec = delivery.processor_hand_off
    columns = SOURCES[spec.source]
    unknown = sorted(set(spec.sends) - set(columns))
    if unknown:
        raise HandOffError(f"{protocol.id}/{delivery.id}: source {spec.source} cannot send "
                           f"{unknown}")
    sends = ", ".join(f"{columns[c]} as {_q(c)}" for c in spec.sends)
    # the address of the school year: the latest Rijksregister extract dated in that year
    con.execute(f"""
        create or replace temp table __hand_off as
        with keys as (
            select distinct pupil_key, school_year, {_q(spec.key)} as key
            from {model_table}
        ),
        addresses as (
            select k.school_year, k.key, {sends}
            from keys as k
            inner join raw.rijksregister_children as r
                on r.pupil_key = k.pupil_key
               and try_strptime(r.referentiedatum, '%d/%m/%Y')::date
                   between make_date(cast(substr(k.school_year, 1, 4) as integer), 9, 1)
                       and make_date(cast(substr(k.school_year, 1, 4) as integer) + 1, 8, 31)
            inner join vault.identity_rijksregister_children as i
                on i._source_file_sha256 = r._source_file_sha256
               and i._source_row = r._source_row
            qualify row_number() over (
                partition by k.school_year, k.key
                order by try_strptime(r.referentiedatum, '%d/%m/%Y') desc, r._source_row desc
            ) = 1
        )
        select * from addresses""")
    target = outbox_folder(p, protocol, delivery)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    years = [r[0] for r in con.execute(
        "select distinct school_year from __hand_off order by 1").fetchall()]
    header = ", ".join(_q(c) for c in ["key", *spec.sends])
    for year in years:  # one file per school year: the key is valid within that year only
        if not SCHOOL_YEAR.fullmatch(str(year)):
            raise HandOffError(f"{protocol.id}/{delivery.id}: a school year of the model is not "
                               "of the form 2023-24")
        name = f"{delivery.id}_{year}.csv"
        partial = target / f".partial-{name}"
        con.execute(f"copy (select {header} from __hand_off where school_year = '{year}' "
                    f"order by key) to '{_sql_path(partial)}' "
                    "(format csv, header true, delimiter ';', quote '\"')")
        os.replace(partial, target / name)
        rows = con.execute("select count(*) from __hand_off where school_year = ?",
                           [year]).fetchone()[0]
        written.append({"file": name, "rows": rows, "sha256": sha256_of(target / name)})
    con.execute("drop table __hand_off")
    return written


def key_pattern(protocol: Protocol) -> str | None:
    """The form of the keys the hand-off carries (the delivery's pseudonyms), as a regex."""
    scheme = scheme_of(protocol)
    if scheme is None:
        return None
    return re.escape(scheme.prefix) + f"[{CODE_ALPHABET}]{{{CODE_LETTERS}}}"


def _cell(text: str) -> str:
    """A header cell as written: spaces and one pair of surrounding quotes taken off."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()
    return text


def _header_detail(cells: list[str], expected: list[str], line: str) -> str:
    """What is wrong with a header, by counts and positions (a header row may be a record)."""
    lowered = [c.lower() for c in cells]
    detail = (f"{len(cells)} column(s), expected {len(expected)}: "
              f"{';'.join(expected)} (semicolon-separated)")
    differ = [str(i + 1) for i, c in enumerate(lowered) if i >= len(expected) or c != expected[i]]
    if differ:
        detail += f"; position(s) {', '.join(differ)} differ"
    missing = [c for c in expected if c not in lowered]
    if missing:
        detail += f"; missing {', '.join(missing)}"
    if len(cells) != len(set(lowered)):
        detail += "; a column name appears twice"
    if len(cells) == 1 and any(d in line for d in (",", "\t", "|")):
        detail += "; the delimiter must be ';'"
    return detail


def _looks_personal(name: str) -> bool:
    return bool(personal_shape(name) or re.search(r"[0-9A-Fa-f]{32}", name))


def shown_name(path: Path) -> str:
    """The answer file's name as messages, the audit trail and the rejections show it: the
    name, unless it looks like a personal value or a pseudonym (then its hash's start)."""
    if _looks_personal(path.name):
        return f"answer file {sha256_of(path)[:12]}"
    return path.name


def check_answer_file(con: duckdb.DuckDBPyConnection, path: Path, answers: list[str],
                      key_form: str | None, max_bytes: int) -> AnswerFile:
    """Check one answer file and every row (see the module docstring); the rows that pass are
    left in temp table ``__answer_ok`` (``key`` and the ``answers`` columns). Needs temp table
    ``__sent_keys`` (the keys handed off)."""
    expected = ["key", *answers]
    names = ", ".join(_q(c) for c in expected)
    con.execute(f"create or replace temp table __answer_ok as select {names} "
                f"from (select {', '.join('null::varchar as ' + _q(c) for c in expected)}) "
                "where false")

    def whole(rule: str, detail: str = "") -> AnswerFile:
        return AnswerFile(shown, REJECTED, errors=[(0, rule, None)], detail=detail)

    if path.is_symlink():  # never read what a link points to (the vault, another folder)
        name = "a linked answer file" if _looks_personal(path.name) else path.name
        return AnswerFile(name, REJECTED, errors=[(0, "not_a_regular_file", None)])
    shown = shown_name(path)
    if path.suffix.lower() != ".csv":
        return whole("not_csv")
    size = path.stat().st_size
    if size > max_bytes:
        return whole("too_large", f"{size} bytes; at most {max_bytes} for the keys handed off")
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data:
        return whole("not_utf8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return whole("not_utf8", f"first bad byte at offset {e.start}")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return whole("empty_file")
    header_line, _, body = text.partition("\n")
    cells = [_cell(c) for c in header_line.split(";")]
    if [c.lower() for c in cells] != expected:
        return whole("wrong_header", _header_detail(cells, expected, header_line))

    # every line after the header, set-based: row 1 = the first line after the header; a
    # blank line is no record. A cell loses its spaces and one pair of surrounding quotes.
    picks = ", ".join(f"case when len(cells) = {len(expected)} then cells[{i + 1}] end as {_q(c)}"
                      for i, c in enumerate(expected))
    con.execute(f"""
        create or replace temp table __answer_rows as
        with lines as (
            select unnest(s) as line, generate_subscripts(s, 1) as source_row
            from (select string_split($body, chr(10)) as s)
        ),
        split as (
            select source_row,
                   list_transform(
                       string_split(line, ';'),
                       lambda c: trim(regexp_replace(trim(c), '^"(.*)"$', '\\1'))) as cells
            from lines where trim(line) <> ''
        )
        select source_row, len(cells) as fields, {picks} from split""", {"body": body})
    answer_tuple = "(" + ", ".join(_q(c) for c in answers) + ",)"
    rules = [
        f"select source_row, 'wrong_field_count', null from __answer_rows "
        f"where fields <> {len(expected)}",
        "select source_row, 'missing_required', 'key' from __answer_rows where key = ''",
        "select source_row, 'key_not_sent', 'key' from __answer_rows "
        "where key <> '' and key not in (select key from __sent_keys)"
        + (f" and regexp_full_match(key, '{key_form}')" if key_form else ""),
        f"""select source_row, case when versions > 1 then 'conflicting_answers'
                                    else 'duplicate_key' end, 'key'
            from (select source_row, key,
                         count(distinct {answer_tuple}) over (partition by key) as versions,
                         row_number() over (partition by key order by source_row) as nth
                  from __answer_rows where key <> '')
            where versions > 1 or nth > 1""",
    ]
    if key_form is not None:
        rules.append(f"select source_row, 'invalid_key', 'key' from __answer_rows "
                     f"where key <> '' and not regexp_full_match(key, '{key_form}')")
    for c in answers:
        rules.append(f"select source_row, 'missing_required', '{c}' from __answer_rows "
                     f"where {_q(c)} = ''")
        rules.append(f"select source_row, 'invalid_answer', '{c}' from __answer_rows "
                     f"where {_q(c)} <> '' and not regexp_full_match({_q(c)}, "
                     f"'{ANSWER_FORMATS[c]}')")
    con.execute("create or replace temp table __answer_errors as "
                "select distinct * from (" + " union all ".join(rules) + ") "
                "as e(source_row, rule, column_name)")
    errors = [(int(r), rule, c) for r, rule, c in con.execute(
        "select source_row, rule, column_name from __answer_errors "
        "order by source_row, rule, column_name").fetchall()]
    con.execute(f"""
        insert into __answer_ok select {names} from __answer_rows
        where source_row not in (select source_row from __answer_errors)""")
    received = con.execute("select count(*) from __answer_rows").fetchone()[0]
    rejected = len({r for r, _, _ in errors})
    accepted = received - rejected
    status = ACCEPTED if not rejected else PARTLY if accepted else REJECTED
    return AnswerFile(shown, status, received, accepted, rejected, errors)


def rejections_path(p: Paths, protocol: Protocol, delivery: DeliveryFile, file_name: str) -> Path:
    """Where the processor finds what was wrong with one of its answer files."""
    return (outbox_folder(p, protocol, delivery) / REJECTED_FOLDER
            / f"{Path(file_name).stem}.rejected.csv")


def _write_rejections(target: Path, checked: AnswerFile) -> None:
    """File, row, rule and column of every rejection (no value); none: no file."""
    if not checked.errors:
        target.unlink(missing_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".partial-{target.name}")
    with partial.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\n")
        w.writerow(ERROR_COLUMNS)
        w.writerows([checked.file, r, rule, c or ""] for r, rule, c in checked.errors)
    os.replace(partial, target)


def _sent_keys(con: duckdb.DuckDBPyConnection, folder: Path) -> int:
    """Temp table ``__sent_keys``: every key of the hand-off files in ``folder``; returns how
    many."""
    con.execute("create or replace temp table __sent_keys (key varchar)")
    files = sorted(f for f in folder.glob("*.csv") if not f.name.startswith(".")) \
        if folder.exists() else []
    if files:
        listing = ", ".join(f"'{_sql_path(f)}'" for f in files)
        con.execute(f"insert into __sent_keys select distinct key from read_csv([{listing}], "
                    "delim = ';', header = true, all_varchar = true, union_by_name = true) "
                    "where key is not null")
    return con.execute("select count(*) from __sent_keys").fetchone()[0]


def load_answers(con: duckdb.DuckDBPyConnection, protocol: Protocol, delivery: DeliveryFile,
                 p: Paths) -> Answers:
    """Every answer file of the processor, checked, into temp table ``__processor_answers``
    (the key and the ``answers`` columns, one row per key: the latest file that answers it
    validly); returns the keys answered and every file's counts and errors."""
    spec = delivery.processor_hand_off
    unknown = sorted(set(spec.answers) - set(ANSWER_FORMATS))
    if unknown:
        raise HandOffError(f"{protocol.id}/{delivery.id}: no form known for the answers "
                           f"{unknown} (hand_off.ANSWER_FORMATS)")
    names = ", ".join(_q(c) for c in ["key", *spec.answers])
    columns = ", ".join(f"{_q(c)} varchar" for c in ["key", *spec.answers])
    con.execute(f"create or replace temp table {ANSWERS_TABLE} ({columns})")
    folder = answer_folder(p, protocol, delivery)
    files = sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")) \
        if folder.exists() else []
    if not files:
        return Answers()
    sent = _sent_keys(con, outbox_folder(p, protocol, delivery))
    key_form = key_pattern(protocol)
    con.execute(f"create or replace temp table __answers_all (file_order integer, {columns})")
    result = Answers()
    for order, path in enumerate(files):  # one set-based check per file, in name order
        checked = check_answer_file(con, path, spec.answers, key_form,
                                    MAX_BYTES_PER_KEY * (sent + 1))
        con.execute(f"insert into __answers_all select {order}, {names} from __answer_ok")
        result.files.append(checked)
        _write_rejections(rejections_path(p, protocol, delivery, checked.file), checked)
    con.execute(f"""
        insert into {ANSWERS_TABLE}
        select {names} from __answers_all
        qualify row_number() over (partition by key order by file_order desc) = 1""")
    for table in ("__answers_all", "__answer_ok", "__answer_rows", "__answer_errors",
                  "__sent_keys"):
        con.execute(f"drop table if exists {table}")
    result.keys = con.execute(f"select count(*) from {ANSWERS_TABLE}").fetchone()[0]
    return result
