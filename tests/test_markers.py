"""The collection hook of tests/conftest.py marks tests by the fixtures they use: the fixtures it
names must exist, or renaming one would silently turn integration tests into unit tests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import INTEGRATION_FIXTURES, SLOW_FIXTURES

TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize("name", sorted(INTEGRATION_FIXTURES | SLOW_FIXTURES))
def test_every_fixture_the_markers_name_is_defined(name: str):
    defined = [p for p in TESTS.rglob("*.py")
               if re.search(rf"@pytest\.fixture[^\n]*\ndef {name}\(", p.read_text("utf-8"))]
    assert defined, f"no fixture {name} in tests/: update tests/conftest.py"


def test_a_slow_fixture_is_an_integration_fixture():
    assert SLOW_FIXTURES <= INTEGRATION_FIXTURES


def test_this_pure_test_is_marked_unit_and_nothing_else(request):
    marks = {m.name for m in request.node.iter_markers()} & {"unit", "integration", "slow"}
    assert marks == {"unit"}
