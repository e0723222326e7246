"""Dagster wiring of article-7 quality: GX suites as asset checks, the findings register, reports.

Objects (export lists at the bottom; ``orchestration/definitions.py`` adds them):

- ``article7_raw_quality`` (multi-asset check, pool ``duckdb``): runs the GX suite
  ``raw_<file_type>`` of every source file type as the asset checks of ``raw/<file_type>`` (one
  check per rule, named after it; blocking where the rule blocks), builds the GX Data Docs, then
  brings the findings register up to date and writes the reports to the sources. It reports the
  materializations of ``quality/article7_findings`` and ``quality/article7_reports`` and one more
  check per raw asset, ``article7_findings_within_deadline`` (WARN while a finding is overdue).

  Why one check node and not a findings *asset*: a failing blocking check on ``raw/X`` holds
  back every step downstream of ``raw/X`` in the run, so an asset depending on the raw tables
  would be skipped exactly when there is most to report. Dagster exempts a node from the blocking
  checks on the assets it checks itself, so this node always runs once ingestion is done, and
  the register and reports are written in every run, also when the run then fails (the blocking
  checks fail the step at its end, after everything is written). dbt staging and Python assets
  downstream of a raw asset with a failed blocking check do not run.
- ``article7_linkage_quality``: DUO records the linkage could not match, as a check of
  ``linkage/duo_review``; it also refreshes that rule's findings and DUO's report (the linkage
  runs after the register node).
- ``quality/article7_findings`` and ``quality/article7_reports``: asset specs for the register
  table and the outbox reports (materialized by ``article7_raw_quality``).

Check results hold counts, rates, the rule, its category and severity, the SQL that finds the
affected rows (no values) and a link to the Data Docs; never a row value.
"""


import datetime as dt
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from orchestration.foundations import settings
from orchestration.quality import register, replies, reports, suites
from orchestration.quality.rules import linkage_rules, raw_rules
from orchestration.quality.suites import Expectation
from orchestration.foundations.sources import SOURCE_FILES
from orchestration.foundations.warehouse import POOL, connect
from orchestration.platform.asset_keys import DUO_REVIEW_KEY as LINKAGE_KEY
from orchestration.platform.asset_keys import raw_asset_key

if TYPE_CHECKING:  # GX is imported when a check runs, not when definitions load
    from orchestration.quality import gx_runner

FINDINGS_KEY = dg.AssetKey(["quality", "article7_findings"])
REPORTS_KEY = dg.AssetKey(["quality", "article7_reports"])
DEADLINE_CHECK = "article7_findings_within_deadline"
RAW_KEY_COLUMN = "_source_row"


def _severity(e: Expectation) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if e.severity == "critical" else dg.AssetCheckSeverity.WARN


def _spec(e: Expectation, asset_key: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        e.check_name, asset=asset_key, blocking=e.blocking and e.severity == "critical",
        description=f"[{e.category}, {e.severity}{', blocking' if e.blocking else ''}] "
                    f"{e.title}. {e.description}",
        metadata={"article7_category": e.category, "severity": e.severity,
                  "blocking": e.blocking, "gx_suite": e.suite, "rule": e.meta()["rule"],
                  "protocols": ", ".join(e.meta()["protocols"]) or "none",
                  "compared_with": ", ".join(e.meta()["compared_with"]) or "none"})


# ------------------------------------------------------------------------------ validation


def _validate(p: settings.Paths, root: Path,
              items: Sequence[tuple[str, str, "str | Sequence[str]"]]) -> dict:
    """Validate (suite, table, key) items with one GX context; {suite: TableValidation, or None
    when the table does not exist yet (nothing to check)}."""
    from orchestration.quality import gx_runner

    with connect(p) as con:
        tables = register.existing_tables(con)
    present = [item for item in items if item[1] in tables]
    results = gx_runner.validate_tables(project_root=root, warehouse_path=p.warehouse,
                                        items=present, duckdb_config=settings.duckdb_config(p)
                                        ) if present else []
    out: dict = {suite: None for suite, _, _ in items}
    out.update({item[0]: v for item, v in zip(present, results)})
    return out


