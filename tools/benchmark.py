"""Speed and memory of the whole warehouse at a chosen scale: ``python -m tools.benchmark``.

Generates a synthetic population (or reuses one generated earlier with the same size and seed),
drops it in the inbox of a separate data folder, runs the main job over every school year, and
prints wall time, CPU time and peak memory per stage plus the wall time of every Dagster step.
Right after the main job it runs the plain-DuckDB reference of each stage on the same inputs
(``tools.benchmark_reference``) and prints, per stage, the project's time (its Dagster steps),
the reference's time and their ratio: measured back to back in one run, so the ratio means
something on a busy machine where absolute times do not. The machine's load average is printed
beside them. Targets live here, as printed numbers, not in timed unit tests. Flanders has about
1.2 million pupils in primary and secondary education, hence the default.

The run uses a random, throw-away master key (never the development key, which refuses
non-sample files), so its pseudonyms cannot be joined with anything else.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from orchestration.foundations import settings
from orchestration.foundations.pseudonymisation import ENV_MASTER_KEY
from orchestration.foundations.settings import OWNER_FILE

DEFAULT_PUPILS = 1_200_000

# Targets (issue 16), printed beside the measured figures, never asserted.
TARGET_WALL_S_AT_FULL_SCALE = 360
TARGET_PEAK_RSS_GB = 6.0
TARGET_RATIO = 1.5
# Issue 12: the article-7 quality step stays within this share of the full build.
TARGET_QUALITY_SHARE = 0.15
# Issue 16: a rerun with no new files, and one new zorgthuis list through to its delivery.
TARGET_RERUN_S = 60
TARGET_NEW_LIST_S = 60

# The project's stages, as the Dagster step keys that make them up (prefix of the step key), and
# the reference stage each is compared with.
PROJECT_STAGES = {
    "ingestion": ("ingest_",),
    "models": ("school_year_dbt_models", "plain_dbt_models"),
    "deliveries": ("delivery__", "delivery_"),
}
# The article-7 quality step: the GX validations of raw and linkage, the findings register and
# the reports to the sources (the two check nodes of the quality slice).
QUALITY_STEPS = ("article7_raw_quality", "article7_linkage_quality")


@dataclass
class Stage:
    name: str
    wall_s: float
    cpu_s: float
    peak_rss_gb: float
    exit_code: int


def throwaway_key(root: Path, reuse: bool) -> str:
    """A random master key for this benchmark's warehouse only (kept beside it, owner-only, so
    a rerun on the same warehouse uses the same key)."""
    path = root / "throwaway_master_key"
    if not (reuse and path.exists()):
        path.unlink(missing_ok=True)
        # created with its mode: never readable by others, not even for a moment
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_FILE)
        with os.fdopen(fd, "w") as f:
            f.write("benchmark-throwaway-" + secrets.token_hex(32))
    return path.read_text()


def run_stage(name: str, argv: list[str], env: dict[str, str], log_path: Path) -> Stage:
    """Run one stage as a child process; ``wait4`` gives its CPU time and the peak resident
    memory of it and every process it waited for (dbt runs as a grandchild)."""
    print(f"[{time.strftime('%H:%M:%S')}] {name}: {' '.join(argv[1:])}  (log: {log_path})",
          flush=True)
    start = time.perf_counter()
    with log_path.open("wb") as log:
        child = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    stage = Stage(name, round(time.perf_counter() - start, 1),
                  round(usage.ru_utime + usage.ru_stime, 1),
                  round(usage.ru_maxrss / 1024 ** 2, 2), child.returncode)
    if stage.exit_code:
        print(f"{name} failed with exit code {stage.exit_code}: see {log_path}", file=sys.stderr)
    return stage


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def project_stage_seconds(steps: list[tuple[str, float]]) -> dict[str, float]:
    """The project's time per stage: the wall time of its Dagster steps, added up."""
    return {stage: round(sum(s for key, s in steps if key.startswith(prefixes)), 1)
            for stage, prefixes in PROJECT_STAGES.items()}


