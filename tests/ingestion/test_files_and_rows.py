"""Governed ingestion of single files: headers, encodings, CSV edge cases, quarantine, dedupe."""

from __future__ import annotations

import codecs

import pytest

from orchestration.foundations import pseudonymisation as pseudo
from orchestration.ingestion.files import FileRejected, check_header, read_envelope
from orchestration.ingestion.inbox import ingest_source
from orchestration.foundations.sources import BY_FILE_TYPE
from orchestration.foundations.warehouse import connect

CHARACTERISTICS = BY_FILE_TYPE["discimus_pupil_characteristics"]
DUO = BY_FILE_TYPE["duo_registrations"]
HEADER = ";".join(CHARACTERISTICS.headers)
DUO_HEADER = ";".join(DUO.headers)


pytestmark = pytest.mark.usefixtures("test_master_key")


def write(p, source, name, text, bom=False, encoding="utf-8"):
    path = p.inbox_of(source) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode(encoding))
    return path


def ingest(p, source="discimus"):
    with connect(p, vault=True) as con:
        return ingest_source(con, p, source)


def test_a_byte_order_mark_is_read_and_the_header_still_matches(data_dir):
    path = write(data_dir, "discimus", "discimus_leerlingkenmerken_2023-2024.csv",
                 HEADER + "\n85073003328;2023-2024;J;N;N;J\n", bom=True)
    env = read_envelope(path)
    assert env.has_bom and env.header == CHARACTERISTICS.headers and env.records == 1
    [result] = ingest(data_dir)
    assert (result.status, result.loaded, result.quarantined) == ("loaded", 1, 0)


def test_a_wrong_header_rejects_the_whole_file_with_a_clear_message(data_dir):
    write(data_dir, "discimus", "discimus_leerlingkenmerken_2023-2024.csv",
          HEADER + ";Opmerking\n85073003328;2023-2024;J;N;N;J;x\n")
    [result] = ingest(data_dir)
    assert result.status == "rejected"
    assert "discimus_leerlingkenmerken_2023-2024.csv" in result.message
    assert "unexpected columns at positions 7 (7 columns received, 6 expected" in result.message
    assert "Opmerking" not in result.message  # received headers are never quoted
    assert (result.received, result.loaded, result.quarantined) == (1, 0, 1)
    kept = list((data_dir.quarantine_files / "discimus").iterdir())
    assert len(kept) == 1 and kept[0].name.endswith("discimus_leerlingkenmerken_2023-2024.csv")
    assert not list(data_dir.inbox_of("discimus").iterdir())  # it left the inbox


def test_columns_in_another_order_are_rejected():
    headers = CHARACTERISTICS.headers
    with pytest.raises(FileRejected, match="out of order, repeated or padded with spaces at "
                                           "positions 1, 2 "):
        check_header(CHARACTERISTICS, "f.csv", [headers[1], headers[0], *headers[2:]])


def test_a_file_that_is_not_utf8_is_rejected_naming_the_byte(data_dir):
    write(data_dir, "duo", "duo_onderwijsdeelnemers_2024-10-15.csv",
          DUO_HEADER + "\nF1;Gölçük;Ayşe;01-02-2012;Straat;1;2990;Wuustwezel;05KO;X;15-10-2024\n",
          encoding="latin-1" if False else "cp1254")
    [result] = ingest(data_dir, "duo")
    assert result.status == "rejected" and "not UTF-8 at byte" in result.message


def test_quotes_semicolons_and_names_with_diacritics_survive(data_dir):
    rows = ['F1;"D\'Hondt";"Jan; Piet";01-02-2012;"Kerkstraat ""Oud""";1;2990;Wuustwezel;05KO;'
            '"School ""De Linde""; Breda";15-10-2024',
            "F2;Gölçük;Ayşe;03-04-2013;Çarşı;2A;2990;Wuustwezel;07NU00;X;15-10-2024"]
    write(data_dir, "duo", "duo_onderwijsdeelnemers_2024-10-15.csv",
          DUO_HEADER + "\n" + "\n".join(rows) + "\n", bom=True)
    [result] = ingest(data_dir, "duo")
    assert (result.loaded, result.quarantined) == (2, 0)
    with connect(data_dir, vault=True) as con:
        names = con.execute("select achternaam, voornamen, straat from "
                            "vault.identity_duo_registrations order by _source_row").fetchall()
        school = con.execute("select instellingsnaam from raw.duo_registrations "
                             "order by _source_row").fetchall()
        raw_cols = [r[0] for r in con.execute("describe raw.duo_registrations").fetchall()]
    assert names == [("D'Hondt", "Jan; Piet", 'Kerkstraat "Oud"'), ("Gölçük", "Ayşe", "Çarşı")]
    assert school[0][0] == 'School "De Linde"; Breda'
    assert not {"achternaam", "voornamen", "straat", "huisnummer", "fictief_nummer"} & set(raw_cols)
    assert "record_key" in raw_cols


