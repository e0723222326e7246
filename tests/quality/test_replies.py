"""The source's side of article 7: a report in its own language (Dutch) with a reply template,
and its reply (a CSV in its inbox) admitted like an extract, validated row by row, updating the
findings register; ingestion and the inbox gatekeeper leave the reply alone."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from orchestration.foundations import audit
from orchestration.foundations.sources import SOURCE_SYSTEMS, reply_file_name
from orchestration.foundations.warehouse import connect
from orchestration.ingestion import admission
from orchestration.protocols import load_registry
from orchestration.quality import replies, reports
from orchestration.quality.rules import all_rules
from tests.privacy import insz_in_files
from tests.quality import kit

DAY = dt.date(2024, 11, 4)

pytestmark = pytest.mark.usefixtures("test_master_key")


def _two_findings(p):
    """discimus with three findings (an unknown code; the rows share a key and a pupil),
    reported on DAY; their ids in rule order."""
    kit.write(p, "discimus_enrolments", "discimus_inschrijvingen_2024-2025.csv",
              [{"Hoofdstructuur": "999"}, {}, {"Instellingsnummer": "999999"}])
    kit.ingest(p, "discimus")
    kit.refresh(p, DAY)
    folder = kit.report(p, DAY)["discimus"]
    ids = [r[0] for r in kit.query(p, "select finding_id from quality.findings "
                                      "where source = 'discimus' order by rule_id")]
    return folder, ids


def _reply(p, rows, name=None, header="bevinding;status;datum", encoding="utf-8"):
    path = p.inbox_of("discimus") / (name or reply_file_name("discimus", DAY.isoformat()))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


def _admit(p, today=DAY + dt.timedelta(days=3)):
    with connect(p) as con:
        return replies.admit_all(con, p, today)


def test_every_source_is_written_to_in_dutch_and_every_rule_has_a_dutch_text():
    assert {s.language for s in SOURCE_SYSTEMS} == {"nl"}
    missing = sorted({r.id for r in all_rules() if reports.rule_title_nl(r) is None})
    assert missing == []


def test_the_report_is_in_dutch_and_carries_a_reply_template_with_every_finding(data_dir):
    folder, ids = _two_findings(data_dir)
    text = (folder / reports.REPORT_NL).read_text("utf-8")
    assert text.startswith("# Rapport gegevenskwaliteit (artikel 7)")
    assert "## Bevindingen" in text and "## Uw antwoord" in text
    assert "foutief" in text  # the article-7 category in Dutch
    assert "hoofdstructuur bevat een code die niet in de codelijst staat".lower() in text.lower()
    for finding in ids:
        assert finding in text
    assert "Article 7" not in text and "finding" not in text.lower().replace("bevinding", "")
    with (folder / reply_file_name("discimus", DAY.isoformat())).open(encoding="utf-8") as fh:
        template = list(csv.reader(fh, delimiter=";"))
    assert template[0] == list(replies.HEADER)
    assert sorted(r[0] for r in template[1:]) == sorted(ids)
    assert insz_in_files(folder) == {}


def test_a_valid_reply_updates_the_register_and_shows_in_the_next_report(data_dir):
    _, ids = _two_findings(data_dir)
    first, second = ids[:2]
    path = _reply(data_dir, [f"{first};verbeterd;2024-11-06", f"{second};Betwist;05/11/2024"])
    [result] = _admit(data_dir)
    assert (result.status, result.received, result.applied, result.rejected) == \
        ("accepted", 2, 2, 0)
    assert not path.exists()  # out of the inbox, kept
    assert sorted(kit.query(data_dir, "select finding_id, reply_status, replied_on "
                                      "from quality.findings where reply_status is not null")) == \
        sorted([(first, "corrected", dt.date(2024, 11, 6)),
                (second, "disputed", dt.date(2024, 11, 5))])
    # a reply states where the source stands; only data resolves a finding
    assert {r[0] for r in kit.query(data_dir, "select status from quality.findings")} == {"open"}
    assert kit.query(data_dir, "select status, received_rows, applied_rows, rejected_rows "
                               "from quality.reply_files") == [("accepted", 2, 2, 0)]
    [entry] = [e for e in audit.entries(audit.log_path(data_dir)) if e.event == "article7_reply"]
    assert entry.fields["applied"] == 2 and entry.fields["source"] == "discimus"
    later = DAY + dt.timedelta(days=7)
    kit.refresh(data_dir, later)
    text = (kit.report(data_dir, later)["discimus"] / reports.REPORT_NL).read_text("utf-8")
    assert "verbeterd op 2024-11-06" in text and "betwist op 2024-11-05" in text
    # the same bytes again apply nothing twice
    _reply(data_dir, [f"{first};verbeterd;2024-11-06", f"{second};Betwist;05/11/2024"])
    [again] = _admit(data_dir)
    assert again.status == "duplicate"
    assert kit.query(data_dir, "select count(*) from quality.finding_replies") == [(2,)]


def test_a_malformed_reply_is_rejected_by_file_row_rule_and_column_never_by_value(data_dir):
    _, ids = _two_findings(data_dir)
    first, second, third = ids[:3]
    other = "0123456789abcdef"  # no such finding
    _reply(data_dir, [
        f"{first};ontvangen;2024-11-05",       # 1: good
        f"{other};ontvangen;2024-11-05",       # 2: unknown finding
        f"{second};misschien;2024-11-05",      # 3: unknown status
        f"{third};ontvangen;31/02/2024",       # 4: invalid date
        f"{first};verbeterd;2030-01-01",       # 5: listed twice, and in the future
        ";;",                                  # 6: all three missing
        f"{second};ontvangen;2024-01-01",      # 7: before it was reported, and listed twice
    ])
    [result] = _admit(data_dir)
    assert (result.status, result.received, result.applied, result.rejected) == \
        ("partly_accepted", 7, 1, 6)
    assert result.received == result.applied + result.rejected  # nothing lost
    assert sorted(kit.query(data_dir, "select source_row, rule, column_name "
                                      "from quality.reply_errors")) == [
        (2, "unknown_finding", "bevinding"), (3, "unknown_status", "status"),
        (4, "invalid_date", "datum"), (5, "date_in_future", "datum"),
        (5, "finding_listed_twice", "bevinding"), (6, "missing_required", "bevinding"),
        (6, "missing_required", "datum"), (6, "missing_required", "status"),
        (7, "date_before_report", "datum"), (7, "finding_listed_twice", "bevinding")]
    assert kit.query(data_dir, "select finding_id, reply_status from quality.findings "
                               "where reply_status is not null") == [(first, "acknowledged")]
    errors = replies.errors_path(data_dir, "discimus", reply_file_name("discimus",
                                                                       DAY.isoformat()))
    text = errors.read_text("utf-8")
    assert text.splitlines()[0] == "bestand;rij;regel;kolom"
    for value in ("misschien", "31/02/2024", "2030-01-01", other):
        assert value not in text and value not in result.message()


@pytest.mark.parametrize("header, body, encoding, rule", [
    ("finding;status;date", ["x;y;z"], "utf-8", "wrong_header"),
    ("bevinding;status;datum", ["a;b;c;d;e"], "utf-8", "unreadable"),
    ("bevinding;status;datum", ["é;ontvangen;2024-11-05"], "latin-1", "not_utf8"),
    ("bevinding;status;datum", [], "utf-8", "no_rows"),
])
def test_a_reply_file_that_cannot_be_read_is_rejected_whole(data_dir, header, body, encoding,
                                                             rule):
    _two_findings(data_dir)
    _reply(data_dir, body, header=header, encoding=encoding)
    [result] = _admit(data_dir)
    assert (result.status, result.applied, result.errors) == ("rejected", 0, [(0, rule, None)])
    assert kit.query(data_dir, "select count(*) from quality.finding_replies") == [(0,)]
    assert kit.query(data_dir, "select status from quality.reply_files") == [("rejected",)]


def test_ingestion_and_the_inbox_gatekeeper_leave_a_reply_alone(data_dir):
    _two_findings(data_dir)
    path = _reply(data_dir, ["x;ontvangen;2024-11-05"])
    kit.ingest(data_dir, "discimus")
    assert path.exists()
    assert kit.query(data_dir, "select count(*) from ingest.files "
                               "where file_name = ?", [path.name]) == [(0,)]
    verdicts = admission.evaluate(data_dir, "discimus", admission.Cursor(), load_registry(),
                                  DAY, now=path.stat().st_mtime + 3600)
    assert {v.kind for v in verdicts if v.file == path.name} == {"reply"}
    assert path.exists()
