"""The picture of the asset graph (``make graph``) is drawn from the definitions: the command's
output lists every asset key, the committed ``docs/asset_graph.dot`` is what it writes today."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from orchestration.definitions import defs
from orchestration.foundations.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow  # loads the definitions twice


def test_make_graph_lists_every_asset_key_and_the_committed_picture_is_current(tmp_path):
    make = subprocess.run(["make", "-n", "graph"], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, check=True).stdout
    assert "-m tools.asset_graph --out docs" in make  # the target runs this command
    done = subprocess.run([sys.executable, "-m", "tools.asset_graph", "--out", str(tmp_path)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    printed = set(done.stdout.splitlines()[:-1])
    assert printed == keys
    dot = (tmp_path / "asset_graph.dot").read_text()
    assert set(re.findall(r'^    "([^"]+)";$', dot, re.M)) == keys
    svg = (tmp_path / "asset_graph.svg").read_text()
    groups = {defs.resolve_asset_graph().get(k).group_name for k in
              defs.resolve_asset_graph().get_all_asset_keys()}
    assert all(f">{g} (" in svg for g in groups)
    assert (PROJECT_ROOT / "docs" / "asset_graph.dot").read_text() == dot, \
        "docs/asset_graph.dot is stale: run make graph"
    assert (PROJECT_ROOT / "docs" / "asset_graph.svg").read_text() == svg
