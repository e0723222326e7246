"""The writer's own check of a package's CSV rows (pyarrow, ``frictionless_rows=False``) finds
what frictionless finds: a written package passes both, and a CSV broken in one cell (a value
that is not its field's type, a missing required value, a value outside an enum, a row too many)
fails both. The descriptor's bytes and hash are updated to the broken file, so only the row
check can catch it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from orchestration.deliveries import datapackage, writer
from orchestration.foundations.hashing import sha256_of
from tests.deliveries.conftest import build

pytestmark = pytest.mark.integration


def _package(p):
    build(p, {"zorgthuis"})
    outcome = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1))
    assert outcome.status == "delivered", outcome.message
    return outcome.folder / "datapackage.json"


def _break(package, pick, value=None, extra_row=False):
    """Set one cell of the first CSV resource whose schema has a field ``pick`` accepts."""
    body = json.loads(package.read_text())
    for resource in body["resources"]:
        if resource["format"] != "csv":
            continue
        fields = resource["schema"]["fields"]
        field = next((f for f in fields if pick(f)), None)
        if field is None:
            continue
        path = package.parent / resource["path"]
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8")), delimiter=";"))
        assert len(rows) > 1, "the test needs a data row"
        if extra_row:
            rows.append(rows[1])
        else:
            rows[1][rows[0].index(field["name"])] = value
        out = io.StringIO()
        csv.writer(out, delimiter=";", lineterminator="\n").writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8")
        resource["bytes"] = path.stat().st_size
        resource["hash"] = f"sha256:{sha256_of(path)}"
        package.write_text(json.dumps(body, indent=2))
        return field["name"]
    pytest.fail("no CSV resource has such a field")


def test_a_written_package_passes_both_row_checks(warehouse):
    package = _package(warehouse)
    assert datapackage.validate(package, frictionless_rows=True).valid
    assert datapackage.validate(package, frictionless_rows=False).valid


@pytest.mark.parametrize("case", ["not_a_date", "not_an_integer", "not_a_number",
                                  "required_missing", "outside_enum", "row_too_many"])
def test_a_broken_cell_fails_both_row_checks(warehouse, case):
    package = _package(warehouse)
    if case == "not_a_date":
        _break(package, lambda f: f["type"] == "date", "31/12/2023")
    elif case == "not_an_integer":
        _break(package, lambda f: f["type"] == "integer", "12a")
    elif case == "not_a_number":  # zorgthuis's J/N flag gave way to the MFC residence
        _break(package, lambda f: f["type"] == "number", "1,5")
    elif case == "required_missing":
        _break(package, lambda f: f.get("constraints", {}).get("required")
               and f["type"] == "string", "")
    elif case == "outside_enum":
        _break(package, lambda f: "enum" in f.get("constraints", {}), "NOT_ALLOWED")
    else:
        _break(package, lambda f: True, extra_row=True)
    with_frictionless = datapackage.validate(package, frictionless_rows=True)
    with_arrow = datapackage.validate(package, frictionless_rows=False)
    assert not with_frictionless.valid
    assert not with_arrow.valid, case
