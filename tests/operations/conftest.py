"""Helpers of the operations tests: inbox files, synthetic INSZ numbers."""

from __future__ import annotations

import datetime as dt
import os
import time

from stdnum.be import ssn


def make_insz(born: dt.date, first_serial: int = 101) -> str:
    """A valid INSZ (national number) for a birth date, made for the tests."""
    for serial in range(first_serial, 998):
        candidate = f"{born:%y%m%d}{serial:03d}"
        for century in ("", "2"):
            check = 97 - int(century + candidate) % 97
            number = f"{candidate}{check:02d}"
            if ssn.is_valid(number) and (born.year >= 2000) == (century == "2"):
                return number
    raise ValueError(f"no INSZ for {born}")


def write_inbox(p, source: str, name: str, text: str, age_seconds: int = 300):
    """Drop a file in the source's inbox as an agency would; older than the sensor's settle time."""
    path = p.inbox_of(source) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    past = time.time() - age_seconds
    os.utime(path, (past, past))
    return path
