"""Reading a delivered file's envelope before any row is touched: hash, encoding, header, records.

One streaming pass computes the SHA-256 (the file's identity for deduplication and the audit
trail), checks that the bytes are UTF-8 (with or without a byte-order mark) and notes the line
endings. Every file then reaches the CSV parser in one form: LF or CRLF line endings as sent;
CR-only and mixed endings are rewritten to LF into a scratch copy in the restricted zone (values,
quoted line breaks included, stay byte for byte). Records are counted on that form, quote-aware
where the file has quotes (a quoted value with a line break is one record), so that
received = loaded + quarantined can be proven for every file.

Messages name the file, the rule and positions or counts, never a received value: a header row
that is really a record (a file sent without its header) must not end up in logs or the audit
trail.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.foundations.settings import restricted_dir
from orchestration.foundations.sources import SourceFile

_CHUNK = 8 * 1024 * 1024
_HEAD = 65536
_BLANK_LINE = re.compile(rb"(?=\n\r?\n)")  # overlapping: each empty line once
BOM = codecs.BOM_UTF8
csv.field_size_limit(sys.maxsize)  # huge values are the parser's rows to reject, not a crash


class FileRejected(Exception):
    """The whole file is refused; the message names the file and the rule, never a value."""

    status = "rejected"

    def __init__(self, file_name: str, rule: str, detail: str):
        super().__init__(f"{file_name}: rejected whole ({rule}): {detail}")
        self.file_name = file_name
        self.rule = rule
        self.detail = detail


class FileHeld(FileRejected):
    """The file is readable but would replace better data: set aside for the data steward."""

    status = "held"

    def __init__(self, file_name: str, rule: str, detail: str):
        Exception.__init__(self, f"{file_name}: held for the data steward ({rule}): {detail}")
        self.file_name = file_name
        self.rule = rule
        self.detail = detail


@dataclass(frozen=True)
class Envelope:
    sha256: str
    size_bytes: int
    has_bom: bool
    records: int  # non-blank records after the header (what "received" counts)
    blank_lines: int
    trailing_blank_lines: int
    header: list[str]
    line_endings: str = "lf"  # lf | crlf | cr | mixed | none
    parse_path: Path | None = None  # what the CSV parser reads: the file or its LF copy
    scratch: list[Path] = field(default_factory=list, compare=False)

    @property
    def interior_blank_lines(self) -> int:
        return self.blank_lines - self.trailing_blank_lines

    def discard_scratch(self) -> None:
        """Delete the LF copy (it holds the file's content: it never outlives the load)."""
        for path in self.scratch:
            path.unlink(missing_ok=True)


@dataclass
class _Scan:
    sha256: str
    size: int
    lf: int
    crlf: int
    cr: int
    quotes: bool
    head: bytes

    @property
    def line_endings(self) -> str:
        kinds = [k for k, n in (("lf", self.lf - self.crlf), ("crlf", self.crlf),
                                ("cr", self.cr - self.crlf)) if n]
        return kinds[0] if len(kinds) == 1 else ("mixed" if kinds else "none")


def _scan(path: Path) -> _Scan:
    """Hash, UTF-8 check and line-ending counts in one pass; never loads the file whole."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    size = lf = cr = crlf = 0
    quotes = False
    head = b""
    previous = b""
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as e:
                raise FileRejected(path.name, "encoding",
                                   f"not UTF-8 at byte {size + e.start}") from None
            size += len(chunk)
            if len(head) < _HEAD:
                head += chunk[:_HEAD]
            lf += chunk.count(b"\n")
            cr += chunk.count(b"\r")
            crlf += chunk.count(b"\r\n") + (previous == b"\r" and chunk[:1] == b"\n")
            quotes = quotes or b'"' in chunk
            previous = chunk[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise FileRejected(path.name, "encoding", "not UTF-8 at the end of the file") from None
    if size == 0:
        raise FileRejected(path.name, "empty_file", "the file is empty")
    return _Scan(digest.hexdigest(), size, lf, crlf, cr, quotes, head)


def _to_lf(path: Path, target: Path, quotes: bool) -> None:
    """Rewrite CR-only or mixed line endings to LF. Without quotes every CR, LF or CRLF ends a
    record; with quotes Python's CSV reader finds the record ends (quoted line breaks are values
    and stay as they are)."""
    restricted_dir(target.parent)
    if quotes:
        with path.open(encoding="utf-8-sig", newline="") as src, \
                target.open("w", encoding="utf-8", newline="") as out:
            # every value quoted: the writer would leave a lone CR unquoted (not its terminator)
            writer = csv.writer(out, delimiter=";", quotechar='"', lineterminator="\n",
                                quoting=csv.QUOTE_ALL)
            for row in csv.reader(src, delimiter=";", quotechar='"'):
                writer.writerow(row)
        return
    with path.open("rb") as src, target.open("wb") as out:
        carry = b""
        while chunk := src.read(_CHUNK):
            data = carry + chunk
            carry = b"\r" if data.endswith(b"\r") else b""
            data = data[:-1] if carry else data
            out.write(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
        out.write(b"\n" if carry else b"")


def _count_plain(path: Path) -> tuple[int, int, int]:
    """(lines, blank lines, trailing blank lines) of a file without quotes, LF or CRLF."""
    newlines = blank = 0
    previous_tail = b"\n"  # a blank first line counts as blank
    last_byte = b""
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            joined = previous_tail + chunk
            newlines += chunk.count(b"\n")
            if b"\n\n" in joined or b"\n\r\n" in joined:  # rare: the regex only then (slow)
                blank += len(_BLANK_LINE.findall(joined)) - len(_BLANK_LINE.findall(previous_tail))
            previous_tail = joined[-2:]
            last_byte = chunk[-1:]
            tail = (tail + chunk)[-4096:]
    lines = newlines + (0 if last_byte == b"\n" else 1)
    body = tail[:-1] if tail.endswith(b"\n") else tail
    trailing = len(body) - len(body.rstrip(b"\r\n")) if body.strip(b"\r\n") else 0
    trailing = body[len(body) - trailing:].count(b"\n") if trailing else 0
    return lines, blank, trailing


def _count_quoted(path: Path) -> tuple[int, int, int]:
    """(records, blank records, trailing blank records) by Python's CSV reader (C code): a
    quoted value may hold line breaks and semicolons."""
    records = blank = run = 0
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.reader(f, delimiter=";", quotechar='"'):
            records += 1
            run = run + 1 if not row else 0
            blank += not row
    return records, blank, run


def read_envelope(path: Path, scratch: Path | None = None) -> Envelope:
    """Hash, decode-check, normalise the line endings (into ``scratch``, a restricted folder)
    and count the records of one file."""
    scan = _scan(path)
    header = _header(path.name, scan.head)
    parse_path, copies = path, []
    if scan.line_endings in ("cr", "mixed"):
        if scratch is None:
            raise ValueError("CR-only or mixed line endings need a scratch folder")
        parse_path = scratch / f".{scan.sha256[:16]}.lf.csv"
        copies.append(parse_path)
        try:
            _to_lf(path, parse_path, scan.quotes)
        except csv.Error:
            parse_path.unlink(missing_ok=True)
            raise FileRejected(path.name, "csv_structure",
                               "the line endings could not be normalised: the quoting is not "
                               "valid CSV") from None
    try:
        lines, blank, trailing = (_count_quoted if scan.quotes else _count_plain)(parse_path)
    except csv.Error:
        for c in copies:
            c.unlink(missing_ok=True)
        raise FileRejected(path.name, "csv_structure",
                           "the records could not be counted: the quoting is not valid CSV") \
            from None
    return Envelope(scan.sha256, scan.size, scan.head.startswith(BOM), max(lines - 1 - blank, 0),
                    blank, trailing, header, scan.line_endings, parse_path, copies)


def _header(file_name: str, head: bytes) -> list[str]:
    """The first record, read by the CSV reader whatever the line endings."""
    text = head.removeprefix(BOM).decode("utf-8", errors="ignore")
    try:
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"'), [])
    except csv.Error:
        raise FileRejected(file_name, "header", "the first line cannot be read as a CSV header") \
            from None


def check_header(spec: SourceFile, file_name: str, header: list[str]) -> None:
    """The header must be exactly the spec's columns, in order: never trust a sniffer.

    The message names the contract's columns and the positions (1-based) of what was received,
    never a received header: a file sent without its header row has a person's record there.
    """
    expected = spec.headers
    if header == expected:
        return
    got = [h.strip() for h in header]
    missing = [h for h in expected if h not in got]
    extra = [i for i, h in enumerate(got, start=1) if h not in expected]
    size = f"{len(header)} column{'s' if len(header) != 1 else ''} received, {len(expected)} " \
           f"expected for {spec.file_type}"
    if missing or extra:
        parts = []
        if missing and len(missing) == len(expected):
            parts.append("no column of the contract in the first line (a file without its "
                         "header row?)")
        elif missing:
            parts.append(f"missing columns {missing}")
        if extra:
            parts.append(f"unexpected columns at positions {_positions(extra)}")
        raise FileRejected(file_name, "header", "; ".join(parts) + f" ({size})")
    moved = [i for i, (h, e) in enumerate(zip(got, expected), start=1) if h != e]
    raise FileRejected(file_name, "header",
                       f"columns out of order, repeated or padded with spaces at positions "
                       f"{_positions(moved or list(range(len(expected) + 1, len(got) + 1)))} "
                       f"({size})")


def _positions(numbers: list[int], shown: int = 20) -> str:
    text = ", ".join(map(str, numbers[:shown]))
    return text + (f" and {len(numbers) - shown} more" if len(numbers) > shown else "")
