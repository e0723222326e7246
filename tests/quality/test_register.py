"""The findings register: lifecycle (open, resolved, overdue), deadlines per protocol, and the
deliveries that carried affected records. Real ingestion of hand-made extracts, real DuckDB."""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.quality import register
from orchestration.foundations.warehouse import connect
from tests.quality import kit

DAY = dt.date(2024, 11, 4)

pytestmark = pytest.mark.usefixtures("test_master_key")


@pytest.fixture(autouse=True)
def no_term_overrides(monkeypatch):
    """The registry's terms, not overrides left in the environment."""
    for protocol in ("ZORGTHUIS", "DUO_LEERPLICHT", "NAFT_EVALUATION", "ANTWERPEN_OKAN"):
        monkeypatch.delenv(register.ENV_TERM_PREFIX + protocol, raising=False)


def findings(p, rule_id=None):
    sql = ("select rule_id, slot, status, resolution, affected_records, reported_on, "
           "investigation_deadline, deadline, protocol_id from quality.findings")
    rows = kit.query(p, sql + (" where rule_id = ?" if rule_id else "") + " order by all",
                     [rule_id] if rule_id else None)
    keys = ("rule", "slot", "status", "resolution", "records", "reported_on", "investigate_by",
            "deadline", "protocol")
    return [dict(zip(keys, r)) for r in rows]


# ------------------------------------------------------------------------------ deadlines


SOURCES = ("discimus", "led", "school_register", "binc", "zorgthuis", "duo", "rijksregister")


@pytest.mark.parametrize("on, expected", [
    (dt.date(2025, 6, 1), {  # antwerpen_okan runs; naft_evaluation is not signed yet
        "discimus": [("antwerpen_okan", "P1M", "P3M")],
        "led": [("antwerpen_okan", "P1M", "P3M")],
        "school_register": [("antwerpen_okan", "P1M", "P3M")],
        "binc": [],
        "zorgthuis": [("zorgthuis", None, None)],
        "duo": [("duo_leerplicht", "P3M", "P6M")],
        "rijksregister": []}),  # AGODI's own extract: the steward's follow-up
    (dt.date(2026, 6, 1), {  # antwerpen_okan ended on 31 August 2025
        "discimus": [], "led": [], "school_register": [],
        "binc": [("naft_evaluation", None, "P1M")],
        "zorgthuis": [("zorgthuis", None, None)],
        "duo": [("duo_leerplicht", "P3M", "P6M")],
        "rijksregister": []}),
])
def test_each_source_answers_under_the_article_7_of_the_valid_protocols_it_delivers_for(
        on, expected):
    by_source = {s: [(t.protocol_id, t.investigation_within, t.measures_within)
                     for t in register.terms_for_source(s, on=on)] for s in SOURCES}
    assert by_source == expected


@pytest.mark.parametrize("source, on, investigate_by, correct_by", [
    ("binc", dt.date(2026, 6, 1), None, dt.date(2024, 2, 29)),  # NAFT: measures in one month
    ("discimus", dt.date(2025, 6, 1), dt.date(2024, 2, 29), dt.date(2024, 4, 30)),  # 1 and 3
    ("duo", None, dt.date(2024, 4, 30), dt.date(2024, 7, 31)),  # DUO: 3 and 6 months
    ("zorgthuis", None, None, None),  # "binnen redelijke termijn": the text sets no date
])
def test_deadlines_run_from_the_day_of_the_report_in_calendar_months(source, on, investigate_by,
                                                                     correct_by):
    [terms] = register.terms_for_source(source, on=on)
    assert terms.deadlines(dt.date(2024, 1, 31)) == (investigate_by, correct_by)


def test_the_zorgthuis_reminder_is_configurable_and_fixed_terms_are_not(monkeypatch):
    monkeypatch.setenv(register.ENV_TERM_PREFIX + "ZORGTHUIS", "P45D")
    [terms] = register.terms_for_source("zorgthuis")
    assert terms.deadlines(dt.date(2024, 1, 1)) == (None, None)  # the protocol's: none
    assert terms.steward_reminder(dt.date(2024, 1, 1)) == dt.date(2024, 2, 15)
    assert terms.correction_by_new_file
    monkeypatch.setenv(register.ENV_TERM_PREFIX + "DUO_LEERPLICHT", "P1M")
    with pytest.raises(ValueError, match="fixes its own deadlines"):
        register.terms_for_source("duo")