def _row_counts(p: settings.Paths) -> dict[str, tuple[int, int]]:
    """{file type: (rows received in its current files, current files)} for the rates."""
    with connect(p) as con:
        if not register.table_exists(con, "quality.current_files"):
            return {}
        return {ft: (int(r or 0), int(n)) for ft, r, n in con.execute(
            "select file_type, sum(received_rows), count(*) from quality.current_files "
            "group by all").fetchall()}


def _docs(p: settings.Paths, root: Path, keep_runs: set[str]) -> Path | None:
    """Keep only this run's validation results of the suites just run, rebuild the Data Docs,
    and render the offline results page (``results_page``), which the checks link to: GX's own
    Data Docs load their styles from a CDN and show empty tables without internet."""
    import logging

    from orchestration.quality import gx_runner, results_page

    try:
        prune_results(root, keep_runs)
        gx_runner.build_data_docs(root)
    except Exception as exc:  # noqa: BLE001 - docs are a view; a failure must not hide results
        logging.getLogger(__name__).warning("GX Data Docs not built: %s",
                                            gx_runner.scrub_text(str(exc))[:300])
    try:
        return results_page.render(root)
    except Exception as exc:  # noqa: BLE001 - as above
        logging.getLogger(__name__).warning("results page not rendered: %s",
                                            gx_runner.scrub_text(str(exc))[:300])
        return None


def prune_results(root: Path, keep_runs: set[str]) -> None:
    """Delete stored validation results of the validated suites from earlier runs, and their
    rendered pages, so Data Docs show the latest result per suite and do not grow per run."""
    validations = root / "gx" / "uncommitted" / "validations"
    site = root / "gx" / "uncommitted" / "data_docs" / "local_site" / "validations"
    suites_run = {run.split("|", 1)[0] for run in keep_runs}
    runs = {run.split("|", 1)[1] for run in keep_runs}
    for base in (validations, site):
        for suite in suites_run:
            folder = base / suite
            if not folder.is_dir():
                continue
            for run_dir in folder.iterdir():
                if run_dir.is_dir() and run_dir.name not in runs:
                    _rmtree(run_dir)


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _result_metadata(e: Expectation, outcome: "gx_runner.ExpectationOutcome | None",
                     denominator: int, unit: str, docs: Path | None, run_name: str
                     ) -> dict[str, dg.MetadataValue]:
    count = (outcome.unexpected_count or 0) if outcome else 0
    meta: dict[str, dg.MetadataValue] = {
        "unexpected_count": dg.MetadataValue.int(int(count)),
        "unit": dg.MetadataValue.text(unit),
        "article7_category": dg.MetadataValue.text(e.category),
        "severity": dg.MetadataValue.text(e.severity),
        "blocking": dg.MetadataValue.bool(e.blocking),
        "rule": dg.MetadataValue.text(e.meta()["rule"]),
        "protocols": dg.MetadataValue.text(", ".join(e.meta()["protocols"]) or "none"),
        "gx_suite": dg.MetadataValue.text(e.suite),
        "gx_run": dg.MetadataValue.text(run_name),
    }
    if denominator:
        meta["checked"] = dg.MetadataValue.int(denominator)
        meta["unexpected_rate"] = dg.MetadataValue.float(round(count / denominator, 6))
    if outcome and outcome.element_count is not None:
        meta["element_count"] = dg.MetadataValue.int(int(outcome.element_count))
    if outcome and outcome.unexpected_percent is not None:
        meta["unexpected_rate"] = dg.MetadataValue.float(
            round(float(outcome.unexpected_percent) / 100, 6))
    query = (outcome.unexpected_index_query if outcome and outcome.unexpected_index_query
             else e.rule.sql_for() if e.rule else None)
    if query:
        meta["query_affected_rows"] = dg.MetadataValue.md(f"```sql\n{query.strip()}\n```")
    if docs:
        from orchestration.quality import results_page

        meta["data_docs"] = dg.MetadataValue.path(str(docs))
        meta["data_docs_url"] = dg.MetadataValue.url(results_page.url(docs, e.suite))
    return meta


