"""The collection hook of tests/conftest.py marks tests by the fixtures they use: the fixtures it
names must exist, or renaming one would silently turn integration tests into unit tests. It also
groups tests for pytest-xdist by the fixtures they share."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import INTEGRATION_FIXTURES, SLOW_FIXTURES, xdist_groups

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


class _Item(SimpleNamespace):
    __hash__ = object.__hash__  # a key, as pytest's items are


def _item(nodeid: str, **fixtures: str) -> _Item:
    """A collected test as the grouping reads it: its id and its fixtures' scopes (the tests' own
    fixtures have a base id, pytest's and plugins' have none)."""
    defs = {name: [SimpleNamespace(scope=scope, baseid="" if name == "tmp_path_factory"
                                   else nodeid.rsplit("/", 1)[0])]
            for name, scope in fixtures.items()}
    return _Item(nodeid=nodeid, fixturenames=list(fixtures),
                 _fixtureinfo=SimpleNamespace(name2fixturedefs=defs))


def test_tests_sharing_a_fixture_wider_than_a_test_form_one_xdist_group():
    on_run = _item("tests/integration/test_a.py::test_one", pipeline="session",
                   tmp_path_factory="session")
    through_module = _item("tests/integration/test_b.py::test_two", added="module",
                           pipeline="session", data_dir="function")
    module_mate = _item("tests/integration/test_b.py::test_three", added="module")
    own_module = _item("tests/linkage/test_c.py::test_four", linked="module")
    own_mate = _item("tests/linkage/test_c.py::test_five", linked="module")
    alone = _item("tests/linkage/test_c.py::test_six", data_dir="function",
                  tmp_path_factory="session")
    groups = xdist_groups([on_run, through_module, module_mate, own_module, own_mate, alone])
    # the session's run and the module built on it: one worker, so each is made once
    assert groups[on_run] == groups[through_module] == groups[module_mate] == "pipeline"
    assert groups[own_module] == groups[own_mate] == "tests/linkage/test_c.py"
    assert alone not in groups  # free to go to either worker