def test_zorgthuis_article_7_keeps_the_texts_words_and_the_reminder_is_the_stewards(data_dir):
    """Article 7 of zorgthuis says "binnen redelijke termijn": no finding gets a deadline the
    text does not give, none turns overdue, and the steward's reminder is labelled as such."""
    name = "zorgthuis_2024-10-01_definitief.csv"
    kit.write(data_dir, "zorgthuis_lists", name, [{"Soort_lijst": "VOORLOPIG"}, {}])
    kit.ingest(data_dir, "zorgthuis")
    kit.refresh(data_dir, DAY)
    [(deadline, investigate_by, reminder)] = kit.query(
        data_dir, "select deadline, investigation_deadline, steward_reminder_on "
        "from quality.findings where rule_id = 'list_kind_differs_from_file_name'")
    assert (deadline, investigate_by) == (None, None)
    assert reminder == DAY + dt.timedelta(days=30)
    kit.refresh(data_dir, DAY + dt.timedelta(days=90))
    [(status,)] = kit.query(data_dir, "select status from quality.findings "
                                      "where rule_id = 'list_kind_differs_from_file_name'")
    assert status == "open"
    folder = kit.report(data_dir, DAY + dt.timedelta(days=90))["zorgthuis"]
    summary = (folder / "summary.md").read_text()
    assert '"binnen redelijke termijn"' in summary and "not a protocol deadline" in summary
    assert "within P30D" not in summary


# ------------------------------------------------------------------------------ lifecycle


def test_a_finding_stays_open_until_a_corrected_file_no_longer_shows_it(data_dir):
    name = "zorgthuis_2024-10-01_definitief.csv"
    kit.write(data_dir, "zorgthuis_lists", name, [{"Soort_lijst": "VOORLOPIG"}, {}])
    kit.ingest(data_dir, "zorgthuis")
    kit.refresh(data_dir, DAY)
    [f] = findings(data_dir, "list_kind_differs_from_file_name")
    assert (f["status"], f["records"], f["protocol"]) == ("open", 1, "zorgthuis")
    assert f["reported_on"] == DAY and f["deadline"] is None  # "binnen redelijke termijn"
    kit.report(data_dir, DAY)

    # Opgroeien corrects by sending a new data file for the same list (article 7)
    kit.write(data_dir, "zorgthuis_lists", name, [{}, {"Verblijf_MFC": "MFC_NIET_VRIJWILLIG"}])
    kit.ingest(data_dir, "zorgthuis")
    kit.refresh(data_dir, DAY + dt.timedelta(days=3))
    [f] = findings(data_dir, "list_kind_differs_from_file_name")
    assert (f["status"], f["resolution"], f["reported_on"]) == ("resolved", "corrected", DAY)


def test_a_finding_on_a_register_extract_is_resolved_by_a_later_extract_without_it(data_dir):
    kit.write(data_dir, "duo_registrations", "duo_onderwijsdeelnemers_2024-10-15.csv",
              [{}, {}, {"Fictief_nummer": "F2"}])  # F1 twice
    kit.ingest(data_dir, "duo")
    kit.refresh(data_dir, DAY)
    [f] = findings(data_dir, "duplicate_row")
    assert (f["status"], f["records"], f["protocol"]) == ("open", 1, "duo_leerplicht")
    assert (f["investigate_by"], f["deadline"]) == (dt.date(2025, 2, 4), dt.date(2025, 5, 4))
    kit.report(data_dir, DAY)

    # the 15 December extract still repeats F1: both findings stay open
    kit.write(data_dir, "duo_registrations", "duo_onderwijsdeelnemers_2024-12-15.csv",
              [{"Peildatum": "15-12-2024"}, {"Peildatum": "15-12-2024"}])
    kit.ingest(data_dir, "duo")
    kit.refresh(data_dir, DAY + dt.timedelta(days=40))
    assert [f["status"] for f in findings(data_dir, "duplicate_row")] == ["open", "open"]
    kit.report(data_dir, DAY + dt.timedelta(days=40))

    # the 15 February extract no longer does: every earlier finding on it is resolved
    kit.write(data_dir, "duo_registrations", "duo_onderwijsdeelnemers_2025-02-15.csv",
              [{"Peildatum": "15-02-2025"}, {"Fictief_nummer": "F2", "Peildatum": "15-02-2025"}])
    kit.ingest(data_dir, "duo")
    kit.refresh(data_dir, DAY + dt.timedelta(days=100))
    assert [(f["status"], f["resolution"]) for f in findings(data_dir, "duplicate_row")] == \
        [("resolved", "later_extract")] * 2


