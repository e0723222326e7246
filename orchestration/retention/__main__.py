"""Retention from the command line: ``python -m orchestration.retention`` lists what would be
erased today (dry run); ``--apply`` erases; ``--today`` rehearses another day."""

import argparse
import datetime as dt

from orchestration.retention.erasure import run_retention

def main(argv: list[str] | None = None) -> int:
    """``python -m orchestration.retention [--apply] [--today YYYY-MM-DD]``."""
    parser = argparse.ArgumentParser(prog="python -m orchestration.retention",
                                     description="List (default) or apply retention erasures.")
    parser.add_argument("--apply", action="store_true", help="erase; without it: dry run")
    parser.add_argument("--today", type=dt.date.fromisoformat,
                        help="evaluate as of this day (rehearsal or test), default today")
    parser.add_argument("--confirm-placeholder-dates", action="store_true",
                        help="also apply actions held for a registry placeholder date")
    parser.add_argument("--reason", default="", help="required with --confirm-placeholder-dates")
    args = parser.parse_args(argv)
    outcome = run_retention(today=args.today, dry_run=not args.apply,
                            confirm_placeholder_dates=args.confirm_placeholder_dates,
                            reason=args.reason)
    print(outcome.plan.markdown())
    if outcome.report is None:
        print(f"\ndry run: persons that would be forgotten: {outcome.persons_to_forget}")
    else:
        print(f"\nerased: {outcome.report.totals()}; rebuilt {outcome.report.rebuilt}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