def quality_step_seconds(steps: list[tuple[str, float]]) -> float:
    """The article-7 quality step's wall time: its Dagster steps, added up (issue 12's share)."""
    return round(sum(s for key, s in steps if key.startswith(QUALITY_STEPS)), 1)


def run_references(root: Path, source: Path, data: Path, run_id: str, env: dict[str, str],
                   memory_limit: str) -> dict[str, Stage]:
    """The plain-DuckDB reference of every stage, each a process of its own."""
    work = root / "reference"
    shutil.rmtree(work, ignore_errors=True)
    base = [sys.executable, "-m", "tools.benchmark_reference"]
    common = ["--work", str(work), "--memory-limit", memory_limit]
    argv = {
        "ingestion": base + ["ingestion", "--source", str(source)] + common,
        "models": base + ["models", "--warehouse", str(data / "warehouse" / "warehouse.duckdb"),
                          "--dbt-target", str(settings.PROJECT_ROOT / "dbt_project" / "target"),
                          "--run-id", run_id] + common,
        "deliveries": base + ["deliveries"] + common,
    }
    return {stage: run_stage(f"reference {stage}", args, env, root / f"reference_{stage}.log")
            for stage, args in argv.items()}


def reference_seconds(root: Path, stage: str, process: Stage | None) -> float | None:
    """The reference stage's own work (without interpreter start or its set-up copy of the
    warehouse), as the reference recorded it; else its process's wall time."""
    if process is None or process.exit_code:
        return None
    recorded = root / "reference" / f"{stage}_seconds.json"
    if recorded.exists():
        return json.loads(recorded.read_text())["seconds"]
    return process.wall_s


def ratio_table(root: Path, project: dict[str, float], reference: dict[str, Stage]
                ) -> list[dict]:
    rows = []
    for stage, seconds in project.items():
        ref = reference_seconds(root, stage, reference.get(stage))
        ratio = round(seconds / ref, 2) if ref else None
        rows.append({"stage": stage, "project_s": seconds, "reference_s": ref,
                     "ratio": ratio})
    return rows


def generate(root: Path, pupils: int, seed: int, env: dict[str, str]) -> Stage | None:
    """The population, generated once per (pupils, seed) and reused by later benchmarks."""
    source = root / f"source_{pupils}_{seed}"
    if (source / "_ground_truth" / "summary.json").exists():
        print(f"reusing the population in {source}")
        return None
    shutil.rmtree(source, ignore_errors=True)
    return run_stage("generate", [sys.executable, "-m", "tools.synthetic", "--pupils",
                                  str(pupils), "--seed", str(seed), "--out", str(source),
                                  "--quiet"], env, root / "generate.log")


def fill_inbox(source: Path, data: Path) -> int:
    """A fresh data folder whose inbox holds the population's extracts (hard links: no copy)."""
    shutil.rmtree(data, ignore_errors=True)
    count = 0
    for src in sorted(source.glob("*/*.csv")):
        if src.parent.name.startswith("_"):
            continue
        target = data / "inbox" / src.parent.name / src.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(src, target)
        count += 1
    return count


def latest_run_id(dagster_home: Path) -> str:
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(dagster_home)
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(limit=1)
    return runs[0].run_id if runs else ""


