"""A delivery killed at any point (SIGKILL of a real process) leaves nothing half-written where a
recipient looks, and the next delivery finishes or clears what it left: written and sealed in
the restricted zone, recorded, audited, then renamed into the outbox."""

from __future__ import annotations

import datetime as dt
import importlib
import multiprocessing
import os
import signal
import stat

import pytest

from orchestration.deliveries import package_docs, writer
from orchestration.foundations import audit
from orchestration.foundations.warehouse import connect
from tests.deliveries.conftest import build

pytestmark = pytest.mark.integration  # real processes killed mid-delivery

TODAY = dt.date(2024, 3, 1)


def _deliver_and_die(where: str) -> None:
    """In a child process: deliver zorgthuis and SIGKILL ourselves at ``where`` (no cleanup,
    no finally: as kill -9 from an operator or the kernel's OOM killer)."""
    targets = {"writing": ("writer", "_write_parts", 2),   # during the second delivery file
               "auditing": ("writer", "_audit_delivery", 1),  # recorded, before the audit
               "publishing": ("staging", "publish", 1)}     # recorded and audited, not published
    module_name, name, at_call = targets[where]
    module = importlib.import_module(f"orchestration.deliveries.{module_name}")
    real, calls = getattr(module, name), []

    def die(*args, **kwargs):
        calls.append(1)
        if len(calls) == at_call:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    setattr(module, name, die)
    writer.deliver("zorgthuis", today=TODAY)


def _killed_delivery(where: str) -> None:
    child = multiprocessing.get_context("spawn").Process(target=_deliver_and_die, args=(where,))
    child.start()
    child.join(timeout=300)
    assert child.exitcode == -signal.SIGKILL


def _outbox(p) -> list[str]:
    folder = p.outbox / "zorgthuis"
    return sorted(x.name for x in folder.iterdir()) if folder.exists() else []


def _staging(p):
    return p.restricted / "staging" / "deliveries" / "zorgthuis"


def _staged(p) -> list[str]:
    folder = _staging(p)
    return sorted(x.name for x in folder.iterdir()) if folder.exists() else []


def _events(p, event: str) -> list:
    return [e for e in audit.entries(audit.log_path(p)) if e.event == event]


def test_a_delivery_killed_while_writing_leaves_nothing_in_the_outbox_and_is_cleaned_up(
        warehouse):
    build(warehouse, {"zorgthuis"})
    _killed_delivery("writing")
    assert _outbox(warehouse) == []  # the recipient sees nothing, not even a hidden folder
    [left] = _staged(warehouse)  # the half-written files stay in the restricted zone
    assert left.startswith(".partial-")
    assert stat.S_IMODE(os.stat(_staging(warehouse) / left).st_mode) == 0o700
    with connect(warehouse, read_only=True) as con:
        assert con.execute("select count(*) from deliveries_log.deliveries").fetchone()[0] == 0

    outcome = writer.deliver("zorgthuis", today=TODAY)
    assert outcome.status == "delivered"
    assert _outbox(warehouse) == [outcome.delivery_id]
    assert _staged(warehouse) == []  # the leftover is gone
    [recovered] = _events(warehouse, "recovery")
    assert recovered.fields["half_written_removed"] == 1
    assert len(_events(warehouse, "delivery")) == 1
    assert audit.verify(audit.log_path(warehouse)).ok


@pytest.mark.parametrize("where", ["auditing", "publishing"])
def test_a_recorded_delivery_killed_before_it_reached_the_outbox_is_published_once(
        warehouse, where):
    build(warehouse, {"zorgthuis"})
    _killed_delivery(where)
    assert _outbox(warehouse) == []
    with connect(warehouse, read_only=True) as con:
        [(delivery_id,)] = con.execute(
            "select delivery_id from deliveries_log.deliveries").fetchall()
    assert _staged(warehouse) == [delivery_id]  # complete, sealed, still restricted

    outcome = writer.deliver("zorgthuis", today=TODAY)
    assert outcome.status == "unchanged" and outcome.delivery_id == delivery_id
    assert _outbox(warehouse) == [delivery_id] and _staged(warehouse) == []
    folder = warehouse.outbox / "zorgthuis" / delivery_id
    # 4 files x (CSV, Parquet) + datapackage.json, the documents and the synthetic twin
    assert len(list(folder.iterdir())) == 9 + len(package_docs.DOCUMENTS) + 1
    # exactly one delivery and one vault-use entry, whoever wrote them
    for event in ("delivery", "vault_use"):
        assert [e.fields["delivery_id"] for e in _events(warehouse, event)] == [delivery_id]
    [recovered] = _events(warehouse, "recovery")
    assert recovered.fields["published"] == [f"zorgthuis/{delivery_id}"]
    assert audit.verify(audit.log_path(warehouse)).ok


def test_leftovers_of_a_live_process_are_not_touched(warehouse):
    from orchestration.deliveries import staging

    mine = staging.new_partial(warehouse, "zorgthuis")
    old_style = warehouse.outbox / "zorgthuis" / ".partial-0123456789ab"
    old_style.mkdir(parents=True)
    removed = staging.remove_leftovers(warehouse)
    assert removed == [old_style] and mine.exists()
