"""Shared fixtures and the test markers.

Fixtures: ``data_dir``, a temporary data folder so no test touches the project's own data/, and
``test_master_key``, a master key of the tests' own.

Markers (registered in pyproject.toml), applied here at collection:

- ``integration``: real parts run together: the main job on the sample, dbt builds, Dagster
  materialisations and jobs, Great Expectations validations, linkage or retention over ingested
  files. A test is one when it lives in tests/integration/, uses a fixture of
  ``INTEGRATION_FIXTURES``, or its module or function carries the marker (for a test that
  materialises or validates in its own body).
- ``slow``: a test that takes many seconds: one on the main job's run (``SLOW_FIXTURES``), or
  one whose module or function carries the marker (generated populations, integer attacks).
- ``unit``: every other test: pure functions, and small real DuckDB files.

``make test`` runs every test; ``make test-unit`` runs ``-m unit``.

Both run on two processes (pytest-xdist). ``make test`` distributes by ``xdist_group``, also
applied here: tests that share a fixture wider than one test (the session's ``pipeline``, a
module's fixture) form one group and run on one worker, so each such fixture is still made once;
the groups of slow tests go first, the longest first, so the other worker takes the rest
meanwhile. What workers would share is their own: every worker has its own temporary folders
(pytest's), Dagster instances (ephemeral or in a temporary home) and dbt log folder.
"""

from __future__ import annotations

import os

import pytest

from orchestration.foundations import pseudonymisation as pseudo
from orchestration.foundations import settings

TEST_MASTER_KEY = "test-master-key-for-the-tests-only-0123456789"

INTEGRATION_FOLDER = "integration"
# Fixtures that run real parts together before the test: the main job on the sample
# (integration/conftest.py), a defective set through the main job, a backfill, DUO linkage on
# ingested extracts, retention on ingested files, every asset materialised once.
INTEGRATION_FIXTURES = frozenset({"pipeline", "defective", "backfill", "linked", "planted",
                                  "everything_built"})
# Of those, the ones that take minutes.
SLOW_FIXTURES = frozenset({"pipeline", "defective"})
# The main job's runs they make: to start the longest work first on parallel workers (a module
# that runs the main job itself says so with ``pytest.mark.slow(main_job_runs=N)``).
MAIN_JOB_RUNS = {"pipeline": 2, "defective": 1}


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A fresh, empty data folder; all code resolves its paths through it."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv(settings.ENV_DATA_DIR, str(d))
    monkeypatch.setenv(settings.ENV_MEMORY_LIMIT, "2GB")
    return settings.paths()


@pytest.fixture
def test_master_key(monkeypatch) -> str:
    """A master key of the tests' own. Without one the development key refuses every file that
    is not part of the committed sample, and the tests make files of their own."""
    monkeypatch.setenv(pseudo.ENV_MASTER_KEY, TEST_MASTER_KEY)
    return TEST_MASTER_KEY


# Session fixtures every test uses (autouse), made once per worker: no reason to group.
PER_PROCESS_FIXTURES = frozenset({"dbt_log_folder"})


@pytest.fixture(scope="session", autouse=True)
def dbt_log_folder(tmp_path_factory) -> str:
    """dbt's log folder of this test process, not dbt_project/logs shared by parallel workers
    (dagster-dbt gives each invocation its own; this covers dbt started by a test itself)."""
    folder = str(tmp_path_factory.getbasetemp() / "dbt_logs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBT_LOG_PATH", folder)
        yield folder


def _shared_fixtures(item: pytest.Item) -> set[tuple[str, str]]:
    """The tests' own fixtures wider than one test that ``item`` uses (directly or through
    another fixture), as (scope, key): a session fixture by its name, a module or class fixture
    by the module or class (each gets its own instance)."""
    shared = set()
    for name, definitions in item._fixtureinfo.name2fixturedefs.items():
        fixture = definitions[-1]
        if (fixture.scope == "function" or not fixture.baseid  # no baseid: pytest's, a plugin's
                or name in PER_PROCESS_FIXTURES):
            continue
        if fixture.scope in ("session", "package"):
            shared.add(("session", name))
        elif fixture.scope == "module":
            shared.add(("module", item.nodeid.split("::")[0]))
        else:
            shared.add(("class", item.nodeid.rsplit("::", 1)[0]))
    return shared


