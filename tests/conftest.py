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
"""

from __future__ import annotations

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``integration`` and ``slow`` as the module docstring says; ``unit`` for every other test."""
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
