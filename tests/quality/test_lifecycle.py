"""The findings lifecycle cannot lose a finding: reported before resolved, routed only under valid
protocols (else the steward's follow-up, labelled), write-audit-publish holds exactly the
deliveries that draw on a failing source, and art. 19 names the deliveries that carried a value
the source later corrected. Real ingestion of hand-made extracts, real DuckDB, real reports."""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.deliveries import writer
from orchestration.foundations.warehouse import connect
from orchestration.protocols import load_registry
from orchestration.quality import register
from tests.quality import kit

DAY = dt.date(2024, 11, 4)


pytestmark = pytest.mark.usefixtures("test_master_key")


@pytest.fixture(autouse=True)
def no_overrides(monkeypatch):
    monkeypatch.delenv("PROTOCOL_WAREHOUSE_STEWARD_FOLLOW_UP", raising=False)
    monkeypatch.delenv("PROTOCOL_WAREHOUSE_QUARANTINE_HOLD_SHARE", raising=False)


def findings(p, rule_id):
    return kit.query(p, "select slot, status, resolution, protocol_id from quality.findings "
                        "where rule_id = ? order by slot", [rule_id])


def routing_and_reported(p, rule_id):
    return kit.query(p, "select routing, reported_at is not null from quality.findings "
                        "where rule_id = ? order by slot", [rule_id])


def report_rows(folder):
    return (folder / "affected_records.csv").read_text(encoding="utf-8").splitlines()[1:]


# ------------------------------------------------------------------------------ reported first


def test_a_finding_on_an_earlier_extract_reaches_a_report_before_a_later_extract_resolves_it(
        data_dir):
    # October repeats F1 (a blocking duplicate); December, in the same run, no longer does
    kit.write(data_dir, "duo_registrations", "duo_onderwijsdeelnemers_2024-10-15.csv",
              [{}, {}, {"Fictief_nummer": "F2"}])
    kit.write(data_dir, "duo_registrations", "duo_onderwijsdeelnemers_2024-12-15.csv",
              [{"Peildatum": "15-12-2024"}, {"Fictief_nummer": "F2", "Peildatum": "15-12-2024"}])
    kit.ingest(data_dir, "duo")
    kit.refresh(data_dir, DAY + dt.timedelta(days=45))
    [(slot, status, _, _)] = findings(data_dir, "duplicate_row")
    assert (slot, status) == ("duo_registrations/2024-10-15", "open")  # not resolvable yet
    assert routing_and_reported(data_dir, "duplicate_row") == [(register.PROTOCOL, False)]

    written = kit.report(data_dir, DAY + dt.timedelta(days=45))
    assert written["duo"] is not None
    assert any(";duplicate_row;duo_onderwijsdeelnemers_2024-10-15.csv;2;" in line
               for line in report_rows(written["duo"]))
    assert routing_and_reported(data_dir, "duplicate_row") == [(register.PROTOCOL, True)]

    # the next run may resolve it: the source's current answer no longer shows it
    kit.refresh(data_dir, DAY + dt.timedelta(days=46))
    assert [f[1:3] for f in findings(data_dir, "duplicate_row")] == [("resolved",
                                                                       "later_extract")]


def test_a_corrected_file_does_not_resolve_a_finding_no_report_has_listed(data_dir):
    name = "zorgthuis_2024-10-01_definitief.csv"
    kit.write(data_dir, "zorgthuis_lists", name, [{"Soort_lijst": "VOORLOPIG"}])
    kit.ingest(data_dir, "zorgthuis")
    kit.refresh(data_dir, DAY)
    kit.write(data_dir, "zorgthuis_lists", name, [{}])  # corrected before any report
    kit.ingest(data_dir, "zorgthuis")
    kit.refresh(data_dir, DAY)
    assert [f[1] for f in findings(data_dir, "list_kind_differs_from_file_name")] == ["open"]
    assert kit.report(data_dir, DAY)["zorgthuis"] is not None  # so the source hears of it
    kit.refresh(data_dir, DAY + dt.timedelta(days=1))
    assert [f[1:3] for f in findings(data_dir, "list_kind_differs_from_file_name")] == \
        [("resolved", "corrected")]


# ------------------------------------------------------------------------------ valid protocols


def test_findings_are_routed_only_under_protocols_valid_on_the_day_of_the_report(data_dir):
    kit.write(data_dir, "discimus_enrolments", "discimus_inschrijvingen_2024-2025.csv",
              [{"Hoofdstructuur": "999"}])
    kit.ingest(data_dir, "discimus")
    day = dt.date(2026, 12, 7)  # antwerpen_okan ended on 31 August 2025
    kit.refresh(data_dir, day)
    [(_, status, _, protocol)] = findings(data_dir, "unknown_code_hoofdstructuur")
    assert (status, protocol) == ("open", None)
    assert routing_and_reported(data_dir, "unknown_code_hoofdstructuur") == \
        [(register.STEWARD, False)]
    [(deadline,)] = kit.query(data_dir, "select deadline from quality.findings")
    assert deadline == dt.date(2027, 1, 7)  # the steward's follow-up period: one month
    summary = (kit.report(data_dir, day)["discimus"] / "summary.md").read_text("utf-8")
    assert "antwerpen_okan" not in summary
    assert "the steward's follow-up period, not a protocol deadline" in summary


