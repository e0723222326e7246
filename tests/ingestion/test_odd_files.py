"""Odd files as an operator meets them on a bad day: line endings, files that cannot be read,
dates in another format, re-deliveries that would empty a slot, copies under a new name, files
without their header row. Real files, real DuckDB, real audit log."""

from __future__ import annotations

import logging

import duckdb
import pytest

from orchestration.foundations import pseudonymisation as pseudo
from orchestration.ingestion.inbox import ingest_source
from orchestration.ingestion.load import release_held
from orchestration.foundations import audit
from orchestration.foundations.warehouse import connect
from tests.ingestion.contract_files import SPECS, csv_line, file_name, row, text_column

ENDINGS = {"lf": ["\n"], "crlf": ["\r\n"], "cr": ["\r"], "mixed": ["\r\n", "\r", "\n"]}
WITH_TEXT = [ft for ft, s in SPECS.items() if text_column(s) is not None]
CHARACTERISTICS = SPECS["discimus_pupil_characteristics"]


@pytest.fixture(autouse=True)
def test_master_key(monkeypatch):
    monkeypatch.setenv(pseudo.ENV_MASTER_KEY, "test-master-key-for-unit-tests-only-0123456789")


def write(p, spec, lines: list[str], endings: list[str], name: str | None = None) -> str:
    """The lines joined by the endings in turn (and one after the last line)."""
    text = "".join(line + endings[i % len(endings)] for i, line in enumerate(lines))
    path = p.inbox_of(spec.source) / (name or file_name(spec))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path.name


def ingest(p, source):
    with connect(p, vault=True) as con:
        results = ingest_source(con, p, source)
    audit.record_ingestion(results, run_id="test")  # as the ingestion asset does
    return results