def _results(expectations: Sequence[Expectation], asset_key: dg.AssetKey,
             validation: "gx_runner.TableValidation | None", denominators: dict[str, int],
             docs: Path | None) -> Iterator[dg.AssetCheckResult]:
    """One check result per expectation; ``denominators`` by unit (records, files, ...) give
    the rate."""
    by_name = {}
    if validation is not None:
        by_name = {o.meta.get("check_name"): o for o in validation.expectations}
    for e in expectations:
        outcome = by_name.get(e.check_name)
        if validation is not None and outcome is None:
            raise RuntimeError(f"GX suite {e.suite} returned no result for {e.check_name}: the "
                               f"committed suite is out of date (python -m "
                               f"orchestration.quality.suites)")
        unit = e.rule.unit if e.rule else "records"
        metadata = _result_metadata(e, outcome, denominators.get(unit, 0), unit, docs,
                                    validation.run_name if validation else "")
        if validation is None:
            metadata["note"] = dg.MetadataValue.text("table not built yet: nothing to check")
        yield dg.AssetCheckResult(
            asset_key=asset_key, check_name=e.check_name,
            passed=outcome.success if outcome else True, severity=_severity(e),
            metadata=metadata,
            description=f"{e.title}: {int(outcome.unexpected_count or 0) if outcome else 0} "
                        f"{unit}")


# ------------------------------------------------------------------------------ raw checks


def _raw_specs() -> list[dg.AssetCheckSpec]:
    specs = []
    for spec in SOURCE_FILES:
        key = raw_asset_key(spec.file_type)
        specs += [_spec(e, key) for e in suites.raw_expectations(spec.file_type)]
        specs.append(dg.AssetCheckSpec(
            DEADLINE_CHECK, asset=key,
            description="No article-7 finding on this file type is past its protocol deadline "
                        "(the findings register, quality.findings).",
            metadata={"register": "quality.findings"}))
    return specs