def test_a_finding_moves_to_the_steward_when_its_protocol_ends_and_is_not_closed_as_corrected(
        data_dir):
    kit.write(data_dir, "discimus_enrolments", "discimus_inschrijvingen_2024-2025.csv",
              [{"Hoofdstructuur": "999"}])
    kit.ingest(data_dir, "discimus")
    kit.refresh(data_dir, dt.date(2025, 8, 1))
    kit.report(data_dir, dt.date(2025, 8, 1))
    kit.refresh(data_dir, dt.date(2025, 9, 1))
    rows = findings(data_dir, "unknown_code_hoofdstructuur")
    assert sorted((r[1], r[2] or "", r[3] or "") for r in rows) == [
        ("open", "", ""), ("resolved", "rerouted", "antwerpen_okan")]


# ------------------------------------------------------------------------------ write-audit-publish


def test_a_failed_blocking_rule_holds_back_exactly_the_deliveries_that_draw_on_its_source(
        data_dir):
    from orchestration.quality import holds

    kit.write(data_dir, "binc_naft_beneficiaries", "binc_naft_begunstigden_2024-2025.csv",
              [{"Geslacht": "Q"}])  # an unknown code: blocking
    kit.ingest(data_dir, "binc")
    kit.refresh(data_dir, dt.date(2026, 6, 1))
    registry = load_registry()
    with connect(data_dir) as con:
        held = {p.id for p in registry.protocols.values()
                if holds.reasons_for_protocol(con, p)}
        [outcome] = writer.deliver_protocol("naft_evaluation", p=data_dir,
                                            today=dt.date(2026, 6, 1), con=con)
    assert held == {"naft_evaluation"}  # the only protocol whose deliveries draw on BINC
    assert outcome.status == "refused" and outcome.message.startswith("held: naft_evaluation")
    assert "binc_naft_beneficiaries.unknown_code_geslacht" in outcome.message
    kit.report(data_dir, dt.date(2026, 6, 1))
    assert kit.query(data_dir, "select distinct protocol_id, source, reason "
                               "from quality.delivery_holds") == \
        [("naft_evaluation", "binc", "blocking_finding")]
    summary = (data_dir.outbox / "quality" / "binc" / "2026-06-01" / "summary.md").read_text(
        "utf-8")
    assert "Deliveries held back (write-audit-publish)" in summary and "naft_evaluation" in summary


def test_a_file_with_a_high_share_of_quarantined_rows_holds_its_source(data_dir):
    from orchestration.quality import holds

    kit.write(data_dir, "zorgthuis_lists", "zorgthuis_2024-10-01_definitief.csv",
              [{"INSZ": "12345678901"}, {"INSZ": kit.insz(dt.date(2015, 1, 2))},
               {"INSZ": kit.insz(dt.date(2014, 6, 7))}])  # 1 of 3 rows quarantined
    kit.ingest(data_dir, "zorgthuis")
    kit.refresh(data_dir, DAY)
    with connect(data_dir) as con:
        reasons = holds.held_sources(con)
        zorgthuis = holds.reasons_for_protocol(con, load_registry().protocol("zorgthuis"))
        duo = holds.reasons_for_protocol(con, load_registry().protocol("duo_leerplicht"))
    assert [(h.source, h.reason) for h in reasons] == [("zorgthuis", "quarantine_share")]
    assert "1 of 3 rows quarantined" in zorgthuis[0].detail and duo == []


# ------------------------------------------------------------------------------ art. 19 GDPR


def test_a_correction_names_the_earlier_deliveries_that_carried_the_wrong_value_per_recipient(
        data_dir):
    name = "zorgthuis_2024-10-01_definitief.csv"
    kit.write(data_dir, "zorgthuis_lists", name,
              [{"Soort_lijst": "VOORLOPIG"}, {"INSZ": kit.insz(dt.date(2015, 1, 2))}])
    kit.ingest(data_dir, "zorgthuis")
    kit.refresh(data_dir, DAY)
    kit.report(data_dir, DAY)
    # a delivery after the quality step of that run carried the affected pupil
    with connect(data_dir) as con:
        con.execute("create schema if not exists audit")
        con.execute("create table audit.delivered_records (delivery_id varchar, "
                    "protocol_id varchar, file_id varchar, pupil_key varchar, "
                    "delivered_at timestamp)")
        affected = con.execute("select pupil_key from raw.zorgthuis_lists "
                               "order by _source_row").fetchone()[0]
        con.execute("insert into audit.delivered_records values ('d1', 'zorgthuis', "
                    "'verification_list', ?, now()::timestamp)", [affected])
    # Opgroeien corrects the list; the next refresh resolves the finding
    kit.write(data_dir, "zorgthuis_lists", name,
              [{}, {"INSZ": kit.insz(dt.date(2015, 1, 2))}])
    kit.ingest(data_dir, "zorgthuis")
    kit.refresh(data_dir, DAY + dt.timedelta(days=2))
    assert [f[1:3] for f in findings(data_dir, "list_kind_differs_from_file_name")] == \
        [("resolved", "corrected")]
    assert kit.query(data_dir, "select delivery_id, protocol_id, file_id, affected_records "
                               "from quality.finding_deliveries") == \
        [("d1", "zorgthuis", "verification_list", 1)]
    recipient = load_registry().protocol("zorgthuis").parties.recipient.name
    assert kit.query(data_dir, "select recipient, protocol_id, delivery_id, file_id, "
                               "affected_records from quality.correction_notices") == \
        [(recipient, "zorgthuis", "d1", "verification_list", 1)]
