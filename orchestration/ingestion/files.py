"""Reading a delivered file's envelope before any row is touched: hash, encoding, header, lines.

One streaming pass computes the SHA-256 (the file's identity for deduplication and the audit
trail), checks that the bytes are UTF-8 (with or without a byte-order mark), and counts the
records, so that received = loaded + quarantined can be proven for every file.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from orchestration.foundations.sources import SourceFile

_CHUNK = 8 * 1024 * 1024
_BLANK_LINE = re.compile(rb"(?=\n\r?\n)")  # overlapping: each empty line once
BOM = codecs.BOM_UTF8


class FileRejected(Exception):
    """The whole file is refused; the message names the file and the rule."""

    def __init__(self, file_name: str, rule: str, detail: str):
        super().__init__(f"{file_name}: rejected whole ({rule}): {detail}")
        self.file_name = file_name
        self.rule = rule
        self.detail = detail


@dataclass(frozen=True)
class Envelope:
    sha256: str
    size_bytes: int
    has_bom: bool
    data_lines: int  # non-blank lines after the header
    blank_lines: int
    trailing_blank_lines: int
    header: list[str]

    @property
    def interior_blank_lines(self) -> int:
        return self.blank_lines - self.trailing_blank_lines


def read_envelope(path: Path) -> Envelope:
    """Hash, decode-check and count a file in one pass; never loads it whole."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    size = newlines = blank = 0
    first_line = b""
    previous_tail = b"\n"  # a blank first line counts as blank
    last_byte = b""
    tail = b""
    with path.open("rb") as f:
        offset = 0
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as e:
                raise FileRejected(path.name, "encoding",
                                   f"not UTF-8 at byte {offset + e.start}") from None
            if len(first_line) < 65536 and b"\n" not in first_line:
                first_line += chunk[:65536]
            joined = previous_tail + chunk
            newlines += chunk.count(b"\n")
            if b"\n\n" in joined or b"\n\r\n" in joined:  # rare: the regex only then (slow)
                blank += len(_BLANK_LINE.findall(joined)) - len(_BLANK_LINE.findall(previous_tail))
            previous_tail = joined[-2:]
            last_byte = chunk[-1:]
            tail = (tail + chunk)[-4096:]
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise FileRejected(path.name, "encoding", "not UTF-8 at the end of the file") from None
    if size == 0:
        raise FileRejected(path.name, "empty_file", "the file is empty")
    has_bom = first_line.startswith(BOM)
    line = first_line.split(b"\n", 1)[0].rstrip(b"\r")
    if has_bom:
        line = line[len(BOM):]
    header = next(csv.reader([line.decode("utf-8")], delimiter=";", quotechar='"'), [])
    lines = newlines + (0 if last_byte == b"\n" else 1)
    body = tail[:-1] if tail.endswith(b"\n") else tail
    trailing = len(body) - len(body.rstrip(b"\r\n")) if body.strip(b"\r\n") else 0
    trailing = body[len(body) - trailing:].count(b"\n") if trailing else 0
    return Envelope(digest.hexdigest(), size, has_bom, lines - 1 - blank, blank, trailing, header)


def check_header(spec: SourceFile, file_name: str, header: list[str]) -> None:
    """The header must be exactly the spec's columns, in order: never trust a sniffer."""
    expected = spec.headers
    if header == expected:
        return
    got = [h.strip() for h in header]
    missing = [h for h in expected if h not in got]
    extra = [h for h in got if h not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if extra:
            parts.append(f"unexpected columns {extra}")
        raise FileRejected(file_name, "header", "; ".join(parts) +
                           f" (expected {len(expected)} columns of {spec.file_type})")
    raise FileRejected(file_name, "header",
                       f"columns out of order or padded: expected {expected}, got {header}")
