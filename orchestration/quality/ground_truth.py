"""Measure the findings register against the synthetic generator's injected defects.

``python -m tools.synthetic ... --defects RATE`` lists every injected defect in
``_ground_truth/defects.csv`` (file relative to the output folder; row = 1-based data row in the
file as written, 0 = the whole file; kind; column). A defect counts as found when a finding of one
of the rules that detect its kind (:data:`RULES_BY_KIND`) holds a record with the same file name
and row (``quality.finding_records``; the row is the source's own row number, ``_source_row``).

Reported per kind: injected, found, recall; and over all kinds the records flagged by those rules
that are not in the ground truth (some are honest consequences, e.g. a birth date moved by a
year also makes the age implausible; they are counted, not hidden).
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import duckdb

from orchestration.quality.rules import all_rules

#: defect kind -> keys (``<file_type>.<rule id>``) of the rules that detect it
RULES_BY_KIND: dict[str, frozenset[str]] = {
    kind: frozenset(r.key for r in all_rules() if kind in r.kinds)
    for kind in sorted({k for r in all_rules() for k in r.kinds})
}


@dataclass(frozen=True)
class KindScore:
    kind: str
    injected: int
    found: int
    rules: tuple[str, ...]

    @property
    def recall(self) -> float:
        return self.found / self.injected if self.injected else 1.0


def read_ground_truth(path: Path) -> list[tuple[str, int, str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as fh:
        return [(PurePosixPath(r["file"]).name, int(r["row"]), r["kind"], r["column"])
                for r in csv.DictReader(fh, delimiter=";")]


def score(con: duckdb.DuckDBPyConnection, defects_csv: Path
          ) -> tuple[list[KindScore], dict[str, int]]:
    """(per-kind scores, {kind: flagged records of its rules not in the ground truth})."""
    truth = read_ground_truth(defects_csv)
    con.execute("create or replace temp table _truth (file varchar, row bigint, kind varchar, "
                "col varchar)")
    con.executemany("insert into _truth values (?, ?, ?, ?)", truth)
    con.execute("create or replace temp table _kind_rules (kind varchar, rule_key varchar)")
    con.executemany("insert into _kind_rules values (?, ?)",
                    [(k, r) for k, rs in RULES_BY_KIND.items() for r in sorted(rs)])
    con.execute("""
        create or replace temp table _flagged as
        select distinct k.kind, r.source_file as file, r.source_row as row
        from quality.finding_records r
        join quality.findings f using (finding_id)
        join _kind_rules k on k.rule_key = f.rule_key""")
    rows = con.execute("""
        select t.kind, count(*) as injected,
               count(*) filter (where exists (select 1 from _flagged x where x.kind = t.kind
                                             and x.file = t.file and x.row = t.row)) as found
        from _truth t group by t.kind order by t.kind""").fetchall()
    scores = [KindScore(k, int(n), int(f), tuple(sorted(RULES_BY_KIND.get(k, ()))))
              for k, n, f in rows]
    extra = dict(con.execute("""
        select x.kind, count(*) from _flagged x
        where not exists (select 1 from _truth t where t.kind = x.kind and t.file = x.file
                          and t.row = x.row)
        group by x.kind""").fetchall())
    return scores, {k: int(v) for k, v in extra.items()}


def table(scores: list[KindScore], extra: dict[str, int]) -> str:
    lines = [f"{'defect kind':<26}{'injected':>9}{'found':>7}{'recall':>8}{'other flagged':>15}"]
    for s in scores:
        lines.append(f"{s.kind:<26}{s.injected:>9}{s.found:>7}{s.recall:>8.1%}"
                     f"{extra.get(s.kind, 0):>15}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m orchestration.quality.ground_truth WAREHOUSE.duckdb DEFECTS.csv``"""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(main.__doc__)
        return 2
    con = duckdb.connect(argv[0], read_only=True)
    try:
        scores, extra = score(con, Path(argv[1]))
    finally:
        con.close()
    print(table(scores, extra))
    return 0 if all(s.recall == 1.0 for s in scores) else 1


if __name__ == "__main__":
    sys.exit(main())
