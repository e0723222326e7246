"""Request files of the on-request protocols (vtc_2015_35, vtc_2015_31, vtc_2015_29).

A requester sends a list of persons by INSZ; the warehouse answers with exactly the whitelisted
fields of exactly those persons. Requests land as CSV files (semicolon, UTF-8, with a header)::

    data/inbox/requests/<protocol_id>/<request_id>.csv

with a column ``insz`` and, optionally (required for vtc_2015_29, whose answer may not carry the
INSZ), ``request_id``: the requester's own reference of the line. The file name (without
``.csv``) is the request id; each request is answered once, as its own delivery.

The INSZ is read here and resolved to the internal pupil key through the vault's INSZ register
(inside the delivery writer's connection, with the vault attached read-only); it never enters
the warehouse. The bundled sample has small synthetic requests in ``data/sample/requests/``;
:func:`copy_sample_requests` drops them in the inbox.
"""

from __future__ import annotations

import csv
import filecmp
import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from stdnum.be import ssn

from orchestration.foundations.pseudonymisation import normalise_insz
from orchestration.foundations.settings import Paths

REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class RequestError(ValueError):
    """A request file that cannot be answered as it is."""


@dataclass(frozen=True)
class RequestLine:
    line: int  # 1-based data line number
    insz: str  # normalised digits as sent (echoed in answers keyed on the INSZ)
    reference: str  # the requester's line reference (request_id column), or the line number
    valid: bool


@dataclass(frozen=True)
class Request:
    protocol_id: str
    request_id: str
    path: Path
    sha256: str
    lines: tuple[RequestLine, ...]

    @property
    def invalid_lines(self) -> int:
        return sum(not line.valid for line in self.lines)


def inbox_folder(p: Paths, protocol_id: str) -> Path:
    return p.inbox / "requests" / protocol_id


def sample_folder(p: Paths) -> Path:
    return p.sample / "requests"


def read_request(path: Path, protocol_id: str, *, need_reference: bool = False) -> Request:
    request_id = path.stem
    if not REQUEST_ID.match(request_id):
        raise RequestError(f"{path.name}: the file name must be the request id "
                           "(letters, digits, '.', '_', '-'; at most 64)")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RequestError(f"{path.name}: not UTF-8") from exc
    reader = csv.DictReader(text.splitlines(), delimiter=";")
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "insz" not in header:
        raise RequestError(f"{path.name}: no 'insz' column (header: {header})")
    if need_reference and "request_id" not in header:
        raise RequestError(f"{path.name}: protocol {protocol_id} answers by the requester's "
                           "line reference: add a 'request_id' column")
    lines = []
    references = set()
    for number, row in enumerate(reader, start=1):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        insz = normalise_insz(row.get("insz", ""))
        reference = row.get("request_id") or str(number)
        if need_reference and (not row.get("request_id") or reference in references):
            raise RequestError(f"{path.name}: line {number}: missing or repeated request_id")
        references.add(reference)
        valid = len(insz) == 11 and ssn.is_valid(insz)
        lines.append(RequestLine(number, insz, reference, valid))
    if not lines:
        raise RequestError(f"{path.name}: no request lines")
    return Request(protocol_id, request_id, path, hashlib.sha256(data).hexdigest(),
                   tuple(lines))


def pending_requests(p: Paths, protocol_id: str, answered: set[str],
                     *, need_reference: bool = False) -> list[Request]:
    """Request files in the inbox that have not been answered yet, in name order."""
    folder = inbox_folder(p, protocol_id)
    if not folder.exists():
        return []
    return [read_request(path, protocol_id, need_reference=need_reference)
            for path in sorted(folder.glob("*.csv")) if path.stem not in answered]


def copy_sample_requests(p: Paths) -> int:
    """Drop the sample's synthetic request files in the inbox (identical files are left)."""
    copied = 0
    for src in sorted(sample_folder(p).glob("*/*.csv")):
        target = inbox_folder(p, src.parent.name) / src.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or not filecmp.cmp(src, target, shallow=False):
            shutil.copy2(src, target)
            copied += 1
    return copied
