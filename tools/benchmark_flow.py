"""One new zorgthuis list through to its delivery, on a warehouse a benchmark built.

What happens in operation when Opgroeien sends a list: the file lands in
``data/inbox/zorgthuis/``; the inbox sensor starts ``ingest_zorgthuis_job`` for the list's
school year (run key = its SHA-256); on the exchange day the protocol's schedule starts
``deliver_zorgthuis`` over every school year, which writes the package to
``data/outbox/zorgthuis/<delivery_id>/``. ``python -m tools.benchmark --new-zorgthuis-list``
times exactly these two runs, each in a process of its own (this module, one command each):

    python -m tools.benchmark_flow make-list --inbox DIR --population DIR  # the new list
    python -m tools.benchmark_flow ingest --file NAME        # what the sensor starts
    python -m tools.benchmark_flow deliver [--whole-job]     # what the schedule starts

The schedule's run rebuilds only what changed since the last main job (the zorgthuis models,
``deliveries.jobs.stale_selection``); ``--whole-job`` rebuilds everything the job selects, as
it did before, for a before/after comparison.

The new list is a corrected re-send of the latest definitive list (the protocol: "a later list
for the same date supersedes the earlier one"): the same counting date, every 50th pupil of it
dropped, and pupils of the list before it added, so the ingestion, the supersession and the
delivery all have work of the size a real correction brings. Built set-based in DuckDB.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

from orchestration.foundations.sources import BY_FILE_TYPE

FILE_TYPE = "zorgthuis_lists"
SOURCE = BY_FILE_TYPE[FILE_TYPE].source
PROTOCOL = SOURCE  # the zorgthuis protocol delivers the zorgthuis source's lists
LIST_NAME = re.compile(BY_FILE_TYPE[FILE_TYPE].pattern)
DROP_EVERY = 50  # every 50th pupil of the list leaves it in the correction
ADD_PER_DROPPED = 2  # and twice as many pupils of the previous list join it


def definitive_lists(folder: Path) -> list[Path]:
    """The definitive lists in a folder, oldest counting date first."""
    found = [(m.group("reference_date"), f) for f in folder.glob("*.csv")
             if (m := LIST_NAME.fullmatch(f.name)) and m.group("list_kind") == "definitief"]
    return [f for _, f in sorted(found)]


def make_corrected_list(latest: Path, previous: Path, out: Path, variant: int = 0
                        ) -> dict[str, int]:
    """Write ``out``: ``latest`` less every ``DROP_EVERY``-th pupil (from the ``variant``-th
    on: each variant is another correction), plus pupils of ``previous`` not on ``latest`` (on
    ``latest``'s counting date and list kind). Counts only returned."""
    drop = f"(n + {int(variant)}) % {DROP_EVERY}"
    import duckdb

    con = duckdb.connect()
    read = "read_csv({path}, delim=';', header=true, all_varchar=true)"
    con.execute(f"create table latest as select *, row_number() over () as n "
                f"from {read.format(path='$latest')}", {"latest": str(latest)})
    con.execute(f"create table previous as select * from {read.format(path='$previous')}",
                {"previous": str(previous)})
    dropped = con.execute(f"select count(*) from latest where {drop} = 0").fetchone()[0]
    con.execute(f"""
        create table corrected as
        select INSZ, Teldatum, Soort_lijst, Verblijf_MFC from latest where {drop} <> 0
        union all
        (select p.INSZ, l.Teldatum, l.Soort_lijst, p.Verblijf_MFC
         from previous p, (select any_value(Teldatum) as Teldatum,
                                  any_value(Soort_lijst) as Soort_lijst from latest) l
         where p.INSZ not in (select INSZ from latest)
         order by p.INSZ limit {max(1, dropped * ADD_PER_DROPPED)})""")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() or out.is_symlink():
        out.unlink()  # the inbox holds hard links to the population: never write through one
    con.execute(f"copy (select * from corrected order by INSZ) to '{out}' "
                "(header, delimiter ';')")
    added = con.execute("select count(*) from corrected where INSZ not in "
                        "(select INSZ from latest)").fetchone()[0]
    rows = con.execute("select count(*) from corrected").fetchone()[0]
    con.close()
    return {"rows": rows, "dropped": dropped, "added": added}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ingest(file_name: str) -> dict:
    """The run the inbox sensor starts for a new file: its source's ingestion job, for the
    file's school year, tagged like the sensor's run request."""
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.foundations import settings
    from orchestration.foundations.raw_layout import slot_of
    from orchestration.foundations.sources import identify

    p = settings.paths()
    path = p.inbox_of(SOURCE) / file_name
    known = identify(file_name)
    if known is None:
        raise ValueError(f"{file_name}: not a known file name")
    spec, match = known
    _, school_year, _ = slot_of(spec, match.groupdict())
    job = defs.resolve_job_def(f"ingest_{SOURCE}_job")
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance, partition_key=school_year, raise_on_error=False,
            tags={"source": SOURCE, "file": file_name, "file_sha256": _sha256(path)})
    return {"run_id": result.run_id, "success": result.success, "school_year": school_year}


