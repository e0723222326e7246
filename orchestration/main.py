"""The main job, end to end, on the bundled synthetic sample: ``python -m orchestration.main``.

Copies the sample's extracts into the inbox (as the agencies would drop them), then materialises
the whole warehouse for every school year in one run on the Dagster instance in
``$DAGSTER_HOME`` (so the run shows up in the UI afterwards), and prints where things landed.
``--backfill 2019-20`` reprocesses one past school year instead (``school_year_backfill_job``).

When nothing changed since the last main job that succeeded (the same day, no new or changed
file in the inbox, the same ingested files, code and DUO review decisions, no other run since:
``platform/up_to_date.py``), the run rebuilds nothing: it checks the audit trail, says which
run's build is still current, and ends in seconds. ``--rebuild`` builds anyway.

Before it starts, it recovers what a killed run left (``platform/recovery.py``: the dead run is
marked failed and its pool slots freed; ingestion and deliveries finish or clear the rest) and
refuses, with exit status 3 and the running one's run id and start time, while another main job
runs.

The console shows a line per step with its counts and elapsed time, and ends with what a steward
needs: per protocol delivered / refused (why) / unchanged, findings per source, where to look
(``orchestration/console.py``). The full log, dbt's output included, is written to
``data/logs/<job>_<time>.log``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sys
import uuid
from typing import TextIO

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from orchestration import console as run_console
from orchestration.deliveries.requests import copy_sample_requests
from orchestration.foundations import school_year, settings
from orchestration.ingestion.sample import copy_sample_extracts
from orchestration.platform import event_log, recovery, up_to_date
from orchestration.platform.partitions import school_years_tags
from orchestration.foundations.warehouse import connect


def ensure_dagster_home() -> str:
    """``$DAGSTER_HOME``, defaulting to the project's ``.dagster_home`` (with its committed
    ``dagster.yaml``) when unset, so the README's commands work outside make as written."""
    home = os.path.abspath(os.environ.get("DAGSTER_HOME")
                           or settings.PROJECT_ROOT / ".dagster_home")
    os.makedirs(home, exist_ok=True)
    os.environ["DAGSTER_HOME"] = home
    return home


def copy_sample_to_inbox(p: settings.Paths) -> int:
    """Drop every sample extract in its source's inbox, and the sample's synthetic request files
    (vtc_2015_35/29/31) in the request inbox; identical files are left alone."""
    return copy_sample_requests(p) + copy_sample_extracts(p)


EXIT_REFUSED = 3  # another main job runs: nothing was done

# Without a console (tests, other callers) Dagster's console logger shows INFO and up; with one,
# the console logger is quiet and the RunConsole prints the step lines (every event still goes
# to the run's event log, in the Dagster UI, and to the log file).
CONSOLE_INFO = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
CONSOLE_QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass
class Console:
    """Where a command-line run reports: step lines and the summary to ``out``, the full log
    (dbt's output included) to ``log_file``."""

    out: TextIO
    log_file: Path
    listener: run_console.RunConsole | None = None
    started_at: dt.datetime | None = None


