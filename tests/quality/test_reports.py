"""Reports to the sources: each source's own record references only, nothing of another source,
no pupil key, INSZ or name; the yearly Antwerp summary counts findings."""

from __future__ import annotations

import csv
import datetime as dt
import re

import pytest

from orchestration.quality import reports
from orchestration.foundations.warehouse import connect
from tests.privacy import insz_in_files
from tests.quality import kit

DAY = dt.date(2024, 11, 4)
HEX_KEY = re.compile(r"\b[0-9a-f]{32,}\b")


pytestmark = pytest.mark.usefixtures("test_master_key")


def write_reports(p, today=DAY):
    kit.refresh(p, today)
    with connect(p) as con:
        return reports.write_all(con, p, today)


def read_csv(folder):
    with (folder / "affected_records.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def all_text(folder):
    return "\n".join(f.read_text(encoding="utf-8") for f in folder.rglob("*") if f.is_file())


def test_the_report_to_duo_identifies_records_by_duo_file_and_row_only(data_dir):
    kit.write(data_dir, "duo_registrations", "duo_onderwijsdeelnemers_2024-10-15.csv",
              [{}, {}, {"Fictief_nummer": "F2", "Achternaam": "Janssens", "BRIN": "05K1"}])
    kit.ingest(data_dir, "duo")
    written = write_reports(data_dir)
    folder = written["duo"]
    assert folder == data_dir.outbox / "quality" / "duo" / DAY.isoformat()
    rows = read_csv(folder)
    assert sorted((r["rule"], r["file"], r["row"], r["own_record_key"]) for r in rows) == [
        ("brin_format_invalid", "duo_onderwijsdeelnemers_2024-10-15.csv", "3", ""),
        ("duplicate_row", "duo_onderwijsdeelnemers_2024-10-15.csv", "2", ""),
    ]
    text = all_text(folder)
    assert "duo_leerplicht" in text and "P3M" in text and "P6M" in text
    assert not HEX_KEY.search(text), "a pupil or record key reached a report"
    assert insz_in_files(folder) == {}
    for personal in ("F1", "F2", "Peeters", "Janssens", "Jan", "Kerkstraat"):
        assert not re.search(rf"\b{personal}\b", text), personal


def test_the_report_to_discimus_holds_its_inschrijving_id_and_nothing_of_led(data_dir):
    kit.write(data_dir, "discimus_enrolments", "discimus_inschrijvingen_2024-2025.csv",
              [{"Inschrijving_id": "E7", "Hoofdstructuur": "999"},
               {"Inschrijving_id": "E8", "INSZ": kit.insz(dt.date(2012, 1, 2)),
                "Geboortedatum": "02/01/2012"}])
    kit.write(data_dir, "led_certificates", "led_bewijzen_2024-2025.csv",
              [{"Bewijsreferte": "LEDREF9", "Status": "7"}])
    kit.ingest(data_dir, "discimus", "led")
    written = write_reports(data_dir)
    discimus, led = all_text(written["discimus"]), all_text(written["led"])
    assert [(r["rule"], r["row"], r["own_record_key"]) for r in read_csv(written["discimus"])] \
        == [("unknown_code_hoofdstructuur", "1", "Inschrijving_id=E7")]
    assert [(r["rule"], r["row"], r["own_record_key"]) for r in read_csv(written["led"])] \
        == [("unknown_code_status", "1", "Bewijsreferte=LEDREF9")]
    assert "LEDREF9" not in discimus and "led_bewijzen" not in discimus
    assert "Bewijsreferte" not in discimus
    assert "E7" not in led and "discimus_inschrijvingen" not in led
    for text in (discimus, led):
        assert not HEX_KEY.search(text)
    assert insz_in_files(data_dir.outbox) == {}


def test_a_cross_source_finding_reaches_only_the_source_it_is_about(data_dir):
    kit.write(data_dir, "discimus_enrolments", "discimus_inschrijvingen_2024-2025.csv",
              [{"Inschrijving_id": "E1"}])
    kit.write(data_dir, "binc_naft_beneficiaries", "binc_naft_begunstigden_2024-2025.csv",
              [{"Traject_id": "T9"}])  # this young person has no enrolment in 2024-25
    kit.ingest(data_dir, "discimus", "binc")
    written = write_reports(data_dir)
    assert written["discimus"] is None  # nothing wrong with Discimus' own data
    rows = read_csv(written["binc"])
    assert ("beneficiary_not_enrolled", "Traject_id=T9") in \
        {(r["rule"], r["own_record_key"]) for r in rows}
    text = all_text(written["binc"])
    assert "E1" not in text and "Inschrijving_id" not in text and "discimus" not in text


def test_a_source_without_unresolved_findings_gets_no_report(data_dir):
    name = "zorgthuis_2024-10-01_definitief.csv"
    kit.write(data_dir, "zorgthuis_lists", name, [{"Soort_lijst": "VOORLOPIG"}])
    kit.ingest(data_dir, "zorgthuis")
    assert write_reports(data_dir)["zorgthuis"] is not None
    kit.write(data_dir, "zorgthuis_lists", name, [{}])  # corrected the same day
    kit.ingest(data_dir, "zorgthuis")
    written = write_reports(data_dir)
    assert written["zorgthuis"] is None
    assert not (data_dir.outbox / "quality" / "zorgthuis" / DAY.isoformat()).exists()


def test_the_yearly_antwerp_summary_counts_findings_for_the_follow_up_meeting(data_dir):
    kit.write(data_dir, "discimus_enrolments", "discimus_inschrijvingen_2024-2025.csv",
              [{"Hoofdstructuur": "999"}, {"Inschrijving_id": "E2", "Leerjaar": "9",
                                            "INSZ": kit.insz(dt.date(2012, 1, 2)),
                                            "Geboortedatum": "02/01/2012"}])
    kit.ingest(data_dir, "discimus")
    write_reports(data_dir)
    summary = data_dir.outbox / "quality" / "antwerpen_okan" / "yearly" / "2024" / \
        "quality_summary.md"
    text = summary.read_text(encoding="utf-8")
    assert "yearly follow-up meeting" in text
    assert "| discimus | erroneous | 3 | 3 | 3 | 0 | 0 |" in text  # code, study year, graad
    assert "E2" not in text and not HEX_KEY.search(text)
