"""Ingest without Dagster, e.g. to prepare a warehouse for dbt development or to measure:
``python -m orchestration.ingestion [--sample] [--source S ...]``.

Uses the same code as the Dagster assets; ``$PROTOCOL_WAREHOUSE_DATA_DIR`` picks the data folder.
"""

from __future__ import annotations

import argparse
import logging
import time

from orchestration.foundations import settings
from orchestration.ingestion.inbox import ingest_sources
from orchestration.ingestion.load import release_held
from orchestration.ingestion.sample import copy_sample_extracts
from orchestration.foundations.sources import SOURCES
from orchestration.foundations.warehouse import connect


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", action="store_true", help="copy the sample into the inbox first")
    parser.add_argument("--source", action="append", choices=SOURCES,
                        help="only these sources (repeatable); default all")
    parser.add_argument("--release-held", metavar="FILE_NAME",
                        help="put a file held for shrinking its slot back in its inbox, to be "
                             "loaded by the next ingestion (needs --reason)")
    parser.add_argument("--reason", default="", help="why a held file is released (audited)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    p = settings.paths()
    if args.sample:
        copy_sample_extracts(p)
    if args.release_held:
        with connect(p, vault=True) as con:
            target = release_held(con, p, args.release_held, args.reason)
        print(f"{args.release_held}: released to {target}; the next ingestion loads it")
        return
    started = time.perf_counter()
    with connect(p, vault=True) as con:
        results = ingest_sources(con, p, args.source or list(SOURCES))
    for source, rs in results.items():
        new = [r for r in rs if r.status != "duplicate"]
        print(f"{source:<16} files {len(new):>4}  received {sum(r.received for r in new):>10}  "
              f"loaded {sum(r.loaded for r in new):>10}  "
              f"quarantined {sum(r.quarantined for r in new):>8}  "
              f"rejected files {sum(r.status == 'rejected' for r in new)}")
    print(f"ingestion took {time.perf_counter() - started:.1f} s; warehouse {p.warehouse}")


if __name__ == "__main__":
    main()