def deliver(whole_job: bool = False) -> dict:
    """The run the protocol's schedule starts on an exchange day: its delivery job over every
    school year, for what changed since the last main job (``whole_job``: all of it, as
    before the schedule selected). Returns the writer's outcome (status, delivery id, rows)."""
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.deliveries.jobs import stale_selection
    from orchestration.foundations import settings
    from orchestration.platform import up_to_date
    from orchestration.platform.asset_keys import delivery_asset_key
    from orchestration.platform.partitions import school_years_tags

    job = defs.resolve_job_def(f"deliver_{PROTOCOL}")
    changed = None if whole_job else up_to_date.changed_file_types(settings.paths())
    selection = stale_selection(PROTOCOL, defs.resolve_asset_graph(), changed)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, tags=school_years_tags(),
                                        raise_on_error=False, asset_selection=selection)
        event = instance.get_latest_materialization_event(delivery_asset_key(PROTOCOL))
    meta = event.asset_materialization.metadata if event and event.asset_materialization \
        else {}
    value = {k: getattr(v, "value", v) for k, v in meta.items()
             if k in ("status", "delivery_id", "rows_total", "folder")}
    return {"run_id": result.run_id, "success": result.success, **value,
            "changed_file_types": sorted(changed) if changed is not None else "unknown",
            "assets_selected": len(selection) if selection is not None else "whole job"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmark_flow",
                                     description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make-list", help="write the corrected list into the inbox")
    make.add_argument("--inbox", type=Path, required=True, help="data/inbox/<source> folder")
    make.add_argument("--population", type=Path, required=True,
                      help="the population's zorgthuis folder (lists as generated)")
    make.add_argument("--variant", type=int, default=0,
                      help="which correction (another variant drops other pupils)")
    run = sub.add_parser("ingest", help="the ingestion run the inbox sensor would start")
    run.add_argument("--file", required=True)
    deliver_run = sub.add_parser("deliver", help="the delivery run the schedule would start")
    deliver_run.add_argument("--whole-job", action="store_true",
                             help="rebuild everything the delivery job selects (as before the "
                                  "schedule selected only what changed)")
    args = parser.parse_args(argv)
    if args.command == "make-list":
        lists = definitive_lists(args.population)
        if len(lists) < 2:
            print(f"fewer than two definitive lists in {args.population}", file=sys.stderr)
            return 2
        latest, previous = lists[-1], lists[-2]
        counts = make_corrected_list(latest, previous, args.inbox / latest.name, args.variant)
        outcome = {"file": latest.name, **counts}
    elif args.command == "ingest":
        outcome = ingest(args.file)
    else:
        outcome = deliver(args.whole_job)
    print(json.dumps(outcome))
    return 0 if outcome.get("success", True) else 1


if __name__ == "__main__":
    sys.exit(main())
