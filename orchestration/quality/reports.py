"""Reports to the sources (article 7) and the yearly quality summary for Antwerp.

Per source with unresolved findings, a folder ``<outbox>/quality/<source>/<date>/`` ready to send:

- ``rapport.md``: the report in the source's language (``SourceSystem.language``; Dutch for
  every source today: the Flemish agencies and DUO), the one to send; ``summary.md`` holds the
  same in English, for the steward. ``summary.md``: to whom (the source owner and the protocol's responder), under which protocol,
  the deadlines, one line per finding (category, rule, file, number of affected records, dates,
  status) and what each rule means;
- ``affected_records.csv`` (``;``-separated, like the sources' own files): one line per affected
  record, identified by **the source's own references only**: its file name, its data row number
  (1 = the first line after the header; 0 = the whole file) and, where the file has one, its own
  plain record key (``Inschrijving_id=...``, ``Bewijsreferte=...``, ``Traject_id=...``). Never a
  pupil key, an INSZ, a name, or anything from another source.
- ``<source>_antwoord_art7_<date>.csv``: the reply template, one line per finding; the source
  fills in a status and a date and drops it in its inbox (:mod:`orchestration.quality.replies`).

Both versions are rendered by one function, :func:`_report`, from the wording table of their
language (``REPORT_WORDS``); a wording change is made there, once per language.

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
from typing import Any

import duckdb

from orchestration.foundations import settings
from orchestration.quality import holds, register
from orchestration.quality.replies import HEADER as REPLY_HEADER
from orchestration.quality.replies import STATUS_NL
from orchestration.quality.rules import CATEGORIES, CATEGORY_NL, by_key
from orchestration.foundations.sources import BY_SOURCE, SOURCES, file_types_of, reply_file_name

REPORT_NL = "rapport.md"  # the report in Dutch, for the source; summary.md: in English
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
               routing, compared_with, steward_reminder_on, reply_status, replied_on
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
        _report(source, findings, len(records), today, held, held_protocols, language="en"),
        encoding="utf-8")
    if BY_SOURCE[source].language == "nl":  # the report the source reads, in its language
        (folder / REPORT_NL).write_text(
            _report(source, findings, len(records), today, held, held_protocols, language="nl"),
            encoding="utf-8")
    write_reply_template(folder, source, today, findings)
    register.mark_reported(con, [f["finding_id"] for f in findings])
    return folder


def _protocols() -> list:
    from orchestration.protocols import load_registry

    return sorted(load_registry().protocols.values(), key=lambda p: p.id)


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


# ------------------------------------------------------------------------------ in Dutch

#: What each rule says, in Dutch: rule families by the shape of their id (``{c}`` = the column as
#: the source names it), then the rules written once. A rule without a Dutch text keeps its
#: English title (a test lists every rule of the catalogue and requires a Dutch one).
_NL_FAMILIES: tuple[tuple[str, str], ...] = (
    (r"unknown_code_", "{c} bevat een code die niet in de codelijst staat"),
    (r"invalid_format_", "{c} heeft niet het vereiste formaat"),
    (r"code_not_canonical_", "{c} bevat een geldige code in een afwijkende schrijfwijze "
                             "(hoofdletters, voorloopnullen); wij herstellen dit voorlopig zelf"),
    (r"unknown_school_", "{c} verwijst naar een school die niet in het scholenregister staat"),
    (r"unknown_branch_", "{c} verwijst naar een vestigingsplaats die dat schooljaar niet in het "
                         "scholenregister staat"),
    (r"unknown_provider_", "{c} verwijst naar een NAFT-aanbieder die niet in het "
                           "aanbiedersbestand staat"),
    (r"unknown_trajectory_", "{c} verwijst naar een traject dat niet in het trajectenbestand staat"),
    (r"unknown_municipality_", "{c} is geen bestaande NIS-gemeentecode"),
    (r".+_outside_school_year$", "{c} valt buiten het schooljaar van het bestand"),
    (r".+_after_reference_date$", "{c} ligt na de referentiedatum van het bestand"),
    (r".+_before_birth$", "{c} ligt vóór de geboortedatum"),
    (r".+_at_impossible_age$", "{c} valt op een leeftijd waarop dit niet mogelijk is"),
    (r".+_out_of_bounds$", "{c} ligt buiten de toegelaten grenzen (nooit negatief, nooit meer "
                           "dan het schooljaar toelaat)"),
    (r".+_before_.+", "{c} ligt vóór een datum die eraan voorafgaat"),
)
_NL_RULES = {
    "invalid_insz": "INSZ met een ongeldig controlegetal (geen geldig rijksregister- of "
                    "BIS-nummer)",
    "missing_required": "Een verplichte waarde ontbreekt",
    "unparseable_value": "Een waarde heeft niet het afgesproken type, of de regel is geen geldig "
                         "CSV-record",
    "file_has_unexpected_columns": "Het bestand bevat kolommen die het protocol niet voorziet",
    "file_rejected": "Het bestand werd in zijn geheel geweigerd (kopregel, codering, structuur, "
                     "datumformaat of schooljaar), of werd tegengehouden omdat het de vorige "
                     "levering sterk zou inkrimpen",
    "expected_file_missing": "Een bestand dat volgens de kalender tussen de eerste en de laatste "
                             "levering verwacht werd, is nooit toegekomen",
    "duplicate_row": "Hetzelfde record komt meer dan eens voor in één bestand (een exacte kopie)",
    "key_conflict": "Twee records hebben dezelfde sleutel maar verschillen in andere waarden",
    "school_year_differs_from_file": "Het schooljaar van de regel verschilt van het schooljaar "
                                     "van het bestand",
    "birth_date_contradicts_insz": "De geboortedatum spreekt de geboortedatum in het INSZ tegen",
    "study_year_impossible_for_level": "Het leerjaar is onmogelijk voor het niveau van de "
                                       "hoofdstructuur",
    "grade_inconsistent_with_study_year": "De graad past niet bij het leerjaar",
    "age_implausible_for_study_year": "De leeftijd van de leerling past niet bij het leerjaar",
    "full_time_in_two_schools": "De leerling is op dezelfde dag voltijds ingeschreven in twee "
                                "scholen",
    "school_without_pupils_on_counting_date": "Een school had leerlingen op de vorige teldatum "
                                              "en heeft er geen op de teldatum van dit jaar",
    "outside_protocol_period": "Het record valt buiten de schooljaren die het protocol dekt",
    "beneficiary_not_enrolled": "Een NAFT-begunstigde heeft dat schooljaar geen inschrijving in "
                                "Discimus",
    "reference_date_stale": "Het extract is ouder dan het zegt: elke teldatum ligt vóór de "
                            "referentiedatum in de bestandsnaam",
    "reference_date_differs_from_file": "De teldatum verschilt van de referentiedatum in de "
                                        "bestandsnaam",
    "list_kind_differs_from_file_name": "Het soort lijst verschilt van het soort lijst in de "
                                        "bestandsnaam (voorlopig/definitief)",
    "provisional_list_after_definitive": "Een voorlopige lijst kwam toe na de definitieve lijst "
                                         "van dezelfde teldatum",
    "not_enrolled_on_counting_date": "Een leerling op de lijst is op de teldatum in geen enkele "
                                     "school ingeschreven (Discimus)",
    "not_compulsory_school_age": "De leerling is op de referentiedatum niet leerplichtig",
    "not_linkable_to_rijksregister": "De DUO-leerling komt met geen enkel kind in het "
                                     "rijksregisterextract overeen",
}
STATUS_WORDS_NL = {"open": "open", "overdue": "termijn verstreken", "resolved": "opgelost"}


def rule_title_nl(rule) -> str | None:
    """The rule in Dutch, or None when the catalogue has no Dutch text for it."""
    import re

    if rule.id in _NL_RULES:
        return _NL_RULES[rule.id]
    for shape, text in _NL_FAMILIES:
        if re.match(shape, rule.id):
            return text.format(c=rule.column or "Een kolom")
    return None


def _nl_duration(iso: str) -> str:
    """An ISO 8601 duration in words (P1M -> 1 maand, P30D -> 30 dagen)."""
    import re

    m = re.fullmatch(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?", iso or "")
    if not m:
        return iso
    words = []
    for n, one, many in zip(m.groups(), ("jaar", "maand", "week", "dag"),
                            ("jaar", "maanden", "weken", "dagen")):
        if n:
            words.append(f"{int(n)} {one if int(n) == 1 else many}")
    return " en ".join(words) or iso


# ------------------------------------------------------------------------------ the report

#: The report's wording, one table per language (``summary.md`` in English for the steward,
#: ``rapport.md`` in Dutch for the source); :func:`_report` renders either. Where the versions
#: differ in what they show (a column, a section), the entry is a function giving it.
REPORT_WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "title": "# Article-7 data-quality report: {owner} ({source})",
        "date": "- Date: {}",
        "to": "- To: {}",
        "responders": " (responder under article 7: {})",
        "protocols": "- Protocol(s): ",
        "no_protocol": "none valid on {} with an article 7 covering this source",
        "steward": ("- Steward's follow-up: {n} finding(s) are routed by no protocol valid on "
                    "{today}; the data steward follows them up within {within} (the steward's "
                    "follow-up period, not a protocol deadline)"),
        "duration": lambda iso: iso,
        "investigate": "investigate within {}",
        "measures": "take measures within {}",
        "term_wording": ("investigate and take measures \"{}\" (the protocol's words: it sets "
                         "no date)"),
        "reminder": ("the data steward reminds {responder} after {within} (the steward's "
                     "reminder period, not a protocol deadline)"),
        "new_file": "correct by sending a new data file",
        "terms_line": ("- {pid}, article 7: {parts} (ISO 8601 durations, counted from the day "
                       "a finding is reported)"),
        "article7": ("Article 7 of the protocol obliges the recipient to report erroneous, "
                     "inaccurate, incomplete, missing, outdated or superfluous data (foutieve, "
                     "onnauwkeurige, onvolledige, ontbrekende, verouderde of overtollige "
                     "gegevens) to the source, which investigates and corrects them within the "
                     "protocol's deadlines."),
        "article7_no_protocol": ("The same article-7 categories (erroneous, inaccurate, "
                                 "incomplete, missing, outdated, superfluous) are used for this "
                                 "source; no protocol sets a deadline for it."),
        "records": ("The affected records are listed in `affected_records.csv`, identified only "
                    "by your own references: file name, data row (1 = the first line after the "
                    "header; 0 = the whole file) and your own record key where the file has "
                    "one. The report holds no data from other sources."),
        "summary": "## Summary",
        "summary_header": ["category", "findings", "affected records"],
        "category": lambda c: f"{c} ({CATEGORY_NL[c]})",
        "totals": ("{findings} unresolved finding(s), {records} affected record line(s); "
                   "{overdue} past the deadline."),
        "findings": "## Findings",
        "findings_columns": [
            ("finding", lambda f, terms: f["finding_id"]),
            ("status", lambda f, terms: f["status"]),
            ("category", lambda f, terms: f["article7_category"]),
            ("rule", lambda f, terms: f["rule_id"]),
            ("file", lambda f, terms: f["source_file"] or f["slot"]),
            ("records", lambda f, terms: f["affected_records"]),
            ("compared with", lambda f, terms: f["compared_with"] or ""),
            ("reported on", lambda f, terms: f["reported_on"]),
            ("investigate by", lambda f, terms: f["investigation_deadline"]
             or _reminder(f, terms, "investigate")),
            ("correct by", lambda f, terms: f["deadline"] or _reminder(f, terms, "correct")),
            ("deadline set by", lambda f, terms: f["protocol_id"]
             or "steward's follow-up period"),
        ],
        "held": "## Deliveries held back (write-audit-publish)",
        "held_text": ("Until these are corrected, the deliveries of {} that draw on this source "
                      "are not published:"),
        "held_none": "no protocol",
        "held_details": True,
        "reply": lambda source, today: [],
        "rules": "## What the rules mean",
        "rule_line": lambda rule: (
            f"- `{rule.id}` ({rule.category}, {rule.file_type}): {rule.title}. "
            f"{rule.description}"
            + (f" Compared with: {', '.join(rule.compared_with)}." if rule.compared_with
               else "")),
    },
    "nl": {
        "title": "# Rapport gegevenskwaliteit (artikel 7): {owner} ({source})",
        "date": "- Datum: {}",
        "to": "- Aan: {}",
        "responders": " (verantwoordelijk volgens artikel 7: {})",
        "protocols": "- Protocol(len): ",
        "no_protocol": "geen enkel protocol met een artikel 7 voor deze bron is geldig op {}",
        "steward": ("- Opvolging door de data steward: {n} bevinding(en) vallen onder geen "
                    "protocol dat op {today} geldt; de data steward volgt ze op binnen {within} "
                    "(de opvolgtermijn van de data steward, geen termijn uit een protocol)"),
        "duration": _nl_duration,
        "investigate": "onderzoek binnen {}",
        "measures": "maatregelen binnen {}",
        "term_wording": "onderzoek en maatregelen \"{}\" (de tekst noemt geen termijn)",
        "reminder": "de data steward herinnert u na {within} (geen termijn uit het protocol)",
        "new_file": "verbetering door een nieuw gegevensbestand te bezorgen",
        "terms_line": ("- {pid}, artikel 7: {parts}, te rekenen vanaf de dag waarop een "
                       "bevinding gemeld wordt"),
        "article7": ("Artikel 7 van het protocol verplicht de ontvanger om foutieve, "
                     "onnauwkeurige, onvolledige, ontbrekende, verouderde of overtollige "
                     "gegevens aan de bron te melden; de bron onderzoekt en verbetert ze binnen "
                     "de termijnen van het protocol."),
        "article7_no_protocol": ("Voor deze bron gelden dezelfde categorieën van artikel 7 "
                                 "(foutief, onnauwkeurig, onvolledig, ontbrekend, verouderd, "
                                 "overtollig); geen protocol legt er een termijn voor vast."),
        "records": ("De betrokken records staan in `affected_records.csv`, uitsluitend aangeduid "
                    "met uw eigen verwijzingen: bestandsnaam, gegevensrij (1 = de eerste regel "
                    "na de kopregel; 0 = het hele bestand) en uw eigen recordsleutel waar het "
                    "bestand er een heeft. Het rapport bevat geen gegevens uit andere bronnen."),
        "summary": "## Samenvatting",
        "summary_header": ["categorie", "bevindingen", "betrokken records"],
        "category": lambda c: CATEGORY_NL[c],
        "totals": ("{findings} openstaande bevinding(en), {records} betrokken recordregel(s); "
                   "bij {overdue} is de termijn verstreken."),
        "findings": "## Bevindingen",
        "findings_columns": [
            ("bevinding", lambda f, terms: f["finding_id"]),
            ("stand", lambda f, terms: STATUS_WORDS_NL.get(f["status"], f["status"])),
            ("categorie", lambda f, terms: CATEGORY_NL[f["article7_category"]]),
            ("regel", lambda f, terms: f["rule_id"]),
            ("bestand", lambda f, terms: f["source_file"] or f["slot"]),
            ("records", lambda f, terms: f["affected_records"]),
            ("vergeleken met", lambda f, terms: f["compared_with"] or ""),
            ("gemeld op", lambda f, terms: f["reported_on"]),
            ("onderzoek tegen", lambda f, terms: f["investigation_deadline"] or ""),
            ("verbetering tegen", lambda f, terms: f["deadline"] or ""),
            ("termijn volgens", lambda f, terms: f["protocol_id"]
             or "opvolgtermijn van de data steward"),
            ("uw antwoord", lambda f, terms: (f"{STATUS_NL[f['reply_status']]} op "
                                              f"{f['replied_on']}" if f.get("reply_status")
                                              else "")),
        ],
        "held": "## Tegengehouden leveringen",
        "held_text": ("Tot deze bevindingen verbeterd zijn, worden de leveringen van {} die op "
                      "deze bron steunen niet verstuurd."),
        "held_none": "geen enkel protocol",
        "held_details": False,
        "reply": lambda source, today: [
            "## Uw antwoord",
            "",
            f"Vul per bevinding `{reply_file_name(source, today.isoformat())}` in (in deze map, "
            f"`;`-gescheiden, UTF-8) en plaats het bestand in uw gewone aanlevermap ({source}), "
            "zoals een extract. Kolommen: `bevinding` (de code hierboven), `status` "
            "(`ontvangen`: in onderzoek; `verbeterd`: verbeterd, een nieuw bestand volgt of is "
            "verstuurd; `betwist`: de gegevens kloppen volgens u) en `datum` (de dag van die "
            f"status, bv. {today.isoformat()}). Een bevinding is pas opgelost wanneer de "
            "verbeterde gegevens toekomen. Rijen met fouten worden per bestand, rij, regel en "
            "kolom teruggemeld in `replies/<bestand>.fouten.csv`.",
            "",
        ],
        "rules": "## Wat de regels betekenen",
        "rule_line": lambda rule: (
            f"- `{rule.id}` ({CATEGORY_NL[rule.category]}, {rule.file_type}): "
            f"{rule_title_nl(rule) or rule.title}."
            + (f" Vergeleken met: {', '.join(rule.compared_with)}." if rule.compared_with
               else "")),
    },
}


def _report(source: str, findings: list[dict], n_records: int, today: dt.date,
            held: list[holds.Hold] = (), held_protocols: list[str] = (), *,
            language: str) -> str:
    """The article-7 report of one source in ``language`` (``REPORT_WORDS``)."""
    w = REPORT_WORDS[language]
    duration = w["duration"]
    rules = by_key()
    protocols = sorted({f["protocol_id"] for f in findings if f["protocol_id"]})
    terms = {t.protocol_id: t for t in register.terms_for_source(source, on=today)}
    responders = sorted({f["responder"] for f in findings if f["responder"]})
    steward = [f for f in findings if f["routing"] == register.STEWARD]
    lines = [
        w["title"].format(owner=_owner(source), source=source),
        "",
        w["date"].format(today.isoformat()),
        w["to"].format(_owner(source)) + (w["responders"].format(", ".join(responders))
                                          if responders else ""),
        w["protocols"] + (", ".join(protocols) if protocols else
                          w["no_protocol"].format(today.isoformat())),
    ]
    if steward:
        lines.append(w["steward"].format(n=len(steward), today=today.isoformat(),
                                         within=duration(register.steward_follow_up())))
    for pid in protocols:
        t = terms.get(pid)
        if t:
            parts = []
            if t.investigation_within:
                parts.append(w["investigate"].format(duration(t.investigation_within)))
            if t.measures_within:
                parts.append(w["measures"].format(duration(t.measures_within)))
            if t.term_wording:
                parts.append(w["term_wording"].format(t.term_wording))
                if t.steward_reminder_within:
                    parts.append(w["reminder"].format(
                        responder=t.responder, within=duration(t.steward_reminder_within)))
            if t.correction_by_new_file:
                parts.append(w["new_file"])
            lines.append(w["terms_line"].format(pid=pid, parts="; ".join(parts)))
    by_cat = {c: [f for f in findings if f["article7_category"] == c] for c in CATEGORIES}
    columns = w["findings_columns"]
    lines += [
        "",
        w["article7"] if protocols else w["article7_no_protocol"],
        "",
        w["records"],
        "",
        w["summary"],
        "",
        _md_table(w["summary_header"],
                  [[w["category"](c), len(v), sum(f["affected_records"] for f in v)]
                   for c, v in by_cat.items() if v]),
        "",
        w["totals"].format(findings=len(findings), records=n_records,
                           overdue=sum(f["status"] == "overdue" for f in findings)),
        "",
        w["findings"],
        "",
        _md_table([name for name, _ in columns],
                  [[cell(f, terms) for _, cell in columns] for f in findings]),
        "",
    ]
    if held:
        lines += [w["held"], "",
                  w["held_text"].format(", ".join(held_protocols) or w["held_none"]), ""]
        if w["held_details"]:
            lines += [*[f"- {h.detail}" for h in held], ""]
    lines += [*w["reply"](source, today), w["rules"], ""]
    for key in sorted({f["rule_key"] for f in findings}):
        rule = rules.get(key)
        if rule:
            lines.append(w["rule_line"](rule))
    return "\n".join(lines) + "\n"


def write_reply_template(folder: Path, source: str, today: dt.date,
                         findings: list[dict]) -> Path:
    """The reply the source fills in: one line per finding, status and date left empty."""
    path = folder / reply_file_name(source, today.isoformat())
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\n")
        w.writerow(REPLY_HEADER)
        w.writerows([f["finding_id"], "", ""] for f in findings)
    return path
