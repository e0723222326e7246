"""What ``make run`` prints, read from the shared run of the main job on the sample (the fixture
runs what ``python -m orchestration.main`` runs and keeps its console): a line per step with
counts and elapsed time, dbt summarised (its own output in the log file), each refusal once, and
an end with deliveries per protocol, findings per source and where to look."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestration.console import label
from orchestration.definitions import defs
from orchestration.foundations import audit
from orchestration.foundations.warehouse import connect
from orchestration.protocols import load_registry

pytestmark = pytest.mark.integration
STEP_LINE = re.compile(r"^\[\s*\d+:\d\d\.\d\] (?P<label>.+?)\s{2,}")


def _steps(console: str) -> list[str]:
    return [m["label"].strip() for m in map(STEP_LINE.match, console.splitlines()) if m]


def _section(console: str, title: str) -> list[str]:
    lines = console.splitlines()
    start = lines.index(title) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("  ")),
               len(lines))
    return lines[start:end]


def test_every_step_of_the_main_job_has_its_line_with_elapsed_time(pipeline):
    job = defs.resolve_job_def("warehouse_job")
    steps = _steps(pipeline.console_first)
    for node in job.graph.node_dict:
        assert label(node) in steps, (node, pipeline.console_first[:3000])
    # a step says it once (success, failure or skip), however many events it emits
    finished = [line for line in pipeline.console_first.splitlines()
                if STEP_LINE.match(line) and "... running" not in line]
    assert len(finished) == len(job.graph.node_dict)


def test_the_ingestion_lines_count_what_ingest_files_holds(pipeline):
    with connect(pipeline.paths, read_only=True) as con:
        per_source = dict((s, (int(r), int(lo), int(q))) for s, r, lo, q in con.execute(
            "select source, sum(received_rows), sum(loaded_rows), sum(quarantined_rows) "
            "from ingest.files group by source").fetchall())
    lines = {m["label"].strip(): line for line in pipeline.console_first.splitlines()
             if (m := STEP_LINE.match(line))}
    for source, (received, loaded, quarantined) in per_source.items():
        line = lines[f"ingest {source}"]
        assert (f"{received:,} rows received = {loaded:,} loaded + {quarantined:,} quarantined"
                in line), line


def test_dbt_is_summarised_and_its_output_kept_in_the_log_file(pipeline):
    console = pipeline.console_first
    assert "Running with dbt" not in console and " OK created " not in console
    said = [line for line in console.splitlines() if "... running" not in line]
    assert len(said) < 100, len(said)  # progress lines aside: some twenty steps and the end
    dbt_lines = [line for line in console.splitlines() if line.startswith("[")
                 and re.search(r"\] dbt ", line) and "... running" not in line]
    assert len(dbt_lines) == 2 and all(re.search(r"\d+ models built; \d+ checks", line)
                                       for line in dbt_lines), dbt_lines
    [log_line] = [line for line in console.splitlines() if "full log (dbt included):" in line]
    log = Path(log_line.split("full log (dbt included):")[1].strip())
    text = log.read_text(encoding="utf-8")
    assert "Running with dbt" in text and "STEP_SUCCESS" in text
    assert log.parent == pipeline.paths.data / "logs"


def _refused(result) -> set[str]:
    """Protocols whose delivery_allowed check failed in this run (the run's own refusals)."""
    return {e.asset_key.path[-1] for e in result.get_asset_check_evaluations()
            if e.check_name == "delivery_allowed" and not e.passed}


def test_the_end_says_per_protocol_what_happened_and_each_refusal_once(pipeline):
    registry = load_registry()
    delivered = {e.fields["protocol"] for e in audit.entries(audit.log_path(pipeline.paths))
                 if e.event == "delivery"}
    for result, console in ((pipeline.first, pipeline.console_first),
                            (pipeline.second, pipeline.console_second)):
        refused = _refused(result)
        section = _section(console, "Deliveries (per protocol):")
        named = [line.split()[0] for line in section if not line.startswith("   ")]
        assert sorted(named) == sorted(registry.ids)
        for pid in registry.ids:
            [line] = [x for x in section if x.split() and x.split()[0] == pid]
            assert ("REFUSED:" in line) == (pid in refused), line
        assert console.count("REFUSED") == len(refused)  # once each, nowhere else
    first = _section(pipeline.console_first, "Deliveries (per protocol):")
    assert _refused(pipeline.first), "the sample has an expired protocol: its refusal must show"
    assert any("remedy:" in line for line in first)
    for pid in delivered - _refused(pipeline.first):
        [line] = [x for x in first if x.split() and x.split()[0] == pid]
        assert line.split()[1] == "delivered", line
    # the second run delivers nothing new: every protocol says why
    second = _section(pipeline.console_second, "Deliveries (per protocol):")
    words = {line.split()[1].rstrip(":") for line in second if not line.startswith("   ")}
    assert "delivered" not in words and words & {"unchanged", "no_request"}, second


def test_the_end_says_where_to_look(pipeline):
    end = pipeline.console_first.split("Where to look:")[1]
    assert str(pipeline.paths.outbox) in end and "make ui" in end
    assert "Article-7 findings (per source, overdue first):" in pipeline.console_first
