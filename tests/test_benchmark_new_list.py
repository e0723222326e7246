"""The benchmark's new zorgthuis list (``tools.benchmark_flow``): a corrected re-send of the
latest definitive list, written set-based in DuckDB, on real files."""

from __future__ import annotations

import csv
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.foundations.sources import identify
from tools.benchmark import last_json_line
from tools.benchmark_flow import (ADD_PER_DROPPED, DROP_EVERY, definitive_lists,
                                  make_corrected_list)

pytestmark = pytest.mark.unit
HEADER = "INSZ;Teldatum;Soort_lijst;Verblijf_MFC"


def _write(path, insz: list[str], day: str, kind: str = "DEFINITIEF") -> None:
    path.write_text("\n".join([HEADER] + [f"{i};{day};{kind};GEEN_MFC" for i in insz]) + "\n")


def _read(path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(latest_n=st.integers(1, 400), previous_n=st.integers(0, 400))
def test_the_correction_drops_every_nth_pupil_and_adds_pupils_of_the_list_before(
        tmp_path, latest_n, previous_n):
    latest, previous = tmp_path / "latest.csv", tmp_path / "previous.csv"
    latest_insz = [f"0{i:010d}" for i in range(latest_n)]
    previous_insz = [f"0{i:010d}" for i in range(latest_n // 2, latest_n // 2 + previous_n)]
    _write(latest, latest_insz, "18/05/2026")
    _write(previous, previous_insz, "02/02/2026")
    out = tmp_path / "inbox" / "zorgthuis_2026-05-18_definitief.csv"
    counts = make_corrected_list(latest, previous, out)
    rows = _read(out)
    listed = [r["INSZ"] for r in rows]
    assert len(listed) == len(set(listed)) == counts["rows"]
    assert counts["dropped"] == latest_n // DROP_EVERY
    newcomers = set(listed) - set(latest_insz)
    assert newcomers <= set(previous_insz)
    assert len(newcomers) == counts["added"] == min(
        len(set(previous_insz) - set(latest_insz)), max(1, counts["dropped"] * ADD_PER_DROPPED))
    assert len(set(latest_insz) - set(listed)) == counts["dropped"]
    # every row on the latest list's counting date and kind; leading zeros kept
    assert {(r["Teldatum"], r["Soort_lijst"]) for r in rows} == {("18/05/2026", "DEFINITIEF")}
    assert all(len(i) == 11 for i in listed)
    out.unlink()


def test_the_new_list_replaces_a_hard_link_without_writing_through_it(tmp_path):
    population = tmp_path / "population"
    population.mkdir()
    for name, day in (("zorgthuis_2026-02-02_definitief.csv", "02/02/2026"),
                      ("zorgthuis_2026-05-18_definitief.csv", "18/05/2026"),
                      ("zorgthuis_2026-05-18_voorlopig.csv", "18/05/2026")):
        _write(population / name, [f"{n:011d}" for n in range(100 if "05-18" in name else 0,
                                                               200 if "05-18" in name else 300)],
               day)
    lists = definitive_lists(population)
    assert [f.name for f in lists] == ["zorgthuis_2026-02-02_definitief.csv",
                                      "zorgthuis_2026-05-18_definitief.csv"]
    assert identify(lists[-1].name) is not None
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    os.link(lists[-1], inbox / lists[-1].name)
    before = lists[-1].read_bytes()
    make_corrected_list(lists[-1], lists[-2], inbox / lists[-1].name)
    assert lists[-1].read_bytes() == before  # the population is untouched
    assert (inbox / lists[-1].name).read_bytes() != before


def test_the_benchmark_reads_the_last_json_line_a_flow_command_printed(tmp_path):
    log = tmp_path / "flow.log"
    log.write_text('dagster says {not json\n{"file": "a.csv", "rows": 3}\nleaked 2 instances\n')
    assert last_json_line(log) == {"file": "a.csv", "rows": 3}
    log.write_text("nothing printed\n")
    assert last_json_line(log) == {}