def test_an_unresolved_finding_is_overdue_the_day_after_its_deadline(data_dir):
    kit.write(data_dir, "duo_registrations", "duo_onderwijsdeelnemers_2024-10-15.csv",
              [{"BRIN": "05K1"}])
    kit.ingest(data_dir, "duo")
    kit.refresh(data_dir, DAY)
    [f] = findings(data_dir, "invalid_format_brin")
    deadline = f["deadline"]
    assert deadline == dt.date(2025, 5, 4)
    with connect(data_dir) as con:
        register.update_status(con, deadline)
    assert findings(data_dir, "invalid_format_brin")[0]["status"] == "open"
    kit.refresh(data_dir, deadline + dt.timedelta(days=1))  # same data, one day later
    [f] = findings(data_dir, "invalid_format_brin")
    assert (f["status"], f["reported_on"], f["deadline"]) == ("overdue", DAY, deadline)


def test_a_defect_that_comes_back_after_a_correction_is_reported_again(data_dir):
    name = "zorgthuis_2024-10-01_definitief.csv"
    for day, rows in ((DAY, [{"Soort_lijst": "VOORLOPIG"}]),
                      (DAY + dt.timedelta(days=5), [{}]),
                      (DAY + dt.timedelta(days=9), [{"Soort_lijst": "VOORLOPIG"},
                                                    {"INSZ": kit.insz(dt.date(2015, 1, 2))}])):
        kit.write(data_dir, "zorgthuis_lists", name, rows)
        kit.ingest(data_dir, "zorgthuis")
        kit.refresh(data_dir, day)
        kit.report(data_dir, day)
    [f] = findings(data_dir, "list_kind_differs_from_file_name")
    assert (f["status"], f["reported_on"]) == ("open", DAY + dt.timedelta(days=9))


def test_a_second_refresh_on_the_same_data_changes_nothing(data_dir):
    kit.write(data_dir, "duo_registrations", "duo_onderwijsdeelnemers_2024-10-15.csv",
              [{}, {}, {"BRIN": "XX"}])
    kit.ingest(data_dir, "duo")
    first = kit.refresh(data_dir, DAY)
    snapshot = kit.query(data_dir, "select * exclude (last_seen_at) from quality.findings "
                                   "order by all")
    records = kit.query(data_dir, "select * from quality.finding_records order by all")
    second = kit.refresh(data_dir, DAY)
    # F1 copied, and "XX" is no BRIN (and not in canonical form either)
    assert (first.findings_new, second.findings_new, second.findings_resolved) == (3, 0, 0)
    assert kit.query(data_dir, "select * exclude (last_seen_at) from quality.findings "
                               "order by all") == snapshot
    assert kit.query(data_dir, "select * from quality.finding_records order by all") == records


def test_records_keep_the_source_row_and_the_whole_file_is_row_zero(data_dir):
    kit.write(data_dir, "duo_registrations", "duo_onderwijsdeelnemers_2024-10-15.csv",
              [{"Peildatum": "15-08-2024"}, {"Peildatum": "15-08-2024", "Fictief_nummer": "F2"}])
    kit.ingest(data_dir, "duo")
    kit.refresh(data_dir, DAY)
    rows = kit.query(data_dir, """
        select f.rule_id, r.source_file, r.source_row, r.record_key is not null
        from quality.finding_records r join quality.findings f using (finding_id)
        order by all""")
    assert rows == [("reference_date_stale", "duo_onderwijsdeelnemers_2024-10-15.csv", 0,
                     False)]


# ------------------------------------------------------------------------------ GDPR art. 19


def test_findings_name_the_deliveries_that_carried_affected_pupils(data_dir):
    kit.write(data_dir, "zorgthuis_lists", "zorgthuis_2024-10-01_definitief.csv",
              [{"Soort_lijst": "VOORLOPIG"}, {"INSZ": kit.insz(dt.date(2015, 1, 2))}])
    kit.ingest(data_dir, "zorgthuis")
    kit.refresh(data_dir, DAY)  # no audit.delivered_records yet: no deliveries
    assert kit.query(data_dir, "select deliveries, delivered_records from quality.findings") \
        == [(0, 0)]
    with connect(data_dir) as con:
        con.execute("create schema if not exists audit")
        con.execute("create table audit.delivered_records (delivery_id varchar, "
                    "protocol_id varchar, file_id varchar, pupil_key varchar, "
                    "delivered_at timestamp)")
        affected, other = [r[0] for r in con.execute(
            "select pupil_key from raw.zorgthuis_lists order by _source_row").fetchall()]
        con.executemany("insert into audit.delivered_records values (?, 'zorgthuis', "
                        "'verification_list', ?, timestamp '2024-10-20 10:00:00')",
                        [["d1", affected], ["d1", other], ["d2", other]])
    kit.refresh(data_dir, DAY)
    assert kit.query(data_dir, "select deliveries, delivered_records from quality.findings") \
        == [(1, 1)]
    assert kit.query(data_dir, "select delivery_id, protocol_id, file_id, affected_records "
                               "from quality.finding_deliveries") == \
        [("d1", "zorgthuis", "verification_list", 1)]
