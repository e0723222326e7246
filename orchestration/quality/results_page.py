"""Our own static page of the article-7 validation results, readable offline.

Why: Great Expectations' Data Docs load their styles and scripts from a CDN, so on a machine
without internet (the restricted zone) they show empty tables. This page is rendered from the
stored, sanitised validation results (``gx/uncommitted/validations/**.json``) with its style
inline and no external reference: per suite its latest run, per expectation the rule, column,
severity, outcome and counts (checked rows, unexpected rows, rate). Counts only: the stored
results hold no values (``gx_runner.sanitize_validation_result``), and this page shows no
observed value that is not a number.

``make quality-docs`` serves the folder on 127.0.0.1, so the ``results_page`` link of every
article-7 check opens from the Dagster UI.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

PAGE_NAME = "results.html"
SERVE_PORT = 8081  # make quality-docs
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
table { border-collapse: collapse; margin-top: .5em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; font-size: .9em; }
th { background: #f0f0f0; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.fail { background: #fde2e2; } .pass { background: #e6f4e6; } .muted { color: #666; }
"""


def page_path(gx_root: Path) -> Path:
    """Where the page of the GX project under ``gx_root`` (the folder holding ``gx/``) goes."""
    return gx_root / "gx" / "uncommitted" / "data_docs" / PAGE_NAME


def url(gx_root: Path, suite: str | None = None) -> str:
    """The page as ``make quality-docs`` serves it (a suite's section with ``suite``)."""
    del gx_root  # one page per project: the served folder is its parent
    return f"http://127.0.0.1:{SERVE_PORT}/{PAGE_NAME}" + (f"#{suite}" if suite else "")


def _latest_results(gx_root: Path) -> dict[str, dict[str, Any]]:
    latest: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in (gx_root / "gx" / "uncommitted" / "validations").rglob("*.json"):
        body = json.loads(path.read_text(encoding="utf-8"))
        suite = body.get("suite_name") or path.relative_to(gx_root).parts[3]
        when = str(body.get("meta", {}).get("validation_time", ""))
        if suite not in latest or when > latest[suite][0]:
            latest[suite] = (when, body)
    return {suite: body for suite, (_, body) in sorted(latest.items())}


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _row(result: dict[str, Any]) -> str:
    config = result.get("expectation_config", {})
    meta, kwargs, counts = config.get("meta", {}), config.get("kwargs", {}), result.get("result", {})
    unexpected = counts.get("unexpected_count", counts.get("observed_value")
                            if config.get("type") == "unexpected_rows_expectation" else None)
    percent = counts.get("unexpected_percent")
    cells = [meta.get("rule") or meta.get("check_name") or config.get("type", ""),
             kwargs.get("column", ""), meta.get("severity", config.get("severity", "")),
             "pass" if result.get("success") else "FAIL"]
    numbers = [_number(counts.get("element_count")), _number(unexpected),
               _number(percent / 100) if isinstance(percent, (int, float)) else ""]
    css = "pass" if result.get("success") else "fail"
    return (f"<tr class='{css}'>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
            + "".join(f"<td class='n'>{n}</td>" for n in numbers) + "</tr>")


def render(gx_root: Path) -> Path:
    """Write the page from the stored results of the project under ``gx_root``; return it."""
    results = _latest_results(gx_root)
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             "<title>Article-7 quality results</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>Article-7 quality results (Great Expectations)</h1>",
             f"<p class='muted'>{len(results)} suite(s), the latest validation of each. Counts "
             "only, never values; the affected rows are named by the check's query in the "
             "Dagster UI.</p>"]
    for suite, body in results.items():
        stats = body.get("statistics", {})
        meta = body.get("meta", {})
        parts += [f"<h2 id='{html.escape(suite)}'>{html.escape(suite)}</h2>",
                  f"<p>{'passed' if body.get('success') else 'FAILED'}: "
                  f"{stats.get('successful_expectations', 0)} of "
                  f"{stats.get('evaluated_expectations', 0)} expectations met; validated "
                  f"{html.escape(str(meta.get('validation_time', '')))}</p>",
                  "<table><tr><th>rule</th><th>column</th><th>severity</th><th>outcome</th>"
                  "<th>checked</th><th>unexpected</th><th>rate</th></tr>",
                  *[_row(r) for r in body.get("results", [])], "</table>"]
    parts.append("</body></html>\n")
    path = page_path(gx_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
