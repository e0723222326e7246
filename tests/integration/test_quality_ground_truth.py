"""Article-7 findings measured against the generator's injected defects.

A defective synthetic set (``--pupils 1000 --seed 5 --defects 0.02``) goes through the main job
with a test master key. The run fails where blocking checks fire (and holds back staging and
deliveries), yet the findings register and the reports are written. Every injected defect kind
(one per rule family of the contract and per contradiction across sources) must be found for
every one of its injected records (recall 100 %); the per-kind table is printed. The clean sample
yields no finding at all (tests/integration/test_quality_on_sample.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from orchestration.foundations import pseudonymisation as pseudo
from orchestration.foundations import settings
from orchestration.main import run_warehouse_job
from orchestration.quality import ground_truth
from orchestration.quality.checks import FINDINGS_KEY, REPORTS_KEY
from orchestration.foundations.sources import SOURCES, identify
from tools.synthetic import defects
from orchestration.foundations.warehouse import connect
from tests.quality import scan

# 1000 pupils: every kind still gets its floor of rows (defects.MIN_ROWS_PER_KIND) in every
# source, at 40 % of the generation and ingestion a larger set costs
PUPILS, SEED, RATE = 1000, 5, 0.02
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class DefectiveRun:
    paths: settings.Paths
    result: dg.ExecuteInProcessResult
    defects_csv: Path
    seconds: float


def copy_to_inbox(source_dir: Path, p: settings.Paths) -> int:
    copied = 0
    for folder in source_dir.iterdir():
        if folder.is_dir() and not folder.name.startswith("_"):
            target = p.inbox_of(folder.name)
            target.mkdir(parents=True, exist_ok=True)
            for f in folder.glob("*.csv"):
                shutil.copy2(f, target / f.name)
                copied += 1
    return copied


@pytest.fixture(scope="module")
def defective(tmp_path_factory) -> DefectiveRun:
    root = tmp_path_factory.mktemp("defective")
    extracts = root / "extracts"
    subprocess.run([sys.executable, "-m", "tools.synthetic", "--pupils", str(PUPILS),
                    "--seed", str(SEED), "--out", str(extracts), "--defects", str(RATE),
                    "--quiet"], check=True, cwd=PROJECT_ROOT, timeout=900)
    data = root / "data"
    data.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.ENV_DATA_DIR, str(data))
        mp.setenv(settings.ENV_MEMORY_LIMIT, "4GB")
        mp.setenv(pseudo.ENV_MASTER_KEY, "test-master-key-for-the-defective-sample-0123456")
        p = settings.paths()
        assert copy_to_inbox(extracts, p) > 0
        started = time.perf_counter()
        result = run_warehouse_job(dg.DagsterInstance.ephemeral(), raise_on_error=False)
        yield DefectiveRun(p, result, extracts / "_ground_truth" / defects.GROUND_TRUTH_FILE,
                           time.perf_counter() - started)


def test_every_injected_defect_kind_is_found_for_every_one_of_its_records(defective, capsys):
    with connect(defective.paths, read_only=True) as con:
        scores, extra = ground_truth.score(con, defective.defects_csv)
    with capsys.disabled():
        print(f"\n[ground truth] {PUPILS} pupils, seed {SEED}, defect rate {RATE}; "
              f"main job {defective.seconds:.0f} s\n" + ground_truth.table(scores, extra))
    injected_kinds = {s.kind for s in scores}
    assert injected_kinds == set(defects.ROW_KINDS) | set(defects.FILE_KINDS)
    assert {s.kind: s.recall for s in scores if s.recall < 1.0} == {}  # 100 % on every kind


def test_blocking_defects_fail_the_run_and_hold_back_staging_and_deliveries(defective):
    result = defective.result
    assert not result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert {FINDINGS_KEY, REPORTS_KEY} <= materialized
    blocked = [k for k in materialized if k.path[0] in ("staging", "marts", "deliveries")]
    assert blocked == []
    failed_blocking = [e for e in result.get_asset_check_evaluations()
                       if not e.passed and e.blocking]
    assert {e.asset_key.path[0] for e in failed_blocking} == {"raw"}
    # write-audit-publish: the steward sees which deliveries are held back, and why
    with connect(defective.paths, read_only=True) as con:
        held = con.execute("select distinct source, reason from quality.delivery_holds"
                           ).fetchall()
    assert ("binc", "blocking_finding") in held and ("discimus", "blocking_finding") in held


def test_each_source_gets_a_report_with_only_its_own_records(defective):
    outbox = defective.paths.outbox / "quality"
    with connect(defective.paths, read_only=True) as con:
        sources = {s for (s,) in con.execute(
            "select distinct source from quality.findings where status <> 'resolved'"
        ).fetchall()}
    assert sources == set(SOURCES)  # the generator damages every source
    for source in sources:
        [folder] = [d for d in (outbox / source).iterdir() if d.is_dir()]
        assert (folder / "summary.md").is_file()
        lines = (folder / "affected_records.csv").read_text(encoding="utf-8").splitlines()
        assert lines[0] == ";".join(("finding_id", "article7_category", "rule", "file", "row",
                                     "own_record_key", "column"))
        for line in lines[1:]:
            file_name = line.split(";")[3]
            found = identify(file_name)
            assert found and found[0].source == source, (source, line)


def test_no_personal_value_in_check_results_data_docs_or_reports(defective):
    p = defective.paths
    names, keys = scan.vault_names(p), scan.warehouse_keys(p)
    insz, own_keys = scan.vault_insz(p), scan.own_key_values(p)
    texts = scan.text_files(p.data / "quality", p.outbox / "quality")
    texts["check results"] = scan.check_results_text(defective.result)
    assert any("validations" in t and t.endswith(".html") for t in texts)
    assert any(t.endswith("affected_records.csv") for t in texts)
    assert scan.personal_values(texts, names, keys, insz, own_keys) == {}
    # the scan does see each kind of personal value
    planted = {"planted": f"{sorted(insz)[0]} {sorted(names)[0]} {sorted(keys)[0]}"}
    assert len(scan.personal_values(planted, names, keys, insz, own_keys)["planted"]) == 3
