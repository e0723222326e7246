"""vtc_2015_34: the addresses are geo-referenced by a processor that never sees identities.

The main job's delivery hands CEVI (here: tools/geocoder, standing in for it) one address file
per school year keyed only by that year's key; the answer fills residence_statistical_sector of
the next delivery. Expectations come from the hand-off files and the geocoder's table, never
from the writer's own join. Messages give counts only.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from orchestration.deliveries import writer
from orchestration.foundations import settings
from orchestration.protocols import load_registry
from tools import geocoder

PROTOCOL = load_registry().protocol("vtc_2015_34")
FILE = PROTOCOL.delivery_file("social_planning")


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def _hand_off_folder(p: settings.Paths) -> Path:
    return p.outbox / "processors" / FILE.processor_hand_off.processor / PROTOCOL.id


def _delivered(folder: Path) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["school_year"], r["school_year_key"]): r
            for x in folder.glob("social_planning_*.csv") for r in _csv(x)}


@pytest.fixture(scope="module")
def answered(pipeline, tmp_path_factory):
    """A copy of the pipeline's data folder, the geocoder's answers in its inbox, and the
    delivery made after them."""
    assert pipeline.first.success
    data = tmp_path_factory.mktemp("hand_off") / "data"
    for folder in ("warehouse", "restricted", "audit", "outbox"):
        shutil.copytree(pipeline.paths.data / folder, data / folder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.ENV_DATA_DIR, str(data))
        p = settings.paths()
        answers = geocoder.answer_all(p.outbox, p.inbox)
        outcome = writer.deliver(PROTOCOL.id, p=p)
    return p, answers, outcome


def test_the_delivery_hands_the_processor_addresses_keyed_by_the_school_year_key_only(pipeline):
    p = pipeline.paths
    files = sorted(_hand_off_folder(p).glob("social_planning_*.csv"))
    assert files, "no hand-off file for the processor"
    (delivery,) = [x for x in (p.outbox / PROTOCOL.id).iterdir() if x.is_dir()]
    delivered = _delivered(delivery)
    for path in files:
        year = path.stem.rsplit("_", 1)[1]
        rows = _csv(path)
        assert rows and list(rows[0]) == ["key", *FILE.processor_hand_off.sends]
        keys = {r["key"] for r in rows}
        assert len(keys) == len(rows), path.name  # one address per key
        assert all((year, k) in delivered for k in keys), path.name  # that year's keys only
        assert not any(re.search(r"\d{11}", v or "") for r in rows for v in r.values())


def test_the_processors_answer_fills_the_statistical_sector(answered):
    p, answers, outcome = answered
    assert outcome.status == "delivered", outcome.message
    assert sum(answers.values()) > 0
    table = {(r["postcode"], r["street"].lower()): r["statistical_sector"]
             for r in _csv(geocoder.SECTORS)}
    expected = {}
    for path in _hand_off_folder(p).glob("social_planning_*.csv"):
        year = path.stem.rsplit("_", 1)[1]
        for r in _csv(path):
            sector = table.get((r["postcode"].strip(), r["street"].strip().lower()))
            if sector:
                expected[(year, r["key"])] = sector
    delivered = _delivered(outcome.folder)
    filled = {k: r["residence_statistical_sector"] for k, r in delivered.items()
              if r["residence_statistical_sector"]}
    assert filled == expected, f"{len(filled)} sectors delivered, {len(expected)} expected"
    assert len(filled) < len(delivered)  # years before the first Rijksregister extract stay empty
