"""The analyst's dbt docs as the README says: ``make docs`` generates them and serves them on
127.0.0.1 (not a file:// page, which cannot load its JSON). Started as a user would, fetched
over HTTP (the page, manifest.json with the exposures, catalog.json), stopped by its id.

dbt writes them to a target folder of this test's own (``DBT_TARGET_PATH``, which ``make docs``
passes on to every dbt it runs): the project's ``dbt_project/target/manifest.json`` is read by
tests running meanwhile in the other worker, and must not be rewritten under them. The catalog
is read from a warehouse of its own (empty: the test is about serving, not about the models)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from orchestration.foundations.settings import PROJECT_ROOT
from orchestration.protocols import load_registry

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return response.read()


def test_make_docs_serves_the_page_manifest_and_catalog_over_http(tmp_path):
    port = _free_port()
    target = tmp_path / "target"
    target.mkdir()
    parsed = PROJECT_ROOT / "dbt_project" / "target" / "partial_parse.msgpack"
    if parsed.exists():  # the parse of `make manifest`, so dbt parses only what changed
        shutil.copy2(parsed, target / parsed.name)
    log = (tmp_path / "docs.log").open("w")
    process = subprocess.Popen(["make", "docs", f"DOCS_PORT={port}"], cwd=PROJECT_ROOT,
                               env={**os.environ, "DBT_TARGET_PATH": str(target),
                                    "WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb")},
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            assert process.poll() is None, (tmp_path / "docs.log").read_text()[-2000:]
            try:
                page = _get(f"{base}/index.html")
                break
            except OSError:
                assert time.monotonic() < deadline, "dbt docs were not served in time"
                time.sleep(2)
        manifest = json.loads(_get(f"{base}/manifest.json"))
        catalog = json.loads(_get(f"{base}/catalog.json"))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
    assert b"dbt" in page.lower()
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    registry = load_registry()
    assert set(exposures) == set(registry.ids)
    for pid, e in exposures.items():
        p = registry.protocol(pid)
        assert p.date_signed.isoformat() in e["description"] and e["owner"]["name"]
    assert "nodes" in catalog and "sources" in catalog
    assert (target / "catalog.json").is_file()  # written to the test's own target folder