def test_bad_rows_are_quarantined_with_file_row_and_rule_and_nothing_is_lost(data_dir):
    write(data_dir, "discimus", "discimus_leerlingkenmerken_2023-2024.csv", HEADER + "\n" + "\n".join([
        "85073003328;2023-2024;J;N;N;J",       # 1 ok
        "12345678901;2023-2024;J;N;N;J",       # 2 INSZ checksum
        "98.47.28-997.65;2023-2024;X;N;N;J",   # 3 flag X
        "17073003384;2023-2024;N;N",           # 4 too few fields
        ";2023-2024;N;N;N;N",                  # 5 INSZ missing
        "17073003384;2023-24;N;N;N;N",         # 6 school year form
        "17073003384;2023-2024;N;N;N;N",       # 7 ok
    ]) + "\n")
    [r] = ingest(data_dir)
    assert (r.received, r.loaded, r.quarantined) == (7, 2, 5)
    with connect(data_dir) as con:
        rows = con.execute("select source_row, rule, column_name from ingest.quarantine "
                           "order by source_row").fetchall()
        loaded_rows = [x[0] for x in con.execute(
            "select _source_row from raw.discimus_pupil_characteristics order by 1").fetchall()]
    assert rows == [(2, "invalid_insz", "INSZ"), (3, "invalid_flag", "Thuistaal_niet_Nederlands"),
                    (4, "malformed_row", None), (5, "missing_required", "INSZ"),
                    (6, "invalid_school_year", "Schooljaar")]
    assert loaded_rows == [1, 7]
    assert "discimus_leerlingkenmerken_2023-2024.csv row 2: invalid_insz (INSZ)" in r.message
    assert "12345678901" not in r.message


def test_the_same_file_twice_loads_once(data_dir):
    write(data_dir, "discimus", "discimus_leerlingkenmerken_2023-2024.csv",
          HEADER + "\n85073003328;2023-2024;J;N;N;J\n")
    [first] = ingest(data_dir)
    [second] = ingest(data_dir)
    assert first.status == "loaded" and second.status == "duplicate"
    with connect(data_dir) as con:
        assert con.execute("select count(*) from raw.discimus_pupil_characteristics").fetchone()[0] == 1


def test_a_redelivery_of_the_same_slot_supersedes_the_earlier_file(data_dir):
    path = write(data_dir, "discimus", "discimus_leerlingkenmerken_2023-2024.csv",
                 HEADER + "\n85073003328;2023-2024;J;N;N;J\n")
    ingest(data_dir)
    path.write_text(HEADER + "\n85073003328;2023-2024;N;N;N;J\n17073003384;2023-2024;N;N;N;N\n")
    [r] = ingest(data_dir)
    assert r.status == "loaded" and r.loaded == 2
    with connect(data_dir) as con:
        assert con.execute("select count(*) from raw.discimus_pupil_characteristics").fetchone()[0] == 2
        statuses = sorted(x[0] for x in con.execute("select status from ingest.files").fetchall())
    assert statuses == ["loaded", "superseded"]


def test_blank_lines_inside_a_file_reject_it_because_row_numbers_would_lie(data_dir):
    write(data_dir, "discimus", "discimus_leerlingkenmerken_2023-2024.csv",
          HEADER + "\n85073003328;2023-2024;J;N;N;J\n\n17073003384;2023-2024;N;N;N;N\n")
    [r] = ingest(data_dir)
    assert r.status == "rejected" and "1 blank line(s) between records" in r.message
    assert (r.received, r.loaded, r.quarantined) == (2, 0, 2)


def test_blank_lines_at_the_end_of_a_file_are_harmless(data_dir):
    write(data_dir, "discimus", "discimus_leerlingkenmerken_2023-2024.csv",
          HEADER + "\n85073003328;2023-2024;J;N;N;J\n17073003384;2023-2024;N;N;N;N\n\n\n")
    [r] = ingest(data_dir)
    assert (r.status, r.received, r.loaded) == ("loaded", 2, 2)


def test_an_unknown_file_in_an_inbox_is_refused_with_the_expected_names(data_dir):
    write(data_dir, "discimus", "leerlingen_export.csv", "a;b\n1;2\n")
    [r] = ingest(data_dir)
    assert r.status == "rejected" and "not a known discimus file type" in r.message


