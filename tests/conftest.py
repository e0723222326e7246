"""Shared fixtures: a temporary data folder so no test touches the project's own data/."""

from __future__ import annotations

import pytest

from orchestration.foundations import settings


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A fresh, empty data folder; all code resolves its paths through it."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv(settings.ENV_DATA_DIR, str(d))
    monkeypatch.setenv(settings.ENV_MEMORY_LIMIT, "2GB")
    return settings.paths()
