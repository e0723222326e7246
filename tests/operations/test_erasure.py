"""Erasure is real: a planted synthetic person leaves no byte behind once every term has ended.

Real ingestion into real DuckDB files, then the retention run with a frozen clock, twice:
- 1 January 2043: the DUO landing file is long gone (3 months), and the person, born on
  4 March 2012, is past ``birth + 30 years`` for duo_leerplicht: the DUO and Rijksregister rows
  go, but the zorgthuis list (received 2026, kept 30 years) still needs the person;
- 1 January 2057: the zorgthuis list is past its term too: the person is forgotten, and no file
  under ``data/`` (warehouse, vault, their WAL, inbox, quarantine, audit log) holds the INSZ, the
  names, the street, the pupil key or the DUO record key any more.
A control child (born 2014, also in Discimus, which no term governs) must survive, so the scan is
shown to find what is there.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from orchestration.ingestion.inbox import ingest_source
from orchestration.foundations import audit
from orchestration.retention.erasure import run_retention
from orchestration.foundations.sources import BY_FILE_TYPE
from orchestration.foundations.warehouse import connect
from tests.operations.conftest import make_insz, write_inbox

pytestmark = pytest.mark.usefixtures("test_master_key")
PLANTED_BORN = dt.date(2012, 3, 4)
CONTROL_BORN = dt.date(2014, 5, 6)
PLANTED_INSZ = make_insz(PLANTED_BORN)
CONTROL_INSZ = make_insz(CONTROL_BORN)
SURNAME, FIRST_NAME, STREET = "Quaxelmansovic", "Zebedeus-Ortwin", "Vrombautdreefje"


def header(file_type: str) -> str:
    return ";".join(BY_FILE_TYPE[file_type].headers)


def plant_files(p):
    """The planted person in zorgthuis, DUO and Rijksregister files; the control child too."""
    write_inbox(p, "zorgthuis", "zorgthuis_2025-10-01_voorlopig.csv", "\n".join([
        header("zorgthuis_lists"),
        f"{PLANTED_INSZ};01/10/2025;VOORLOPIG;GEEN_MFC",
        f"{PLANTED_INSZ};31/02/2025;VOORLOPIG;GEEN_MFC",  # no such date: quarantined, INSZ in the vault
    ]) + "\n")
    write_inbox(p, "zorgthuis", "zorgthuis_2025-10-01_definitief.csv", "\n".join([
        header("zorgthuis_lists") + ";Opmerking",  # wrong header: rejected whole, copy kept
        f"{PLANTED_INSZ};01/10/2025;DEFINITIEF;GEEN_MFC;x",
    ]) + "\n")
    write_inbox(p, "duo", "duo_onderwijsdeelnemers_2025-10-15.csv", "\n".join([
        header("duo_registrations"),
        f"FN-PLANT-77;{SURNAME};{FIRST_NAME};04-03-2012;{STREET};7;2990;Wuustwezel;05KO;"
        "Basisschool De Klimop;15-10-2025",
        f"FN-PLANT-77;{SURNAME};{FIRST_NAME};04-03-2012;{STREET};7;2990;Wuustwezel;05KO;"
        "Basisschool De Klimop;31-13-2025",  # invalid reference date: quarantined with the names
        "FN-CTRL-12;Jansens;Lotte;06-05-2014;Kerkstraat;1;2990;Wuustwezel;05KO;"
        "Basisschool De Klimop;15-10-2025",
    ]) + "\n")
    write_inbox(p, "rijksregister", "rijksregister_leerplichtigen_2025-10-01.csv", "\n".join([
        header("rijksregister_children"),
        f"{PLANTED_INSZ};{SURNAME};{FIRST_NAME};04/03/2012;M;{STREET};7;2990;11057;01/10/2025",
        f"{CONTROL_INSZ};Jansens;Lotte;06/05/2014;V;Kerkstraat;1;2990;11057;01/10/2025",
    ]) + "\n")
    write_inbox(p, "discimus", "discimus_leerlingkenmerken_2025-2026.csv", "\n".join([
        header("discimus_pupil_characteristics"),
        f"{CONTROL_INSZ};2025-2026;N;N;J;N",
    ]) + "\n")


def ingest_everything(p):
    with connect(p, vault=True) as con:
        for source in ("zorgthuis", "duo", "rijksregister", "discimus"):
            results = ingest_source(con, p, source, run_id="test-run")  # audits each file
            assert all(r.status in ("loaded", "rejected") for r in results)


def traces(p, tokens: dict[str, str]) -> dict[str, list[str]]:
    """{token name: [files under data/ whose bytes contain it]}: WAL, DuckDB files, everything."""
    found: dict[str, list[str]] = {}
    for path in sorted(p.data.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for name, token in tokens.items():
            if token.encode() in data:
                found.setdefault(name, []).append(path.relative_to(p.data).as_posix())
    return found


def scalar(p, sql: str, params=()):
    con = duckdb.connect(str(p.warehouse), read_only=True)
    try:
        con.execute(f"attach '{p.vault}' as vault (read_only)")
        return con.execute(sql, list(params)).fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def planted(data_dir):
    plant_files(data_dir)
    ingest_everything(data_dir)
    pupil_key = scalar(data_dir, "select pupil_key from vault.insz_register where insz = ?",
                       [PLANTED_INSZ])
    record_key = scalar(data_dir, "select any_value(record_key) from "
                                  "vault.identity_duo_registrations where achternaam = ?",
                        [SURNAME])
    assert pupil_key and record_key
    tokens = {"insz": PLANTED_INSZ, "surname": SURNAME, "first_name": FIRST_NAME,
              "street": STREET, "pupil_key": pupil_key, "duo_record_key": record_key}
    return data_dir, tokens


def test_the_bytes_scan_finds_the_planted_person_before_retention(planted):
    p, tokens = planted
    found = traces(p, tokens)
    assert set(found) == set(tokens), found
    assert "restricted/vault.duckdb" in found["insz"]
    assert "warehouse/warehouse.duckdb" in found["pupil_key"]


def test_a_dry_run_lists_what_would_go_and_erases_nothing(planted):
    p, tokens = planted
    before = traces(p, tokens)
    outcome = run_retention(p, today=dt.date(2057, 1, 1), dry_run=True)
    kinds = {a.kind for a in outcome.plan.actions}
    assert kinds == {"erase_file", "erase_born_before", "delete_stored_file"}
    assert outcome.persons_to_forget == 1  # the planted person; the control stays in Discimus
    assert outcome.report is None
    assert traces(p, tokens) == before
    assert not [e for e in audit.entries(audit.log_path(p)) if e.event == "erasure"]


def test_after_every_term_no_file_under_data_holds_any_trace_of_the_planted_person(planted):
    p, tokens = planted

    # 2043: past birth + 30 years, but the zorgthuis list (received now) still needs the person
    first = run_retention(p, today=dt.date(2043, 1, 1), dry_run=False)
    assert first.report is not None and first.report.persons_forgotten == 0
    assert not (p.inbox_of("duo") / "duo_onderwijsdeelnemers_2025-10-15.csv").exists()
    assert scalar(p, "select count(*) from raw.rijksregister_children where pupil_key = ?",
                  [tokens["pupil_key"]]) == 0
    assert scalar(p, "select count(*) from vault.identity_duo_registrations") == 1  # control
    assert scalar(p, "select count(*) from vault.quarantine_rows where file_type = "
                     "'duo_registrations'") == 0
    assert scalar(p, "select count(*) from vault.insz_register where insz = ?",
                  [PLANTED_INSZ]) == 1  # zorgthuis still holds the person
    assert scalar(p, "select count(*) from raw.rijksregister_children") == 1  # the control child

    # 2057: the zorgthuis list is past its 30 years: the person is forgotten everywhere
    second = run_retention(p, today=dt.date(2057, 1, 1), dry_run=False)
    assert second.report.persons_forgotten == 1
    assert set(second.report.rebuilt) == {"warehouse.duckdb", "vault.duckdb"}
    assert second.report.bytes_verified
    assert traces(p, tokens) == {}

    # the control child is still there, and the scan sees it in the rebuilt vault's bytes
    assert scalar(p, "select count(*) from vault.insz_register where insz = ?",
                  [CONTROL_INSZ]) == 1
    assert "restricted/vault.duckdb" in traces(p, {"control": CONTROL_INSZ})["control"]
    assert not list(p.restricted.glob("*.wal")) and not list(p.warehouse_dir.glob("*.wal"))

    # the records of the erased files stay, marked erased, without a personal value
    statuses = dict(duckdb.connect(str(p.warehouse), read_only=True).execute(
        "select file_name, status from ingest.files where file_type = 'zorgthuis_lists'"
    ).fetchall())
    assert set(statuses.values()) == {"erased"}

    # the audit trail tells what was erased, as counts, and its chain holds
    erasures = [e for e in audit.entries(audit.log_path(p)) if e.event == "erasure"]
    assert any(e.fields["action"] == "forget" and e.fields["counts"]["persons_forgotten"] == 1
               for e in erasures)
    assert audit.verify(audit.log_path(p)).ok


def test_rerunning_retention_after_the_erasure_changes_nothing(planted):
    p, _ = planted
    run_retention(p, today=dt.date(2057, 1, 1), dry_run=False)
    again = run_retention(p, today=dt.date(2057, 1, 1), dry_run=False)
    assert [a for a in again.plan.actions] == []
    assert again.report.rebuilt == [] and again.report.persons_forgotten == 0


@pytest.mark.integration
def test_the_ingestion_asset_records_each_file_it_takes_in_the_audit_trail(data_dir):
    import dagster as dg

    from orchestration.ingestion.assets import source_assets

    plant_files(data_dir)
    [zorgthuis] = [a for a in source_assets if a.op.name == "ingest_zorgthuis"]
    result = dg.materialize([zorgthuis], partition_key="2025-26",
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success
    entries = [e for e in audit.entries(audit.log_path(data_dir)) if e.event == "ingestion"]
    assert sorted((e.fields["file"], e.fields["status"]) for e in entries) == [
        ("zorgthuis_2025-10-01_definitief.csv", "rejected"),
        ("zorgthuis_2025-10-01_voorlopig.csv", "loaded")]
    loaded = next(e for e in entries if e.fields["status"] == "loaded")
    assert (loaded.fields["received"], loaded.fields["loaded"], loaded.fields["quarantined"]) \
        == (2, 1, 1)
    assert loaded.fields["run_id"] == result.run_id
    assert PLANTED_INSZ not in audit.log_path(data_dir).read_text()


def test_the_retention_job_marks_the_raw_partitions_it_changed_as_materialised(planted):
    import dagster as dg

    from orchestration.retention.jobs import retention_job

    p, _ = planted
    result = retention_job.execute_in_process(
        run_config={"ops": {"apply_retention": {"config": {"today": "2057-01-01",
                                                           "dry_run": False}}}},
        instance=dg.DagsterInstance.ephemeral())
    assert result.success
    changed = {(e.asset_key.to_user_string(), e.partition)
               for e in result.get_asset_materialization_events()}
    assert changed == {("raw/zorgthuis_lists", "2025-26"), ("raw/duo_registrations", "2025-26"),
                       ("raw/rijksregister_children", "2025-26")}


def test_the_protocol_pseudonyms_of_a_forgotten_person_leave_the_delivery_tables(planted):
    from orchestration.deliveries.pseudonyms import pseudonym, scheme_of
    from orchestration.protocols import load_registry

    p, tokens = planted
    registry = load_registry()
    okan = scheme_of(registry.protocol("antwerpen_okan"))
    social = scheme_of(registry.protocol("vtc_2015_34"))
    person_code = pseudonym(okan, tokens["pupil_key"])
    year_key = pseudonym(social, tokens["pupil_key"], "2025-26")
    other_code = pseudonym(okan, "someone-else")
    with connect(p) as con:  # as if earlier deliveries had put the person in their tables
        con.execute("create schema if not exists deliveries")
        con.execute("create table deliveries.antwerpen_okan__first_okan_enrolment "
                    "(person_code varchar, school_year varchar)")
        con.execute("insert into deliveries.antwerpen_okan__first_okan_enrolment values "
                    "(?, '2025-26'), (?, '2025-26')", [person_code, other_code])
        con.execute("create table deliveries.vtc_2015_34__social_planning "
                    "(school_year_key varchar, school_year varchar)")
        con.execute("insert into deliveries.vtc_2015_34__social_planning values (?, '2025-26')",
                    [year_key])
    outcome = run_retention(p, today=dt.date(2057, 1, 1), dry_run=False)
    assert outcome.report.pseudonym_rows == 2
    assert scalar(p, "select count(*) from deliveries.antwerpen_okan__first_okan_enrolment") == 1
    assert traces(p, {"person_code": person_code, "school_year_key": year_key}) == {}


@pytest.mark.integration  # ingestion, then retention over the warehouse and the vault
def test_a_person_left_only_in_a_quarantined_row_is_kept_until_that_rows_term(data_dir):
    only_quarantined = make_insz(dt.date(2013, 7, 8))
    write_inbox(data_dir, "zorgthuis", "zorgthuis_2025-10-01_voorlopig.csv", "\n".join([
        header("zorgthuis_lists"),
        f"{PLANTED_INSZ};01/10/2025;VOORLOPIG;GEEN_MFC",
        f"{only_quarantined};31/02/2025;VOORLOPIG;GEEN_MFC",  # a valid INSZ in a quarantined row
    ]) + "\n")
    ingest_everything(data_dir)
    before = run_retention(data_dir, today=dt.date(2030, 1, 1), dry_run=True)
    assert before.persons_to_forget == 0
    during = run_retention(data_dir, today=dt.date(2030, 1, 1), dry_run=False)
    assert during.report.persons_forgotten == 0 and during.report.rebuilt == []
    assert scalar(data_dir, "select count(*) from vault.insz_register where insz = ?",
                  [only_quarantined]) == 1
    after = run_retention(data_dir, today=dt.date(2057, 1, 1), dry_run=False)
    assert after.report.persons_forgotten == 2 and after.report.bytes_verified
    assert traces(data_dir, {"quarantined": only_quarantined}) == {}


def test_once_a_persons_rows_are_erased_no_file_at_rest_holds_them(planted):
    """2043: the planted person's DUO and Rijksregister rows are past birth + 30 years. The
    Rijksregister landing file still holds the control child (kept until 2044), and its landing
    copy used to stay in data/inbox/ with the erased person in it. Every resting place counts:
    the landing files, the quarantine and refused copies, the scratch copies and spill files a
    dead run left behind."""
    import os

    p, tokens = planted
    person = {"surname": tokens["surname"], "street": tokens["street"],
              "first_name": tokens["first_name"]}
    stale = p.scratch / ".0123456789abcdef.lf.csv"  # as a run killed mid-load leaves it
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text(f"{PLANTED_INSZ};{SURNAME};{FIRST_NAME};04/03/2012;M;{STREET};7\n")
    spill = p.tmp / "duckdb" / "duckdb_temp_storage-0.tmp"
    spill.parent.mkdir(parents=True, exist_ok=True)
    spill.write_text(f"{SURNAME}|{STREET}")
    old = dt.datetime(2030, 1, 1).timestamp()
    for f in (stale, spill):
        os.utime(f, (old, old))
    refused = p.refused_of("rijksregister") / "abcdef012345_rijksregister_leerplichtigen_x.csv"
    refused.parent.mkdir(parents=True, exist_ok=True)
    refused.write_text(f"{SURNAME};{STREET}\n")  # refused files go after 30 days

    outcome = run_retention(p, today=dt.date(2043, 1, 1), dry_run=False)

    assert outcome.report.copies_deleted >= 3  # the landing file, the scratch and spill files
    assert traces(p, person) == {}, traces(p, person)
    # the control child's rows stay in the warehouse: only the copy of the file went
    assert scalar(p, "select count(*) from raw.rijksregister_children") == 1
    # the INSZ is still where the zorgthuis lists (kept 30 years after receipt) need it
    assert set(traces(p, {"insz": PLANTED_INSZ})["insz"]) == {
        "inbox/zorgthuis/zorgthuis_2025-10-01_voorlopig.csv", "restricted/vault.duckdb",
        next(f.relative_to(p.data).as_posix() for f in p.quarantine_files.rglob("*.csv"))}
    [entry] = [e for e in audit.entries(audit.log_path(p))
               if e.event == "erasure" and e.fields["action"] == "delete_resting_copies"]
    assert entry.fields["counts"]["copies_deleted"] == outcome.report.copies_deleted