@dg.multi_asset_check(
    name="article7_raw_quality",
    specs=_raw_specs(),
    pool=POOL,
    description="Article-7 rules (GX suites raw_<file_type>) on every raw table; then the "
                "findings register (quality.findings) and the reports to the sources "
                "(data/outbox/quality/<source>/<date>/).",
)
def article7_raw_quality(context: dg.AssetCheckExecutionContext) -> Iterator:
    p = settings.paths()
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with connect(p) as con:
        register.ensure_schema(con)  # incl. the quality.current_files snapshot the rules read
    root = suites.runtime_context(p)
    by_suite = _validate(p, root, [(suites.raw_suite_name(spec.file_type),
                                    f"raw.{spec.file_type}", RAW_KEY_COLUMN)
                                   for spec in SOURCE_FILES])
    validations = {spec.file_type: by_suite[suites.raw_suite_name(spec.file_type)]
                   for spec in SOURCE_FILES}
    gx_seconds = time.perf_counter() - started
    docs = _docs(p, root, {f"{v.suite_name}|{v.run_name}" for v in validations.values() if v})
    sizes = _row_counts(p)
    for spec in SOURCE_FILES:
        expectations = suites.raw_expectations(spec.file_type)
        rows, files = sizes.get(spec.file_type, (0, 0))
        yield from _results(expectations, raw_asset_key(spec.file_type),
                            validations[spec.file_type], {"records": rows, "files": files}, docs)

    counts = {e.rule.key: int(o.unexpected_count or 0)
              for ft, v in validations.items() if v is not None
              for e, o in _pairs(suites.raw_expectations(ft), v)}
    today = dt.date.today()
    with connect(p) as con:
        answered = replies.admit_all(con, p, today)  # the sources' replies to earlier reports
        refreshed = register.refresh(con, raw_rules(), today=today, counts=counts)
        written = reports.write_all(con, p, today)
        status = _status_by_file_type(con)
        totals = register.summary(con)
        register.record_history(con)
        trend = register.over_time(con)
        per_source = register.by_source(con, since=started_at)
        held = con.execute("select protocol_id, source, reason, detail from "
                           "quality.delivery_holds order by all").fetchall()
    seconds = time.perf_counter() - started
    context.log.info(f"article-7 quality: {refreshed.rules_evaluated} rules, "
                     f"{refreshed.findings_current} current findings ({refreshed.findings_new} new,"
                     f" {refreshed.findings_resolved} resolved), {refreshed.records} records; "
                     f"GX {gx_seconds:.1f} s, total {seconds:.1f} s")
    for r in answered:
        (context.log.info if r.status == replies.ACCEPTED else context.log.warning)(
            f"article-7 reply {r.message()}")
    yield dg.AssetMaterialization(asset_key=FINDINGS_KEY, metadata={
        "open": dg.MetadataValue.int(totals["open"]),
        "overdue": dg.MetadataValue.int(totals["overdue"]),
        "resolved": dg.MetadataValue.int(totals["resolved"]),
        "current_findings": dg.MetadataValue.int(refreshed.findings_current),
        "new_findings": dg.MetadataValue.int(refreshed.findings_new),
        "resolved_now": dg.MetadataValue.int(refreshed.findings_resolved),
        "affected_records": dg.MetadataValue.int(refreshed.records),
        "rules_evaluated": dg.MetadataValue.int(refreshed.rules_evaluated),
        "by_file_type": dg.MetadataValue.md(_status_table(status)),
        "table": dg.MetadataValue.text("quality.findings, quality.finding_records, "
                                       "quality.finding_deliveries, quality.delivery_holds"),
        "deliveries_held": dg.MetadataValue.int(len({h[0] for h in held})),
        "delivery_holds": dg.MetadataValue.md(
            "| protocol | source | reason | detail |\n|---|---|---|---|\n"
            + "".join(f"| {a} | {b} | {c} | {d} |\n" for a, b, c, d in held)
            if held else "no delivery held back"),
        # per source, as ints: the UI plots each over the materialisations (runs)
        **{f"{kind}__{source}": dg.MetadataValue.int(n[kind])
           for source, n in per_source.items() for kind in ("overdue", "open", "new")},
        "over_time": dg.MetadataValue.md(over_time_table(trend)),
        "replies_admitted": dg.MetadataValue.int(len(answered)),
        **({"replies": dg.MetadataValue.md("\n".join(f"- {r.message()}" for r in answered))}
           if answered else {}),
        "seconds": dg.MetadataValue.float(round(seconds, 2)),
        **({"data_docs": dg.MetadataValue.path(str(docs))} if docs else {}),
    })
    sent = {s: f for s, f in written.items() if f}
    yield dg.AssetMaterialization(asset_key=REPORTS_KEY, metadata={
        "sources_with_findings": dg.MetadataValue.int(len(sent)),
        "reports": dg.MetadataValue.md(
            "\n".join(f"- {s}: `{f}`" for s, f in sorted(sent.items())) or "nothing to report"),
        "outbox": dg.MetadataValue.path(str(reports.outbox(p))),
    })
    for spec in SOURCE_FILES:
        s = status.get(spec.file_type, {})
        overdue = s.get("overdue", 0)
        report = written.get(spec.source)
        yield dg.AssetCheckResult(
            asset_key=raw_asset_key(spec.file_type), check_name=DEADLINE_CHECK,
            passed=overdue == 0, severity=dg.AssetCheckSeverity.WARN,
            metadata={"open": dg.MetadataValue.int(s.get("open", 0)),
                      "overdue": dg.MetadataValue.int(overdue),
                      "resolved": dg.MetadataValue.int(s.get("resolved", 0)),
                      **({"report": dg.MetadataValue.path(str(report))} if report else {})},
            description=f"{overdue} finding(s) past the deadline")