def query(p, sql, params=()):
    con = duckdb.connect(str(p.warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


# ------------------------------------------------------------------ 5. line endings

@pytest.mark.parametrize("endings", ENDINGS, ids=list(ENDINGS))
@pytest.mark.parametrize("file_type", WITH_TEXT)
def test_every_source_reads_lf_crlf_cr_and_mixed_endings_alike_with_a_quoted_line_break(
        data_dir, file_type, endings):
    spec = SPECS[file_type]
    column = text_column(spec)
    broken = "first line" + ENDINGS[endings][0] + "second; line"  # one value, one record
    rows = [row(spec, 0), row(spec, 1, text=broken), row(spec, 2)]
    name = write(data_dir, spec, [";".join(spec.headers)] + [csv_line(r) for r in rows],
                 ENDINGS[endings])
    [r] = ingest(data_dir, spec.source)
    assert (r.status, r.received, r.loaded, r.quarantined) == ("loaded", 3, 3, 0), r.message
    got = query(data_dir, f'select _source_row, "{column.name}" from raw.{file_type} '
                          f"order by _source_row")
    assert got == [(1, "t0"), (2, broken), (3, "t2")]
    assert not list(data_dir.scratch.glob("*")) if data_dir.scratch.exists() else True
    assert (data_dir.inbox_of(spec.source) / name).exists()  # loaded files stay in the inbox


def test_a_cr_only_file_with_a_bad_row_names_the_right_record(data_dir):
    lines = [";".join(CHARACTERISTICS.headers), csv_line(row(CHARACTERISTICS, 0)),
             "85073003328;2023-2024;X;N;N;J", csv_line(row(CHARACTERISTICS, 2))]
    write(data_dir, CHARACTERISTICS, lines, ["\r"])
    [r] = ingest(data_dir, "discimus")
    assert (r.received, r.loaded, r.quarantined) == (3, 2, 1)
    assert "row 2: invalid_flag (Thuistaal_niet_Nederlands)" in r.message


def test_a_file_that_cannot_be_read_leaves_the_inbox_whole_and_the_next_run_is_quiet(data_dir):
    spec = SPECS["duo_registrations"]
    text = ";".join(spec.headers) + "\r\n" + csv_line(row(spec, 0)) + "\r\n"
    path = data_dir.inbox_of("duo") / file_name(spec)
    path.parent.mkdir(parents=True)
    path.write_bytes(text.encode("utf-16"))
    [r] = ingest(data_dir, "duo")
    assert r.status == "rejected" and "(encoding)" in r.message
    assert r.received == r.loaded + r.quarantined == 1
    assert not path.exists()  # it no longer breaks its source on every run
    [kept] = (data_dir.quarantine_files / "duo").iterdir()
    assert kept.read_bytes() == text.encode("utf-16")
    assert ingest(data_dir, "duo") == []


# ------------------------------------------------------------------ 6. worse data never wins

def _good_characteristics(p, n=6):
    lines = [";".join(CHARACTERISTICS.headers)] + [csv_line(row(CHARACTERISTICS, i))
                                                   for i in range(n)]
    write(p, CHARACTERISTICS, lines, ["\n"])
    [r] = ingest(p, "discimus")
    assert (r.status, r.loaded) == ("loaded", n)


def test_a_file_with_iso_dates_is_rejected_whole_and_the_earlier_file_stays(data_dir):
    spec = SPECS["binc_naft_beneficiaries"]
    good = [";".join(spec.headers)] + [csv_line(row(spec, i)) for i in range(5)]
    write(data_dir, spec, good, ["\n"])
    [first] = ingest(data_dir, "binc")
    assert first.loaded == 5
    iso = [";".join(spec.headers)] + [
        csv_line([v if c.type != "date" else "2012-03-0" + str(i + 1)
                  for c, v in zip(spec.columns, row(spec, i))]) for i in range(5)]
    write(data_dir, spec, iso, ["\n"])
    [second] = ingest(data_dir, "binc")
    assert second.status == "rejected" and "(date_format)" in second.message
    assert "Geboortedatum (5 of 5 dates read as yyyy-mm-dd)" in second.message
    assert "2012-03-01" not in second.message
    assert (second.received, second.loaded, second.quarantined) == (5, 0, 5)
    assert query(data_dir, "select count(*) from raw.binc_naft_beneficiaries") == [(5,)]
    assert query(data_dir, "select status from ingest.files order by ingested_at") == [
        ("loaded",), ("rejected",)]


@pytest.mark.parametrize("kept_rows", [0, 2], ids=["header_only", "two_of_six"])
def test_a_redelivery_that_would_shrink_its_slot_is_held_and_the_earlier_file_stays(
        data_dir, kept_rows):
    _good_characteristics(data_dir)
    lines = [";".join(CHARACTERISTICS.headers)] + [csv_line(row(CHARACTERISTICS, i))
                                                   for i in range(kept_rows)]
    name = write(data_dir, CHARACTERISTICS, lines, ["\n"])
    [r] = ingest(data_dir, "discimus")
    assert r.status == "held" and "(shrink)" in r.message
    assert f"{kept_rows} of {kept_rows} rows would load" in r.message
    assert (r.received, r.loaded, r.quarantined) == (kept_rows, 0, kept_rows)
    assert query(data_dir, "select count(*) from raw.discimus_pupil_characteristics") == [(6,)]
    assert query(data_dir, "select status from ingest.files order by ingested_at") == [
        ("loaded",), ("held",)]
    assert not (data_dir.inbox_of("discimus") / name).exists()  # set aside, with the steward
    [entry] = [e for e in audit.entries(audit.log_path(data_dir))
               if e.event == "ingestion" and e.fields["status"] == "held"]
    assert entry.fields["loaded"] == 0

    # the steward releases it (a forced action with a reason): the next run loads it
    with connect(data_dir, vault=True) as con:
        release_held(con, data_dir, name, reason="school closed: the list is right")
    [again] = ingest(data_dir, "discimus")
    assert (again.status, again.loaded) == ("loaded", kept_rows)
    assert query(data_dir, "select count(*) from raw.discimus_pupil_characteristics") == [
        (kept_rows,)]
    assert any(e.event == "forced_action" for e in audit.entries(audit.log_path(data_dir)))


def test_a_header_only_first_file_of_a_slot_loads_nothing_and_is_not_held(data_dir):
    write(data_dir, CHARACTERISTICS, [";".join(CHARACTERISTICS.headers)], ["\n"])
    [r] = ingest(data_dir, "discimus")
    assert (r.status, r.received, r.loaded) == ("loaded", 0, 0)


def test_a_slightly_smaller_redelivery_replaces_the_earlier_file(data_dir):
    _good_characteristics(data_dir)
    lines = [";".join(CHARACTERISTICS.headers)] + [csv_line(row(CHARACTERISTICS, i))
                                                   for i in range(5)]
    write(data_dir, CHARACTERISTICS, lines, ["\n"])
    [r] = ingest(data_dir, "discimus")
    assert (r.status, r.loaded) == ("loaded", 5)


# ------------------------------------------------------------------ 7. copies under a new name

def test_a_copy_under_a_new_name_loads_once_but_is_recorded_and_audited(data_dir):
    _good_characteristics(data_dir)
    original = data_dir.inbox_of("discimus") / file_name(CHARACTERISTICS)
    copy = original.with_name("discimus_leerlingkenmerken_2024-2025.csv")
    copy.write_bytes(original.read_bytes())
    results = ingest(data_dir, "discimus")
    dup = next(r for r in results if r.file_name == copy.name)
    assert dup.status == "duplicate" and dup.new_copy
    assert f"same SHA-256 as {original.name}" in dup.message
    assert query(data_dir, "select count(*) from raw.discimus_pupil_characteristics") == [(6,)]
    files = query(data_dir, "select file_name, status, loaded_rows from ingest.files "
                            "order by ingested_at")
    assert files == [(original.name, "loaded", 6), (copy.name, "duplicate", 0)]
    entries = [e for e in audit.entries(audit.log_path(data_dir)) if e.event == "ingestion"]
    assert [(e.fields["file"], e.fields["status"]) for e in entries][-1] == (copy.name,
                                                                            "duplicate")
    # the next run sees both again: nothing new is recorded
    ingest(data_dir, "discimus")
    assert len(query(data_dir, "select * from ingest.files")) == 2
    assert len([e for e in audit.entries(audit.log_path(data_dir))
                if e.event == "ingestion"]) == len(entries)


# ------------------------------------------------------------------ 9. nothing personal leaks

def test_a_file_without_its_header_row_never_puts_the_first_record_in_messages(data_dir,
                                                                              caplog):
    spec = SPECS["duo_registrations"]
    person = ["FN-55", "Quaxelmans", "Zebedeus", "04-03-2012", "Vrombautdreef", "7", "2990",
              "Wuustwezel", "05KO", "Basisschool De Klimop", "02-10-2023"]
    write(data_dir, spec, [";".join(person), csv_line(row(spec, 1))], ["\n"])
    with caplog.at_level(logging.DEBUG):
        [r] = ingest(data_dir, "duo")
    assert r.status == "rejected" and "(header)" in r.message
    assert "no column of the contract in the first line" in r.message
    assert "11 columns received, 11 expected" in r.message
    stored = query(data_dir, "select message from ingest.files")[0][0]
    log_text = audit.log_path(data_dir).read_text() + caplog.text + stored + r.message
    for value in person[:5] + ["Wuustwezel"]:  # the short ones (7, 2990) also occur in counts
        assert value not in log_text, value
