"""Reports to the sources (article 7) and the yearly quality summary for Antwerp.

Per source with unresolved findings, a folder ``<outbox>/quality/<source>/<date>/`` ready to send:

- ``summary.md``: to whom (the source owner and the protocol's responder), under which protocol,
  the deadlines, one line per finding (category, rule, file, number of affected records, dates,
  status) and what each rule means;
- ``affected_records.csv`` (``;``-separated, like the sources' own files): one line per affected
  record, identified by **the source's own references only**: its file name, its data row number
  (1 = the first line after the header; 0 = the whole file) and, where the file has one, its own
  plain record key (``Inschrijving_id=...``, ``Bewijsreferte=...``, ``Traject_id=...``). Never a
  pupil key, an INSZ, a name, or anything from another source.

Writing a report marks its findings as reported (``quality.findings.reported_at``): only then can
they be resolved. Findings that no protocol valid today routes are in the report too, under the
data steward's follow-up period, labelled as such. The report also says which deliveries the
source's findings hold back (write-audit-publish, :mod:`orchestration.quality.holds`).

For every protocol whose article 7 asks for a yearly follow-up meeting (the registry's
``quality.follow_up_meeting``; today ``antwerpen_okan``), ``<outbox>/quality/<protocol>/
yearly/<year>/quality_summary.md`` counts the findings on the DOV sources that feed the protocol:
by source, category and status, deadlines met or missed, days to resolution. Counts only.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import statistics
from pathlib import Path

import duckdb

from orchestration.foundations import settings
from orchestration.quality import holds, register
from orchestration.quality.rules import CATEGORIES, CATEGORY_NL, by_key
from orchestration.foundations.sources import SOURCES, file_types_of

CSV_COLUMNS = ("finding_id", "article7_category", "rule", "file", "row", "own_record_key",
               "column")


def outbox(p: settings.Paths | None = None) -> Path:
    return (p or settings.paths()).outbox / "quality"


def _owner(source: str) -> str:
    return file_types_of(source)[0].owner


def _md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _reminder(finding: dict, terms: dict, what: str) -> str:
    """The cell of a finding whose protocol gives no period: the text's words, and the
    steward's reminder date marked as such."""
    t = terms.get(finding["protocol_id"])
    if t is None or not t.term_wording:
        return ""
    if what == "investigate" or not finding.get("steward_reminder_on"):
        return f"\"{t.term_wording}\""
    return (f"\"{t.term_wording}\" (steward's reminder: "
            f"{finding['steward_reminder_on']})")


