"""The main job, end to end, on the bundled synthetic sample: ``python -m orchestration.main``.

Copies the sample's extracts into the inbox (as the agencies would drop them), then materialises
the whole warehouse for every school year in one run on the Dagster instance in
``$DAGSTER_HOME`` (so the run shows up in the UI afterwards), and prints where things landed.
``--backfill 2019-20`` reprocesses one past school year instead (``school_year_backfill_job``).

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
from orchestration.platform import event_log, recovery
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
             raise_on_error: bool, console: Console | None) -> dg.ExecuteInProcessResult:
    from orchestration.definitions import defs

    job = defs.resolve_job_def(job_name)
    instance = instance or dg.DagsterInstance.get()
    run_id = str(uuid.uuid4())
    with event_log.fewer_syncs(instance, run_id):
        if console is None:
            return job.execute_in_process(instance=instance, tags=school_years_tags(first, last),
                                          run_config=CONSOLE_INFO, raise_on_error=raise_on_error,
                                          run_id=run_id)
        return _execute_with_console(job, instance, first, last, raise_on_error, console, run_id)


def _execute_with_console(job: dg.JobDefinition, instance: dg.DagsterInstance, first: str,
                          last: str, raise_on_error: bool, console: Console, run_id: str
                          ) -> dg.ExecuteInProcessResult:
    console.log_file.parent.mkdir(parents=True, exist_ok=True)
    console.started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with console.log_file.open("a", encoding="utf-8") as log, \
            contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        console.listener = run_console.RunConsole(console.out, log)
        instance.add_event_listener(run_id, console.listener)
        return job.execute_in_process(instance=instance, tags=school_years_tags(first, last),
                                      run_config=CONSOLE_QUIET, raise_on_error=raise_on_error,
                                      run_id=run_id)


def run_warehouse_job(instance: dg.DagsterInstance | None = None,
                      first: str = school_year.ALL[0], last: str = school_year.ALL[-1],
                      raise_on_error: bool = True, console: Console | None = None
                      ) -> dg.ExecuteInProcessResult:
    """All assets for the school years first..last, in one run."""
    return _execute("warehouse_job", instance, first, last, raise_on_error, console)


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
                     backfill: str | None = None, sample: bool = True
                     ) -> tuple[dg.ExecuteInProcessResult, str]:
    """What ``python -m orchestration.main`` does once it holds the main-run lock: the run with
    its console, then the steward's summary. Returns (result, the job in words)."""
    job_name = "school_year_backfill_job" if backfill else "warehouse_job"
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
        result = run_warehouse_job(instance, raise_on_error=False, console=console)
        job = "the warehouse job"
    out.write(summary(p) + "\n")
    protocols = [] if backfill else _protocol_ids()
    out.write(run_console.steward_summary(p, console.listener, protocols, console.started_at,
                                          console.log_file) + "\n")
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
                                           sample=not args.no_sample)
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
