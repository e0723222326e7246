"""CLI: ``python -m tools.synthetic --pupils N --seed S --out DIR [--defects RATE]``."""

from __future__ import annotations

import argparse
import json
import sys

from tools.synthetic.generator import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.synthetic",
        description="Write a synthetic, internally consistent set of source extracts "
                    "(Discimus, LED, BINC, zorgthuis, DUO, Rijksregister, school register).")
    parser.add_argument("--pupils", type=int, required=True,
                        help="number of distinct children in the population (sample: 5000)")
    parser.add_argument("--seed", type=int, required=True, help="random seed (same seed, same bytes)")
    parser.add_argument("--out", required=True, help="output folder; DIR/<source>/<file>")
    parser.add_argument("--defects", type=float, default=None, metavar="RATE",
                        help="inject defects at this rate (e.g. 0.02) and list them in "
                             "DIR/_ground_truth/defects.csv")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")
    args = parser.parse_args(argv)
    if args.pupils < 100:
        parser.error("--pupils must be at least 100")
    if args.defects is not None and not 0 < args.defects < 0.5:
        parser.error("--defects must be between 0 and 0.5")
    summary = generate(args.pupils, args.seed, args.out, args.defects, verbose=not args.quiet)
    if not args.quiet:
        json.dump(summary, sys.stdout, indent=2, sort_keys=True)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
