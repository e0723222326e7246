"""Inbox sensors: one gatekeeper per source.

Inbox sensors never open DuckDB (another process may hold the warehouse): their state is the
cursor (SHA-256 of the files already handled, and a hash cache), and what they know of files
ingested elsewhere (``make run``, a backfill) comes from the audit trail, a JSON Lines file. A new, admitted file starts one
run of its source's ingestion job for the file's school-year partition, with run key = its
SHA-256. A refused file is moved to ``data/restricted/refused/<source>/``, logged, and recorded in
the audit trail (see ``admission``). Sensors tick only while the Dagster daemon runs.
"""

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import dagster as dg

from orchestration.foundations import settings
from orchestration.ingestion import admission
from orchestration.foundations import audit
from orchestration.platform.automation import today_in_brussels
from orchestration.protocols import load_registry
from orchestration.protocols.registry import Registry

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

INBOX_INTERVAL_SECONDS = 30


def build_inbox_sensor(source: str, job: "UnresolvedAssetJobDefinition",
                       registry: Callable[[], Registry] = load_registry,
                       today: Callable[[], dt.date] = today_in_brussels,
                       default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING
                       ) -> dg.SensorDefinition:
    """``registry`` and ``today`` can be replaced in tests (a registry copy, a frozen day)."""

    @dg.sensor(name=f"inbox_{source}_sensor", job=job,
               minimum_interval_seconds=INBOX_INTERVAL_SECONDS, default_status=default_status,
               description=f"Watches data/inbox/{source}/: a new file (by SHA-256) starts "
                           f"{job.name} for its school year; unknown file types and files no "
                           "valid protocol allows are refused and moved to "
                           f"data/restricted/refused/{source}/.")
    def _sensor(context: dg.SensorEvaluationContext):
        p = settings.paths()
        cursor = admission.Cursor.load(context.cursor)
        verdicts = admission.evaluate(p, source, cursor, registry(), today(),
                                      ingested=audit.ingested_sha256s(audit.log_path(p)))
        requests, refused, waiting = [], [], []
        for v in verdicts:
            if v.kind == "new":
                requests.append(dg.RunRequest(
                    run_key=v.sha256, partition_key=v.school_year,
                    tags={"source": source, "file": v.file, "file_sha256": v.sha256}))
            elif v.kind == "refused":
                target = admission.move_refused(p, source, v)
                moved_to = target.relative_to(p.data).as_posix()
                context.log.warning(f"refused {v.message}; moved to {moved_to}, not ingested")
                audit.record("file_refused", file=v.file, sha256=v.sha256, source=source,
                             reason=v.message, moved_to=moved_to)
                refused.append(v.message)
            elif v.kind == "settling":
                waiting.append(v.file)
        if requests:
            return dg.SensorResult(run_requests=requests, cursor=cursor.dump())
        if refused:
            reason = "refused: " + " | ".join(refused)
        elif waiting:
            reason = f"waiting for {', '.join(waiting)} to be completely written"
        else:
            reason = f"no new file in data/inbox/{source}/"
        return dg.SensorResult(skip_reason=dg.SkipReason(reason), cursor=cursor.dump())

    return _sensor
