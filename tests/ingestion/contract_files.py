"""Valid synthetic rows and file names for every source file type, built from its contract.

Shared by the odd-file tests and the property-based test: one value per column type that
ingestion accepts, and a file name that identifies the file type (school year 2023-24).
"""

from __future__ import annotations

import datetime as dt
import re

from stdnum.be import ssn

from orchestration.foundations.sources import SOURCE_FILES, SourceFile

SCHOOL_YEAR = "2023-2024"
REFERENCE_DATE = dt.date(2023, 10, 2)
SPECS = {s.file_type: s for s in SOURCE_FILES}


def make_insz(i: int) -> str:
    """A valid national number (born in 2012) for the i-th test person."""
    born = dt.date(2012, 1, 1) + dt.timedelta(days=i % 3000)
    for serial in range(1 + 2 * (i % 400), 998):
        base = f"{born:%y%m%d}{serial:03d}"
        number = f"{base}{97 - int('2' + base) % 97:02d}"
        if ssn.is_valid(number):
            return number
    raise ValueError(i)


def file_name(spec: SourceFile) -> str:
    """A name matching the file type's pattern, in school year 2023-24."""
    name = spec.pattern
    name = name.replace(r"(?P<school_year>\d{4}-\d{4})", SCHOOL_YEAR)
    name = name.replace(r"(?P<reference_date>\d{4}-\d{2}-\d{2})", REFERENCE_DATE.isoformat())
    name = re.sub(r"\(\?P<list_kind>[^)]*\)", "voorlopig", name)
    name = name.replace("\\", "")
    assert spec.match(name), (spec.file_type, name)
    return name


def value(spec: SourceFile, column, i: int, text: str | None = None) -> str:
    """A value of ``column`` that ingestion accepts; ``text`` replaces free text columns."""
    if column.type == "insz":
        return make_insz(i)
    if column.type == "date":
        return (REFERENCE_DATE - dt.timedelta(days=i)).strftime(spec.date_format)
    if column.type == "int":
        return str(i + 1)
    if column.type == "flag":
        return "J" if i % 2 else "N"
    if column.type == "school_year":
        return SCHOOL_YEAR
    return text if text is not None else f"t{i}"


def row(spec: SourceFile, i: int, text: str | None = None) -> list[str]:
    return [value(spec, c, i, text) for c in spec.columns]


def text_column(spec: SourceFile):
    """The first plain text column (kept in raw as received): where odd values go; None for a
    file type of codes and numbers only."""
    return next((c for c in spec.columns if c.type == "text" and c.sensitivity == "plain"), None)


def csv_line(values: list[str]) -> str:
    """One record as the sources write it: ';' separated, quoted only where needed."""
    out = []
    for v in values:
        if any(ch in v for ch in ';"\r\n'):
            v = '"' + v.replace('"', '""') + '"'
        out.append(v)
    return ";".join(out)