def test_the_development_key_refuses_files_that_are_not_the_sample(data_dir, monkeypatch):
    monkeypatch.delenv(pseudo.ENV_MASTER_KEY)
    monkeypatch.delenv(pseudo.ENV_ALLOW_DEVELOPMENT_KEY, raising=False)
    write(data_dir, "discimus", "discimus_leerlingkenmerken_2023-2024.csv",
          HEADER + "\n85073003328;2023-2024;J;N;N;J\n")
    from orchestration.ingestion.load import DevelopmentKeyRefused
    with pytest.raises(DevelopmentKeyRefused, match="not part of the synthetic sample"):
        ingest(data_dir)
    monkeypatch.setenv(pseudo.ENV_ALLOW_DEVELOPMENT_KEY, "1")
    [r] = ingest(data_dir)
    assert r.status == "loaded"


def test_the_insz_never_reaches_the_warehouse_only_the_vault(data_dir):
    write(data_dir, "discimus", "discimus_leerlingkenmerken_2023-2024.csv",
          HEADER + "\n85073003328;2023-2024;J;N;N;J\n12345678901;2023-2024;J;N;N;J\n")
    ingest(data_dir)
    warehouse_bytes = data_dir.warehouse.read_bytes()
    assert b"85073003328" not in warehouse_bytes and b"12345678901" not in warehouse_bytes
    with connect(data_dir, vault=True) as con:
        assert con.execute("select count(*) from vault.insz_register").fetchone()[0] == 1


def test_a_quote_that_never_closes_makes_one_malformed_record_of_the_rest_not_a_crash(data_dir):
    write(data_dir, "discimus", "discimus_leerlingkenmerken_2023-2024.csv",
          HEADER + '\n85073003328;2023-2024;J;N;N;J\n"17073003384;2023-2024;N;N;N;N\n'
          '85073003328;2023-2024;J;N;N;J\n')
    [r] = ingest(data_dir)
    assert (r.status, r.received, r.loaded, r.quarantined) == ("loaded", 2, 1, 1)
    assert "row 2: malformed_row" in r.message and "17073003384" not in r.message


def test_a_birth_date_that_contradicts_the_insz_is_recorded_as_a_finding_without_values(data_dir):
    headers = BY_FILE_TYPE["binc_naft_beneficiaries"].headers
    empty_rest = ";" * (len(headers) - 7)  # the optional columns after the residence, left empty
    write(data_dir, "binc", "binc_naft_begunstigden_2023-2024.csv", ";".join(headers) + "\n"
          + "\n".join(row + empty_rest for row in [
              "T1;85073003328;M;30/07/1985;dut;BEL;11002",      # agrees
              "T2;98472899765;M;28/07/1998;dut;BEL;11002",      # BIS (+40), agrees
              "T3;17073003384;V;31/07/2017;dut;BEL;11002",      # day differs
              "T4;00000100166;M;01/01/2000;dut;BEL;11002",      # INSZ date unknown: not checked
          ]) + "\n")
    [r] = ingest(data_dir, "binc")
    assert (r.loaded, r.quarantined) == (4, 0)
    with connect(data_dir) as con:
        rows = con.execute("select source_row, rule, column_name, length(pupil_key) "
                           "from ingest.row_findings").fetchall()
    assert rows == [(3, "insz_birth_date_mismatch", "Geboortedatum", 64)]


def test_insz_validation_gives_exactly_the_answers_of_stdnum_ssn():
    """``is_valid_insz`` reorders python-stdnum's NN and BIS checks for speed; it must agree
    with ``stdnum.be.ssn.is_valid`` on national numbers, BIS numbers and garbage alike."""
    import random

    from stdnum.be import ssn

    import numpy as np

    from orchestration.ingestion.load import is_valid_insz
    from tools.synthetic.insz import make

    gen = np.random.default_rng(20261122)
    n = 6_000
    birth = np.datetime64("1995-01-01") + gen.integers(0, 12_000, n).astype("timedelta64[D]")
    valid = make(birth, gen.random(n) < 0.5, gen.choice([0, 20, 40], n), gen)
    rng = random.Random(20261122)
    numbers = list(valid) + [f"{rng.randrange(10 ** 11):011d}" for _ in range(20_000)]
    # a valid number with its check digits shifted: invalid
    numbers += [v[:9] + f"{(int(v[9:]) + 1) % 100:02d}" for v in valid[:2_000]]
    numbers += ["85073003328", "98472899765", "", "8507300332", "850730033281", "85.07.30-033.28"]
    # near misses: valid numbers with one digit changed
    numbers += [n[:i] + str((int(n[i]) + 1) % 10) + n[i + 1:]
                for n in ("85073003328", "98472899765") for i in range(11)]
    assert sum(map(ssn.is_valid, numbers)) >= 0.9 * n  # valid NN and BIS numbers are covered
    assert [is_valid_insz(n) for n in numbers] == [ssn.is_valid(n) for n in numbers]