def _findings(con: duckdb.DuckDBPyConnection, source: str) -> list[dict]:
    cur = con.execute("""
        select finding_id, rule_key, rule_id, file_type, slot, source_file, protocol_id,
               responder, article7_category, severity, blocking, title, affected_records,
               first_seen_at, last_seen_at, reported_on, investigation_deadline, deadline, status,
               routing, compared_with, steward_reminder_on
        from quality.findings
        where source = ? and status <> 'resolved'
        order by case status when 'overdue' then 0 else 1 end, deadline nulls last,
                 file_type, slot, rule_id""", [source])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def write_source_report(con: duckdb.DuckDBPyConnection, p: settings.Paths, source: str,
                        today: dt.date | None = None) -> Path | None:
    """Write today's report for one source; None (and no folder) when nothing is unresolved."""
    today = today or dt.date.today()
    folder = outbox(p) / source / today.isoformat()
    findings = _findings(con, source)
    if not findings:
        if folder.exists():
            shutil.rmtree(folder)  # an earlier run today reported what is now resolved
        return None
    folder.mkdir(parents=True, exist_ok=True)
    records = con.execute("""
        select r.finding_id, f.article7_category, f.rule_id, r.source_file, r.source_row,
               r.source_key, r.column_name
        from quality.finding_records r join quality.findings f using (finding_id)
        where f.source = ? and f.status <> 'resolved'
        order by r.source_file, r.source_row, f.rule_id""", [source]).fetchall()
    with (folder / "affected_records.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        w.writerows(records)
    held = [h for h in holds.held_sources(con) if h.source == source]
    held_protocols = [p.id for p in _protocols()
                      if source in holds.sources_of(p) and p.is_valid_on(today)] if held else []
    (folder / "summary.md").write_text(
        _summary(source, findings, len(records), today, held, held_protocols), encoding="utf-8")
    register.mark_reported(con, [f["finding_id"] for f in findings])
    return folder


def _protocols() -> list:
    from orchestration.protocols import load_registry

    return sorted(load_registry().protocols.values(), key=lambda p: p.id)


def _summary(source: str, findings: list[dict], n_records: int, today: dt.date,
             held: list[holds.Hold] = (), held_protocols: list[str] = ()) -> str:
    rules = by_key()
    protocols = sorted({f["protocol_id"] for f in findings if f["protocol_id"]})
    terms = {t.protocol_id: t for t in register.terms_for_source(source, on=today)}
    responders = sorted({f["responder"] for f in findings if f["responder"]})
    steward = [f for f in findings if f["routing"] == register.STEWARD]
    lines = [
        f"# Article-7 data-quality report: {_owner(source)} ({source})",
        "",
        f"- Date: {today.isoformat()}",
        f"- To: {_owner(source)}" + (f" (responder under article 7: {', '.join(responders)})"
                                     if responders else ""),
        "- Protocol(s): " + (", ".join(protocols) if protocols else
                             f"none valid on {today.isoformat()} with an article 7 covering "
                             "this source"),
    ]
    if steward:
        lines.append(
            f"- Steward's follow-up: {len(steward)} finding(s) are routed by no protocol valid "
            f"on {today.isoformat()}; the data steward follows them up within "
            f"{register.steward_follow_up()} (the steward's follow-up period, not a protocol "
            "deadline)")
    for pid in protocols:
        t = terms.get(pid)
        if t:
            parts = []
            if t.investigation_within:
                parts.append(f"investigate within {t.investigation_within}")
            if t.measures_within:
                parts.append(f"take measures within {t.measures_within}")
            if t.term_wording:
                parts.append(f"investigate and take measures \"{t.term_wording}\" (the "
                             "protocol's words: it sets no date)")
                if t.steward_reminder_within:
                    parts.append(f"the data steward reminds {t.responder} after "
                                 f"{t.steward_reminder_within} (the steward's reminder period, "
                                 "not a protocol deadline)")
            if t.correction_by_new_file:
                parts.append("correct by sending a new data file")
            lines.append(f"- {pid}, article 7: " + "; ".join(parts) +
                         f" (ISO 8601 durations, counted from the day a finding is reported)")
    by_cat = {c: [f for f in findings if f["article7_category"] == c] for c in CATEGORIES}
    lines += [
        "",
        "Article 7 of the protocol obliges the recipient to report erroneous, inaccurate, "
        "incomplete, missing, outdated or superfluous data (foutieve, onnauwkeurige, "
        "onvolledige, ontbrekende, verouderde of overtollige gegevens) to the source, which "
        "investigates and corrects them within the protocol's deadlines."
        if protocols else
        "The same article-7 categories (erroneous, inaccurate, incomplete, missing, outdated, "
        "superfluous) are used for this source; no protocol sets a deadline for it.",
        "",
        "The affected records are listed in `affected_records.csv`, identified only by your own "
        "references: file name, data row (1 = the first line after the header; 0 = the whole "
        "file) and your own record key where the file has one. The report holds no data from "
        "other sources.",
        "",
        "## Summary",
        "",
        _md_table(["category", "findings", "affected records"],
                  [[f"{c} ({CATEGORY_NL[c]})", len(v), sum(f["affected_records"] for f in v)]
                   for c, v in by_cat.items() if v]),
        "",
        f"{len(findings)} unresolved finding(s), {n_records} affected record line(s); "
        f"{sum(f['status'] == 'overdue' for f in findings)} past the deadline.",
        "",
        "## Findings",
        "",
        _md_table(["finding", "status", "category", "rule", "file", "records", "compared with",
                   "reported on", "investigate by", "correct by", "deadline set by"],
                  [[f["finding_id"], f["status"], f["article7_category"], f["rule_id"],
                    f["source_file"] or f["slot"], f["affected_records"],
                    f["compared_with"] or "", f["reported_on"],
                    f["investigation_deadline"] or _reminder(f, terms, "investigate"),
                    f["deadline"] or _reminder(f, terms, "correct"),
                    f["protocol_id"] or "steward's follow-up period"] for f in findings]),
        "",
    ]
    if held:
        lines += [
            "## Deliveries held back (write-audit-publish)",
            "",
            "Until these are corrected, the deliveries of "
            + (", ".join(held_protocols) or "no protocol") + " that draw on this source are "
            "not published:",
            "",
            *[f"- {h.detail}" for h in held],
            "",
        ]
    lines += [
        "## What the rules mean",
        "",
    ]
    for key in sorted({f["rule_key"] for f in findings}):
        rule = rules.get(key)
        if rule:
            compared = (f" Compared with: {', '.join(rule.compared_with)}."
                        if rule.compared_with else "")
            lines.append(f"- `{rule.id}` ({rule.category}, {rule.file_type}): {rule.title}. "
                         f"{rule.description}{compared}")
    return "\n".join(lines) + "\n"


def write_follow_up_summary(con: duckdb.DuckDBPyConnection, p: settings.Paths,
                            today: dt.date | None, protocol_id: str) -> list[Path]:
    """The yearly quality summary of one protocol (counts only), one file per calendar year in
    which findings under it were reported, and always the current year."""
    today = today or dt.date.today()
    rows = con.execute("""
        select source, article7_category, rule_id, status, reported_on, investigation_deadline,
               deadline, cast(resolved_at as date) as resolved_on, affected_records
        from quality.findings where protocol_id = ?""", [protocol_id]).fetchall()
    years = sorted({r[4].year for r in rows} | {today.year})
    written = []
    for year in years:
        mine = [r for r in rows if r[4].year == year]
        folder = outbox(p) / protocol_id / "yearly" / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "quality_summary.md"
        path.write_text(_follow_up(protocol_id, year, mine, today), encoding="utf-8")
        written.append(path)
    return written


def _follow_up(protocol_id: str, year: int, rows: list[tuple], today: dt.date) -> str:
    lines = [f"# {protocol_id}: data-quality summary {year} (article 7, yearly follow-up meeting)",
             "", f"Produced on {today.isoformat()}. Findings first reported in {year} on the "
             "sources that feed this protocol's deliveries; counts only, no records.", ""]
    if not rows:
        return "\n".join(lines + ["No findings were reported this year."]) + "\n"
    by_source: dict[tuple, list] = {}
    for r in rows:
        by_source.setdefault((r[0], r[1]), []).append(r)
    lines += ["## By source and category", "",
              _md_table(["source", "category", "findings", "affected records", "open",
                         "overdue", "resolved"],
                        [[s, c, len(v), sum(x[8] for x in v),
                          sum(x[3] == "open" for x in v), sum(x[3] == "overdue" for x in v),
                          sum(x[3] == "resolved" for x in v)]
                         for (s, c), v in sorted(by_source.items())]), ""]
    resolved = [r for r in rows if r[3] == "resolved" and r[7]]
    in_time = [r for r in resolved if r[6] is None or r[7] <= r[6]]
    days = [(r[7] - r[4]).days for r in resolved]
    lines += ["## Deadlines", "",
              f"- findings: {len(rows)}; resolved: {len(resolved)} "
              f"({len(in_time)} within the measures deadline); still open: "
              f"{sum(r[3] == 'open' for r in rows)}; overdue: "
              f"{sum(r[3] == 'overdue' for r in rows)}",
              f"- days from report to resolution: median "
              f"{statistics.median(days) if days else 'n/a'}, max {max(days) if days else 'n/a'}",
              "", "## By rule", ""]
    by_rule: dict[str, int] = {}
    for r in rows:
        by_rule[r[2]] = by_rule.get(r[2], 0) + 1
    lines.append(_md_table(["rule", "findings"], [[k, v] for k, v in sorted(by_rule.items())]))
    return "\n".join(lines) + "\n"


def write_all(con: duckdb.DuckDBPyConnection, p: settings.Paths, today: dt.date | None = None,
              sources: list[str] | None = None) -> dict[str, Path | None]:
    """Every source's report for today (None = nothing to report) and the yearly summary."""
    register.ensure_schema(con)
    holds.write_holds(con, _protocols())
    out = {s: write_source_report(con, p, s, today) for s in (sources or SOURCES)}
    for protocol in follow_up_protocols():
        write_follow_up_summary(con, p, today, protocol)
    return out


def follow_up_protocols() -> list[str]:
    """The protocols whose article 7 asks for a yearly follow-up meeting (registry
    ``quality.follow_up_meeting``): each gets a yearly quality summary."""
    from orchestration.protocols import load_registry

    return [p.id for p in load_registry().protocols.values()
            if p.quality.follow_up_meeting == "yearly"]
