"""The main job, end to end, on the bundled synthetic sample: ``python -m orchestration.main``.

Copies the sample's extracts into the inbox (as the agencies would drop them), then materialises
the whole warehouse for every school year in one run on the Dagster instance in
``$DAGSTER_HOME`` (so the run shows up in the UI afterwards), and prints where things landed.
``--backfill 2019-20`` reprocesses one past school year instead (``school_year_backfill_job``).

Before it starts, it recovers what a killed run left (``platform/recovery.py``: the dead run is
marked failed and its pool slots freed; ingestion and deliveries finish or clear the rest) and
refuses, with exit status 3 and the running one's run id and start time, while another main job
runs.
"""

from __future__ import annotations

import argparse
import os
import sys

import dagster as dg

from orchestration.deliveries.requests import copy_sample_requests
from orchestration.foundations import school_year, settings
from orchestration.ingestion.sample import copy_sample_extracts
from orchestration.platform import recovery
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

# The console shows INFO and up (progress, refusals, failures); the DEBUG event stream stays in
# the run's event log, in the Dagster UI.
CONSOLE_INFO = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def run_warehouse_job(instance: dg.DagsterInstance | None = None,
                      first: str = school_year.ALL[0], last: str = school_year.ALL[-1],
                      raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    """All assets for the school years first..last, in one run."""
    from orchestration.definitions import defs

    job = defs.resolve_job_def("warehouse_job")
    return job.execute_in_process(
        instance=instance or dg.DagsterInstance.get(),
        tags=school_years_tags(first, last),
        run_config=CONSOLE_INFO,
        raise_on_error=raise_on_error,
    )


def run_backfill_job(first: str, last: str | None = None,
                     instance: dg.DagsterInstance | None = None,
                     raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    """``school_year_backfill_job`` for the school years first..last, in one run: their new files
    and their rows of the per-year models; every other school year stays as it is."""
    from orchestration.definitions import defs

    last = last or first
    for key in (first, last):
        if key not in school_year.ALL:
            raise ValueError(f"not a school year of the warehouse: {key!r} "
                             f"(use the short form, e.g. {school_year.ALL[4]})")
    job = defs.resolve_job_def("school_year_backfill_job")
    return job.execute_in_process(
        instance=instance or dg.DagsterInstance.get(),
        tags=school_years_tags(first, last),
        run_config=CONSOLE_INFO,
        raise_on_error=raise_on_error,
    )


def summary(p: settings.Paths) -> str:
    with connect(p, read_only=True) as con:
        files = con.execute("""
            select file_type, count(*) filter (where status in ('loaded', 'superseded')),
                   count(*) filter (where status = 'rejected'),
                   sum(received_rows), sum(loaded_rows), sum(quarantined_rows)
            from ingest.files group by all order by all""").fetchall()
    lines = ["file type                          files  rejected   received     loaded  quarantined"]
    lines += [f"{ft:<34}{n:>6}{r:>10}{rec:>11}{lo:>11}{q:>13}" for ft, n, r, rec, lo, q in files]
    lines += ["", f"warehouse: {p.warehouse}", f"vault (restricted): {p.vault}",
              f"deliveries and reports: {p.outbox}"]
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
            if args.backfill:
                first, _, last = args.backfill.partition("..")
                result = run_backfill_job(first, last or first, instance, raise_on_error=False)
                job = f"the backfill of {args.backfill}"
            else:
                if not args.no_sample:
                    print(f"copied {copy_sample_to_inbox(p)} sample file(s) into {p.inbox}")
                result = run_warehouse_job(instance, raise_on_error=False)
                job = "the warehouse job"
    except recovery.AnotherMainRunIsRunning as refused:
        print(str(refused), file=sys.stderr)
        return EXIT_REFUSED
    print(summary(p))
    if not result.success:
        print(f"{job} FAILED: open the Dagster UI (make ui) for the run's logs", file=sys.stderr)
        return 1
    print(f"{job} succeeded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