def xdist_groups(items: list[pytest.Item]) -> dict[pytest.Item, str]:
    """Tests linked by shared fixtures, transitively, form one group: named by the session
    fixtures it shares (e.g. ``pipeline``), or else by its first module or class."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def root(key):
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    shared = {item: sorted(_shared_fixtures(item)) for item in items}
    for keys in shared.values():
        for key in keys[1:]:
            parent[root(key)] = root(keys[0])
    members: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for keys in shared.values():
        for key in keys:
            members.setdefault(root(key), set()).add(key)
    names = {}
    for top, keys in members.items():
        sessions = sorted(k for scope, k in keys if scope == "session")
        names[top] = "+".join(sessions) if sessions else min(k for _, k in keys)
    return {item: names[root(keys[0])] for item, keys in shared.items() if keys}


def _main_job_runs(items: list[pytest.Item]) -> int:
    """The main-job runs of these tests: their fixtures' (``MAIN_JOB_RUNS``, once each) and each
    module's own (``pytest.mark.slow(main_job_runs=N)``, once per module)."""
    fixtures = set().union(*(getattr(item, "fixturenames", ()) for item in items))
    modules: dict[str, int] = {}
    for item in items:
        mark = item.get_closest_marker("slow")
        if mark is not None:
            module = item.nodeid.split("::")[0]
            modules[module] = max(modules.get(module, 0), mark.kwargs.get("main_job_runs", 0))
    return sum(MAIN_JOB_RUNS.get(name, 0) for name in fixtures) + sum(modules.values())


def _longest_first(items: list[pytest.Item], groups: dict[pytest.Item, str]) -> None:
    """Reorder ``items`` in place, the longest work first: by the main-job runs of a group (or
    of a test of no group), then by its number of slow tests, then in collection order. So the
    first worker starts the longest group at once, the other the next ones, and what is left at
    the end is quick."""
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        units.setdefault(groups.get(item, item.nodeid), []).append(item)
    weight = {unit: (_main_job_runs(members),
                     sum(m.get_closest_marker("slow") is not None for m in members))
              for unit, members in units.items()}
    position = {item: n for n, item in enumerate(items)}
    items.sort(key=lambda item: (tuple(-w for w in weight[groups.get(item, item.nodeid)]),
                                 position[item]))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Under ``--dist loadgroup`` pytest-xdist tags each grouped test's id with ``@group``. On
    pytest 9.2 that silently does nothing (pytest-xdist issue 1386; hence ``pytest<9.2`` in
    pyproject.toml): stop rather than run every shared fixture on both workers."""
    if not (os.environ.get("PYTEST_XDIST_WORKER") and session.config.getvalue("loadgroup")):
        return
    lost = [item.nodeid for item in session.items
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        raise pytest.UsageError(f"pytest-xdist did not group {lost[0]} (and {len(lost) - 1} "
                                "more): this pytest's node ids do not take the group")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``integration`` and ``slow`` as the module docstring says; ``unit`` for every other test;
    ``xdist_group`` by shared fixtures, and the slow groups first."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        folders = item.path.relative_to(item.config.rootpath).parts[:-1]
        integration = (INTEGRATION_FOLDER in folders
                       or bool(fixtures & INTEGRATION_FIXTURES)
                       or item.get_closest_marker("integration") is not None)
        slow = bool(fixtures & SLOW_FIXTURES) or item.get_closest_marker("slow") is not None
        if integration and item.get_closest_marker("integration") is None:
            item.add_marker(pytest.mark.integration)
        if slow and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)
        if not integration and not slow:
            item.add_marker(pytest.mark.unit)
    groups = xdist_groups(items)
    for item, group in groups.items():
        item.add_marker(pytest.mark.xdist_group(group))
    _longest_first(items, groups)