def step_timings(dagster_home: Path) -> list[tuple[str, float]]:
    """Wall time of every step of the latest run on the benchmark's Dagster instance."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(dagster_home)
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return []
        stats = instance.get_run_step_stats(runs[0].run_id)
    return sorted(((s.step_key, round((s.end_time or s.start_time) - s.start_time, 1))
                   for s in stats if s.start_time), key=lambda t: -t[1])


def linkage_timing(dagster_home: Path) -> dict:
    """The DUO linkage of the latest run: seconds per reference date (from the asset's
    metadata, counts only) and in total, so the one-minute target at scale is visible."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(dagster_home)
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(limit=1)
        event = instance.get_latest_materialization_event(dg.AssetKey(["linkage", "duo_links"]))
    # a rerun that linked nothing shows no linkage, not the previous run's
    if event is None or event.asset_materialization is None or not runs \
            or event.run_id != runs[0].run_id:
        return {}
    per_date = event.asset_materialization.metadata.get("per_reference_date_json")
    dates = per_date.value if per_date is not None else []
    return {"reference_dates": len(dates),
            "seconds": round(sum(d["seconds"] for d in dates), 1),
            "slowest_date_seconds": round(max((d["seconds"] for d in dates), default=0.0), 1),
            "duo_records": sum(d["duo_records"] for d in dates),
            "largest_extract": max((d["rijksregister_children"] for d in dates), default=0)}


def warehouse_counts(data: Path) -> dict[str, int]:
    import duckdb

    counts = {}
    with duckdb.connect(str(data / "warehouse" / "warehouse.duckdb"), read_only=True) as con:
        for table in ("ingest.files", "marts.pupil_year", "marts.school_year",
                      "marts.pupil_year_counting_date", "marts.compulsory_education_status"):
            try:
                counts[table] = con.execute(f"select count(*) from {table}").fetchone()[0]
            except duckdb.Error:
                counts[table] = -1
        counts["raw rows loaded"] = con.execute(
            "select coalesce(sum(loaded_rows), 0) from ingest.files").fetchone()[0]
    return counts