def _pairs(expectations: Sequence[Expectation], validation: "gx_runner.TableValidation"):
    by_name = {o.meta.get("check_name"): o for o in validation.expectations}
    for e in expectations:
        if e.check_name in by_name:
            yield e, by_name[e.check_name]


def _status_by_file_type(con) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for ft, st, n in con.execute("select file_type, status, count(*) from quality.findings "
                                 "group by all").fetchall():
        out.setdefault(ft, {})[st] = int(n)
    return out


def over_time_table(trend: list[dict]) -> str:
    """Findings per source and rule over the last runs, overdue first (``register.over_time``)."""
    if not trend:
        return "no unresolved finding in the last runs"
    rows = "".join(
        f"| {t['source']} | {t['rule_id']} | {t['overdue']} | {t['open']} | "
        f"{t['next_deadline'] or ''} | {' → '.join(str(n) for n in t['trend'])} |\n"
        for t in trend)
    return ("| source | rule | overdue | open | next deadline | unresolved per run (oldest → "
            "now) |\n|---|---|---|---|---|---|\n" + rows)


def _status_table(status: dict[str, dict[str, int]]) -> str:
    if not status:
        return "no findings"
    rows = "".join(f"| {ft} | {s.get('open', 0)} | {s.get('overdue', 0)} | "
                   f"{s.get('resolved', 0)} |\n" for ft, s in sorted(status.items()))
    return "| file type | open | overdue | resolved |\n|---|---|---|---|\n" + rows


# ------------------------------------------------------------------------------ linkage check


@dg.multi_asset_check(
    name="article7_linkage_quality",
    specs=[_spec(e, LINKAGE_KEY) for e in suites.linkage_expectations()],
    pool=POOL,
    description="DUO records the linkage could not match to the Rijksregister (GX suite "
                "linkage_duo_registrations); refreshes those findings and DUO's report.",
)
def article7_linkage_quality(context: dg.AssetCheckExecutionContext) -> Iterator:
    p = settings.paths()
    with connect(p) as con:
        register.ensure_schema(con)
    root = suites.runtime_context(p)
    v = _validate(p, root, [(suites.LINKAGE_SUITE, "linkage.duo_review", ["record_key"])]
                  )[suites.LINKAGE_SUITE]
    docs = _docs(p, root, {f"{v.suite_name}|{v.run_name}"} if v else set())
    expectations = suites.linkage_expectations()
    with connect(p) as con:
        duo_rows = con.execute("select count(*) from raw.duo_registrations").fetchone()[0] \
            if register.table_exists(con, "raw.duo_registrations") else 0
    yield from _results(expectations, LINKAGE_KEY, v, {"records": duo_rows}, docs)
    if v is not None:
        counts = {e.rule.key: int(o.unexpected_count or 0) for e, o in _pairs(expectations, v)}
        today = dt.date.today()
        with connect(p) as con:
            register.refresh(con, linkage_rules(), today=today, counts=counts)
            reports.write_all(con, p, today, sources=["duo"])


# ------------------------------------------------------------------------------ exports


quality_assets = [
    dg.AssetSpec(
        FINDINGS_KEY,
        deps=[raw_asset_key(spec.file_type) for spec in SOURCE_FILES],
        group_name="quality",
        kinds={"duckdb"},
        description="The article-7 findings register (quality.findings: one row per rule, file "
                    "slot and protocol, with category, affected records, first/last seen, "
                    "deadline and status; quality.finding_records; quality.finding_deliveries)."
                    " Written by the check node article7_raw_quality in every run, also when a "
                    "blocking check fails.",
    ),
    dg.AssetSpec(
        REPORTS_KEY,
        deps=[FINDINGS_KEY],
        group_name="quality",
        kinds={"file"},
        description="Reports to each source in data/outbox/quality/<source>/<date>/ (summary.md "
                    "and affected_records.csv with the source's own record references) and the "
                    "yearly quality summary of each protocol with a follow-up meeting. Written "
                    "by article7_raw_quality.",
    ),
]

quality_checks = [article7_raw_quality, article7_linkage_quality]
