"""The asset graph as a reviewer sees it: asset keys with their groups and partitioning, asset
checks, jobs, schedules and sensors, compared with the committed snapshot
``tests/snapshots/definitions.json``. A changed graph then shows up in the diff of a review
instead of only in the UI.

After an intended change, rewrite the snapshot and commit it with the change:

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_graph_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def graph_summary() -> dict:
    """Everything the code location exposes, as sorted plain data."""
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    assets = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "partitioned": node.partitions_def is not None,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
        }
    checks = sorted(f"{c.asset_key.to_user_string()}:{c.name}"
                    for c in graph.asset_check_keys)
    return {
        "assets": dict(sorted(assets.items())),
        "asset_checks": checks,
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if j.name != "__ASSET_JOB"),
        "schedules": sorted((s.name, s.cron_schedule if isinstance(s.cron_schedule, str)
                             else list(s.cron_schedule)) for s in defs.schedules or []),
        "sensors": sorted(s.name for s in defs.sensors or []),
    }


def test_the_asset_graph_matches_the_committed_snapshot():
    current = json.loads(json.dumps(graph_summary()))  # tuples -> lists, as in the file
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    committed = json.loads(SNAPSHOT.read_text())
    for part in ("jobs", "schedules", "sensors", "asset_checks"):
        assert current[part] == committed[part], (
            f"{part} changed: added {sorted(set(map(str, current[part])) - set(map(str, committed[part])))}, "
            f"removed {sorted(set(map(str, committed[part])) - set(map(str, current[part])))}; "
            f"if intended, rerun with UPDATE_SNAPSHOTS=1 and commit the snapshot")
    added = sorted(set(current["assets"]) - set(committed["assets"]))
    removed = sorted(set(committed["assets"]) - set(current["assets"]))
    assert not added and not removed, f"assets added {added}, removed {removed}"
    changed = [k for k in current["assets"] if current["assets"][k] != committed["assets"][k]]
    assert not changed, f"group, partitioning or dependencies changed for {changed}"


def test_every_asset_sits_in_a_named_group_and_nothing_is_in_default():
    summary = graph_summary()
    assert summary["assets"], "no assets loaded"
    assert not [k for k, v in summary["assets"].items() if v["group"] in (None, "default")]