def last_json_line(log_path: Path) -> dict:
    """What a ``tools.benchmark_flow`` command printed last (one JSON object)."""
    for line in reversed(log_path.read_text(errors="replace").splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return {}


def new_list_flow(root: Path, source: Path, env: dict[str, str], pupils: int,
                  whole_job: bool = False) -> int:
    """One new zorgthuis list through to its delivery on the warehouse the last benchmark
    built (``tools.benchmark_flow``): the corrected list into the inbox, the ingestion run
    the inbox sensor starts, the delivery run the schedule starts; each timed on its own."""
    data, home = root / "data", root / "dagster_home"
    if not (data / "warehouse" / "warehouse.duckdb").exists():
        print(f"no warehouse in {data}: run the benchmark first (same --dir)", file=sys.stderr)
        return 2
    from tools.benchmark_flow import SOURCE

    flow = [sys.executable, "-m", "tools.benchmark_flow"]
    counter = root / "new_lists_made"  # each call another correction: new bytes, new SHA-256
    variant = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(variant))
    made = run_stage("new list", flow + ["make-list", "--inbox", str(data / "inbox" / SOURCE),
                                         "--population", str(source / SOURCE),
                                         "--variant", str(variant)],
                     env, root / "new_list.log")
    if made.exit_code:
        return made.exit_code
    new_list = last_json_line(root / "new_list.log")
    load_before = load_average()
    ingest = run_stage("ingest (sensor's run)", flow + ["ingest", "--file", new_list["file"]],
                       env, root / "new_list_ingest.log")
    ingest_steps = step_timings(home)
    deliver = run_stage("deliver (schedule's run)",
                        flow + ["deliver"] + (["--whole-job"] if whole_job else []), env,
                        root / "new_list_deliver.log")
    deliver_steps = step_timings(home)
    outcome = last_json_line(root / "new_list_deliver.log")
    total = round(ingest.wall_s + deliver.wall_s, 1)
    scale = DEFAULT_PUPILS / pupils
    print(f"\none new zorgthuis list ({new_list['file']}: {new_list['rows']:,} rows, "
          f"{new_list['dropped']} dropped, {new_list['added']} added) at {pupils:,} pupils")
    print(f"{'process':<28}{'wall s':>10}{'cpu s':>10}{'peak RSS GB':>13}{'exit':>6}")
    for s in (ingest, deliver):
        print(f"{s.name:<28}{s.wall_s:>10}{s.cpu_s:>10}{s.peak_rss_gb:>13}{s.exit_code:>6}")
    print(f"through to its delivery: {total} s (target <= {TARGET_NEW_LIST_S} s at "
          f"{DEFAULT_PUPILS:,} pupils; x{scale:.1f} linear = {total * scale:.0f} s); load "
          f"average before {load_before}, after {load_average()}")
    print(f"delivery: {outcome.get('status')} {outcome.get('delivery_id') or ''} "
          f"({outcome.get('rows_total') or 0} rows) {outcome.get('folder') or ''}; rebuilt: "
          f"{outcome.get('assets_selected')} asset(s), file types changed since the last main "
          f"job: {outcome.get('changed_file_types')}")
    for title, steps in (("ingestion run", ingest_steps), ("delivery run", deliver_steps)):
        print(f"\n{'Dagster step of the ' + title + ' (slowest first)':<60}{'wall s':>10}")
        for key, seconds in steps:
            print(f"{key[:59]:<60}{seconds:>10}")
    (root / "benchmark_new_list.json").write_text(json.dumps(
        {"pupils": pupils, "list": new_list, "stages": [asdict(ingest), asdict(deliver)],
         "seconds_through_delivery": total, "delivery": outcome,
         "steps": {"ingest": ingest_steps, "deliver": deliver_steps},
         "load_average": {"before": load_before, "after": load_average()}}, indent=2))
    return max(ingest.exit_code, deliver.exit_code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmark",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=DEFAULT_PUPILS)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=settings.PROJECT_ROOT / "data" / "benchmark",
                        help="working folder (git-ignored under data/); populations are kept")
    parser.add_argument("--memory-limit", default=settings.DEFAULT_MEMORY_LIMIT,
                        help="DuckDB memory limit")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the plain-DuckDB reference (no ratios)")
    parser.add_argument("--rerun", action="store_true",
                        help="keep the previous benchmark's warehouse and inbox: measures a "
                             "second run (files already ingested are skipped by SHA-256)")
    parser.add_argument("--whole-delivery-job", action="store_true",
                        help="with --new-zorgthuis-list: the delivery run rebuilds everything "
                             "its job selects (the behaviour before it selected what changed)")
    parser.add_argument("--new-zorgthuis-list", action="store_true",
                        help="on the previous benchmark's warehouse (same --dir, --pupils, "
                             "--seed): one corrected zorgthuis list into the inbox, then the "
                             "ingestion run its sensor starts and the delivery run its schedule "
                             "starts, timed through to the delivered package")
    args = parser.parse_args(argv)

    root = args.dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    data, home = root / "data", root / "dagster_home"
    env = {**os.environ, settings.ENV_DATA_DIR: str(data), "DAGSTER_HOME": str(home),
           settings.ENV_MEMORY_LIMIT: args.memory_limit,
           ENV_MASTER_KEY: throwaway_key(root, reuse=args.rerun or args.new_zorgthuis_list)}
    env.pop("PROTOCOL_WAREHOUSE_ALLOW_DEVELOPMENT_KEY", None)

    source = root / f"source_{args.pupils}_{args.seed}"
    if args.new_zorgthuis_list:
        return new_list_flow(root, source, env, args.pupils, args.whole_delivery_job)
    stages = [s for s in [generate(root, args.pupils, args.seed, env)] if s]
    files = (len([f for f in source.glob("*/*.csv") if not f.parent.name.startswith("_")])
             if args.rerun else fill_inbox(source, data))
    if not args.rerun:
        shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(settings.PROJECT_ROOT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    load_before = load_average()
    stages.append(run_stage("main job", [sys.executable, "-m", "orchestration.main",
                                         "--no-sample"], env, root / "main_job.log"))
    load_after_main = load_average()
    references = ({} if args.no_reference or stages[-1].exit_code else
                  run_references(root, source, data, latest_run_id(home), env,
                                 args.memory_limit))
    load_after = load_average()

    print(f"\n{args.pupils:,} pupils, seed {args.seed}, {files} source files, "
          f"DuckDB memory limit {args.memory_limit}, {os.cpu_count()} cores\n")
    print(f"{'process':<24}{'wall s':>10}{'cpu s':>10}{'peak RSS GB':>13}{'exit':>6}")
    for s in [*stages, *references.values()]:
        print(f"{s.name:<24}{s.wall_s:>10}{s.cpu_s:>10}{s.peak_rss_gb:>13}{s.exit_code:>6}")
    print(f"\nload average (1, 5, 15 min): before {load_before}, after the main job "
          f"{load_after_main}, after the references {load_after}")
    main_job = next(s for s in stages if s.name == "main job")
    scale = DEFAULT_PUPILS / args.pupils
    if args.rerun:
        print(f"target: a rerun with no new files <= {TARGET_RERUN_S} s at {DEFAULT_PUPILS:,} "
              f"pupils (here {main_job.wall_s} s; peak RSS {main_job.peak_rss_gb} GB; what it "
              f"decided is in {root / 'main_job.log'})")
    else:
        print(f"targets: full build <= {TARGET_WALL_S_AT_FULL_SCALE} s at {DEFAULT_PUPILS:,} "
              f"pupils (here {main_job.wall_s} s; x{scale:.1f} linear = "
              f"{main_job.wall_s * scale:.0f} s); peak RSS <= {TARGET_PEAK_RSS_GB} GB (here "
              f"{main_job.peak_rss_gb} GB); each stage <= {TARGET_RATIO}x its reference")
    steps = step_timings(home)
    ratios = ratio_table(root, project_stage_seconds(steps), references)
    print(f"\n{'stage':<12}{'project s':>11}{'reference s':>13}{'ratio':>8}  target")
    for r in ratios:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        verdict = "" if r["ratio"] is None else ("ok" if r["ratio"] <= TARGET_RATIO else "over")
        print(f"{r['stage']:<12}{r['project_s']:>11}{str(r['reference_s'] or '-'):>13}"
              f"{ratio:>8}  <= {TARGET_RATIO}x {verdict}")
    print(f"\n{'Dagster step (slowest first)':<60}{'wall s':>10}")
    for key, seconds in steps:
        print(f"{key[:59]:<60}{seconds:>10}")
    quality_s = quality_step_seconds(steps)
    share = quality_s / main_job.wall_s if main_job.wall_s else 0.0
    print(f"\narticle-7 quality step: {quality_s} s = {share:.1%} of the main job's "
          f"{main_job.wall_s} s (target: <= {TARGET_QUALITY_SHARE:.0%})")
    linkage = linkage_timing(home)
    if linkage:
        print(f"\nDUO linkage: {linkage['seconds']} s for {linkage['reference_dates']} reference "
              f"dates ({linkage['duo_records']:,} DUO records; Rijksregister extracts up to "
              f"{linkage['largest_extract']:,} children; slowest date "
              f"{linkage['slowest_date_seconds']} s; target: under 60 s)")
    counts = warehouse_counts(data) if (data / "warehouse" / "warehouse.duckdb").exists() else {}
    print()
    for table, n in counts.items():
        print(f"{table:<40}{n:>14,}")
    (root / "benchmark.json").write_text(json.dumps(
        {"pupils": args.pupils, "seed": args.seed, "memory_limit": args.memory_limit,
         "stages": [asdict(s) for s in stages], "steps": steps, "linkage": linkage,
         "quality": {"seconds": quality_s, "share_of_main_job": round(share, 4)},
         "references": {k: asdict(v) for k, v in references.items()}, "ratios": ratios,
         "load_average": {"before": load_before, "after_main_job": load_after_main,
                          "after_references": load_after},
         "counts": counts}, indent=2))
    return max((s.exit_code for s in [*stages, *references.values()]), default=0)


if __name__ == "__main__":
    sys.exit(main())
