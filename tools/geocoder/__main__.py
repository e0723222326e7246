"""python -m tools.geocoder [--build-table]: answer the hand-off files of the data folder."""

from __future__ import annotations

import argparse

from tools.geocoder import answer_all, build_sector_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build-table", action="store_true",
                        help="rebuild statistical_sectors.csv from data/sample/rijksregister")
    args = parser.parse_args()
    if args.build_table:
        print(f"statistical_sectors.csv: {build_sector_table()} streets")
        return
    from orchestration.foundations.settings import paths

    p = paths()
    for name, rows in answer_all(p.outbox, p.inbox).items():
        print(f"answered {name}: {rows} key(s)")


if __name__ == "__main__":
    main()