def _execute(job_name: str, instance: dg.DagsterInstance | None, first: str, last: str,
             raise_on_error: bool, console: Console | None,
             asset_selection: list[dg.AssetKey] | None = None,
             tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
    from orchestration.definitions import defs

    job = defs.resolve_job_def(job_name)
    instance = instance or dg.DagsterInstance.get()
    tags = {**school_years_tags(first, last), **(tags or {})}
    run_id = str(uuid.uuid4())
    with event_log.fewer_syncs(instance, run_id):
        if console is None:
            return job.execute_in_process(instance=instance, tags=tags, run_config=CONSOLE_INFO,
                                          raise_on_error=raise_on_error, run_id=run_id,
                                          asset_selection=asset_selection)
        return _execute_with_console(job, instance, tags, asset_selection, raise_on_error,
                                     console, run_id)


def _execute_with_console(job: dg.JobDefinition, instance: dg.DagsterInstance,
                          tags: dict[str, str], asset_selection: list[dg.AssetKey] | None,
                          raise_on_error: bool, console: Console, run_id: str
                          ) -> dg.ExecuteInProcessResult:
    console.log_file.parent.mkdir(parents=True, exist_ok=True)
    console.started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with console.log_file.open("a", encoding="utf-8") as log, \
            contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        console.listener = run_console.RunConsole(console.out, log)
        instance.add_event_listener(run_id, console.listener)
        return job.execute_in_process(instance=instance, tags=tags, run_config=CONSOLE_QUIET,
                                      raise_on_error=raise_on_error, run_id=run_id,
                                      asset_selection=asset_selection)


def run_warehouse_job(instance: dg.DagsterInstance | None = None,
                      first: str = school_year.ALL[0], last: str = school_year.ALL[-1],
                      raise_on_error: bool = True, console: Console | None = None
                      ) -> dg.ExecuteInProcessResult:
    """All assets for the school years first..last, in one run."""
    return _execute("warehouse_job", instance, first, last, raise_on_error, console)


# What a main job runs when nothing changed since the last one (``platform/up_to_date.py``):
# the audit trail's chain check alone, so the run is on record in the UI and the trail is verified.
UP_TO_DATE_SELECTION = [dg.AssetKey(["compliance", "audit_log"])]


def run_up_to_date_job(since: str, instance: dg.DagsterInstance | None = None,
                       raise_on_error: bool = True, console: Console | None = None
                       ) -> dg.ExecuteInProcessResult:
    """``warehouse_job`` with nothing to rebuild: only the audit trail's check, tagged with the
    run whose build is still current."""
    return _execute("warehouse_job", instance, school_year.ALL[0], school_year.ALL[-1],
                    raise_on_error, console, asset_selection=UP_TO_DATE_SELECTION,
                    tags={up_to_date.UP_TO_DATE_TAG: since})


def run_warehouse_job_unless_up_to_date(
        p: settings.Paths, instance: dg.DagsterInstance, out: TextIO,
        console: Console | None = None, raise_on_error: bool = True, rebuild: bool = False,
) -> tuple[dg.ExecuteInProcessResult, up_to_date.Verdict]:
    """The main job, or, when none of its inputs changed since the last one succeeded (same
    day, same inbox, same ingested files, code and link decisions, no other run since), the
    up-to-date run that rebuilds nothing. A successful main job records its inputs.
    ``rebuild``: build even when nothing changed."""
    state = up_to_date.current_state(p)
    verdict = (up_to_date.Verdict(None, ["asked to rebuild (--rebuild)"]) if rebuild
               else up_to_date.verdict(p, instance, state))
    if verdict.since:
        out.write(f"up to date: nothing new since the warehouse job {verdict.since}; no model "
                  f"rebuilt, no delivery attempted (delete {up_to_date.record_path(p)} to build "
                  "anyway)\n")
        return run_up_to_date_job(verdict.since, instance, raise_on_error, console), verdict
    out.write(f"building: {'; '.join(verdict.reasons)}\n")
    up_to_date.forget_build(p)  # a failed or killed build is never current
    result = run_warehouse_job(instance, raise_on_error=raise_on_error, console=console)
    if result.success:
        record = instance.get_run_record_by_id(result.run_id)
        created = record.create_timestamp if record else None
        if created is not None and created.tzinfo is None:  # Dagster stores UTC
            created = created.replace(tzinfo=dt.UTC)
        started = created.timestamp() if created else 0.0
        up_to_date.record_build(p, result.run_id, started, state)
    return result, verdict


def run_backfill_job(first: str, last: str | None = None,
                     instance: dg.DagsterInstance | None = None,
                     raise_on_error: bool = True, console: Console | None = None
                     ) -> dg.ExecuteInProcessResult:
    """``school_year_backfill_job`` for the school years first..last, in one run: their new files
    and their rows of the per-year models; every other school year stays as it is."""
    last = last or first
    for key in (first, last):
        if key not in school_year.ALL:
            raise ValueError(f"not a school year of the warehouse: {key!r} "
                             f"(use the short form, e.g. {school_year.ALL[4]})")
    return _execute("school_year_backfill_job", instance, first, last, raise_on_error, console)


def command_line_run(p: settings.Paths, instance: dg.DagsterInstance, out: TextIO,
                     backfill: str | None = None, sample: bool = True, rebuild: bool = False
                     ) -> tuple[dg.ExecuteInProcessResult, str]:
    """What ``python -m orchestration.main`` does once it holds the main-run lock: the run with
    its console, then the steward's summary. Returns (result, the job in words)."""
    job_name = "school_year_backfill_job" if backfill else "warehouse_job"
    up_to_date_since: str | None = None
    console = Console(out, run_console.log_path(p, job_name, dt.datetime.now()))
    if backfill:
        first, _, last = backfill.partition("..")
        out.write(f"the backfill of {backfill}: full log in {console.log_file}\n")
        result = run_backfill_job(first, last or first, instance, raise_on_error=False,
                                  console=console)
        job = f"the backfill of {backfill}"
    else:
        if sample:
            out.write(f"copied {copy_sample_to_inbox(p)} sample file(s) into {p.inbox}\n")
        out.write(f"the warehouse job, every school year: full log in {console.log_file}\n")
        result, verdict = run_warehouse_job_unless_up_to_date(p, instance, out, console,
                                                              raise_on_error=False,
                                                              rebuild=rebuild)
        job = "the warehouse job"
        up_to_date_since = verdict.since
    out.write(summary(p) + "\n")
    protocols = [] if backfill else _protocol_ids()
    out.write(run_console.steward_summary(p, console.listener, protocols, console.started_at,
                                          console.log_file, up_to_date_since) + "\n")
    out.flush()
    return result, job


def _protocol_ids() -> list[str]:
    from orchestration.protocols import load_registry

    return sorted(load_registry().ids)


def summary(p: settings.Paths) -> str:
    with connect(p, read_only=True) as con:
        files = con.execute("""
            select file_type, count(*) filter (where status in ('loaded', 'superseded')),
                   count(*) filter (where status = 'rejected'),
                   sum(received_rows), sum(loaded_rows), sum(quarantined_rows)
            from ingest.files group by all order by all""").fetchall()
    lines = ["", "Ingestion (all runs so far, per file type):",
             "file type                          files  rejected   received     loaded  quarantined"]
    lines += [f"{ft:<34}{n:>6}{r:>10}{rec:>11}{lo:>11}{q:>13}" for ft, n, r, rec, lo, q in files]
    lines += ["", f"warehouse: {p.warehouse}", f"vault (restricted): {p.vault}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-sample", action="store_true",
                        help="do not copy the synthetic sample into the inbox first")
    parser.add_argument("--backfill", metavar="FIRST[..LAST]",
                        help="instead of the main job, reprocess these past school years only "
                             "(e.g. 2019-20 or 2017-18..2019-20): school_year_backfill_job; "
                             "no sample is copied and no delivery goes out")
    parser.add_argument("--rebuild", action="store_true",
                        help="build everything even when nothing changed since the last main "
                             "job (by default such a run rebuilds nothing and says so)")
    args = parser.parse_args(argv)
    ensure_dagster_home()
    p = settings.paths()
    instance = dg.DagsterInstance.get()
    job_name = "school_year_backfill_job" if args.backfill else "warehouse_job"
    try:
        with recovery.exclusive_main_run(instance, job_name, p) as dead:
            for d in dead:
                print(f"recovered: {d.message()}", file=sys.stderr)
            result, job = command_line_run(p, instance, sys.stdout, args.backfill,
                                           sample=not args.no_sample, rebuild=args.rebuild)
    except recovery.AnotherMainRunIsRunning as refused:
        print(str(refused), file=sys.stderr)
        return EXIT_REFUSED
    if not result.success:
        print(f"{job} FAILED: open the Dagster UI (make ui) for the run's logs", file=sys.stderr)
        return 1
    print(f"{job} succeeded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
