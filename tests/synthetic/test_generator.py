"""The synthetic source generator, on a small population (500 children) in a temporary folder.

What must hold: every file type of the contract is produced with its exact header; every INSZ is
valid for python-stdnum and agrees with the birth date next to it; the same seed gives the same
bytes; DUO files carry no INSZ; the clean set has no duplicate rows; and an injected defect listed
in the ground truth really sits in the row and column the ground truth names.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from pathlib import Path

import pytest
from stdnum.be import ssn
from stdnum.nl import brin

from orchestration.foundations import calendar
from orchestration.foundations.sources import SOURCE_FILES, identify
from tools.synthetic import insz
from tools.synthetic.generator import generate

pytestmark = pytest.mark.slow  # generates whole synthetic populations, several times

N, SEED = 500, 7


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    return rows[0], rows[1:]


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/*.csv") if not p.parent.name.startswith("_"))


def _digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate(N, SEED, out)
    return out


@pytest.fixture(scope="module")
def defective(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("defects")
    generate(N, SEED, out, defect_rate=0.02)
    return out


def test_every_file_type_is_produced_with_the_exact_header(clean):
    seen = {}
    for path in _files(clean):
        found = identify(path.name)
        assert found is not None, f"{path.name} matches no file type"
        spec = found[0]
        assert path.parent.name == spec.source
        header, _ = _read(path)
        assert header == spec.headers, path.name
        seen[spec.file_type] = seen.get(spec.file_type, 0) + 1
    assert set(seen) == {f.file_type for f in SOURCE_FILES}
    assert seen["discimus_enrolments"] == 11 and seen["duo_registrations"] == 9


def test_all_insz_are_valid_and_agree_with_the_birth_date(clean):
    checked = 0
    for path in _files(clean):
        spec = identify(path.name)[0]
        header, rows = _read(path)
        if "INSZ" not in header:
            continue
        i = header.index("INSZ")
        g = header.index("Geboortedatum") if "Geboortedatum" in header else None
        for row in rows:
            assert ssn.is_valid(row[i]), (path.name, row[i])
            if g is not None:
                born = dt.datetime.strptime(row[g], spec.date_format).date()
                assert ssn.get_birth_date(row[i]) == born, (path.name, row[i])
            checked += 1
    assert checked > 10_000


def test_bis_numbers_are_present_and_valid(clean):
    header, rows = _read(next((clean / "discimus").glob("discimus_inschrijvingen_2023-2024.csv")))
    bis = {r[1] for r in rows if int(r[1][2:4]) > 12}
    assert bis and all(ssn.guess_type(x) == "bis" for x in bis)


def test_the_same_seed_gives_the_same_bytes(clean, tmp_path):
    again = tmp_path / "again"
    generate(N, SEED, again)
    assert _digest(again) == _digest(clean)


def test_a_different_seed_gives_different_data(clean, tmp_path):
    other = tmp_path / "other"
    generate(N, SEED + 1, other)
    assert _digest(other) != _digest(clean)


def test_duo_has_no_insz_but_valid_brin_and_a_ground_truth(clean):
    links = {}
    _, truth = _read(clean / "_ground_truth" / "duo_links.csv")
    for peil, fictief, number in truth:
        links[(peil, fictief)] = number
    duo = sorted((clean / "duo").glob("*.csv"))
    assert duo
    for path in duo:
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # DUO exports carry a BOM
        header, rows = _read(path)
        assert "INSZ" not in header and not any(ssn.is_valid(v) for r in rows for v in r)
        peil = identify(path.name)[1]["reference_date"]
        for row in rows:
            assert brin.is_valid(row[header.index("BRIN")])
            born = dt.datetime.strptime(row[header.index("Geboortedatum")], "%d-%m-%Y").date()
            assert calendar.is_compulsory_school_age(born, dt.date.fromisoformat(peil))
            assert ssn.get_birth_date(links[(peil, row[0])]) == born


def test_the_clean_set_has_no_duplicate_rows_and_dates_inside_the_school_year(clean):
    for path in _files(clean):
        header, rows = _read(path)
        assert len({tuple(r) for r in rows}) == len(rows), path.name
        if "Begindatum" in header and "Schooljaar" in header:
            b, e, s = header.index("Begindatum"), header.index("Einddatum"), header.index("Schooljaar")
            for row in rows:
                y = int(row[s][:4])
                begin = dt.datetime.strptime(row[b], "%d/%m/%Y").date()
                assert dt.date(y, 9, 1) <= begin <= dt.date(y + 1, 8, 31)
                if row[e]:
                    end = dt.datetime.strptime(row[e], "%d/%m/%Y").date()
                    assert begin <= end <= dt.date(y + 1, 8, 31)


def test_enrolments_point_at_branches_of_the_register_of_that_year(clean):
    branches = set()
    for path in (clean / "school_register").glob("vestigingsplaatsen_*.csv"):
        _, rows = _read(path)
        branches |= {(r[0], r[1], r[2]) for r in rows}
    for path in (clean / "discimus").glob("discimus_inschrijvingen_*.csv"):
        header, rows = _read(path)
        i, v, s = (header.index(c) for c in ("Instellingsnummer", "Vestigingsplaats", "Schooljaar"))
        assert all((r[i], r[v], r[s]) in branches for r in rows), path.name


def test_the_sha256sums_cover_every_source_file(clean):
    lines = (clean / "SHA256SUMS").read_text().splitlines()
    listed = {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in lines}
    assert set(listed) == {p.relative_to(clean).as_posix() for p in _files(clean)}
    for rel, digest in listed.items():
        assert hashlib.sha256((clean / rel).read_bytes()).hexdigest() == digest


def test_the_checksum_corruption_is_invalid_for_both_centuries():
    for good in ("85073003328", "17073003384", "01490700185", "00000100195"):
        assert ssn.is_valid(good)
        assert not ssn.is_valid(insz.corrupt_checksum(good))


# ------------------------------------------------------------------ defects

def _defects(root: Path) -> list[tuple[str, int, str, str]]:
    _, rows = _read(root / "_ground_truth" / "defects.csv")
    return [(f, int(r), k, c) for f, r, k, c in rows]


def test_every_row_kind_is_injected_in_several_file_types(defective):
    defects = _defects(defective)
    kinds = {}
    for f, row, kind, _ in defects:
        kinds.setdefault(kind, set()).add(identify(Path(f).name)[0].file_type)
    assert set(kinds) == {"invalid_insz_checksum", "insz_birth_date_mismatch", "impossible_dates",
                          "unknown_code", "missing_required", "duplicate_row", "extra_column",
                          "out_of_scope", "stale_extract", "impossible_combination"}
    assert len(set().union(*kinds.values())) >= 8
    assert len(kinds["invalid_insz_checksum"]) >= 3


def test_listed_defects_really_sit_in_the_named_row_and_column(defective):
    cache: dict[str, tuple[list[str], list[list[str]]]] = {}
    for f, row, kind, column in _defects(defective):
        if f not in cache:
            cache[f] = _read(defective / f)
        header, rows = cache[f]
        if row == 0:
            if kind == "extra_column":
                assert header[-1] == "Opmerking" == column
            else:  # stale_extract
                day = dt.date.fromisoformat(identify(Path(f).name)[1]["reference_date"])
                fmt = identify(Path(f).name)[0].date_format
                assert all(dt.datetime.strptime(r[header.index(column)], fmt).date() < day
                           for r in rows)
            continue
        r = rows[row - 1]
        value = r[header.index(column)] if column else None
        if kind == "invalid_insz_checksum":
            assert not ssn.is_valid(value)
        elif kind == "insz_birth_date_mismatch":
            born = dt.datetime.strptime(value, identify(Path(f).name)[0].date_format).date()
            assert ssn.is_valid(r[header.index("INSZ")])
            assert ssn.get_birth_date(r[header.index("INSZ")]) != born
        elif kind == "duplicate_row":
            assert r == rows[row - 2]
        elif kind == "missing_required":
            assert value == ""
        elif kind == "impossible_combination":
            assert r[header.index("Hoofdstructuur")] == "111" and value == "5"
        elif kind == "unknown_code":
            assert value in {"999", "XYZ", "0", "ONBEKEND"} or not brin.is_valid(value)
        elif kind == "out_of_scope" and column == "Schooljaar":
            assert value < "2020-2021"
        elif kind == "out_of_scope":
            born = dt.datetime.strptime(value, "%d-%m-%Y").date()
            peil = dt.datetime.strptime(r[header.index("Peildatum")], "%d-%m-%Y").date()
            assert not calendar.is_compulsory_school_age(born, peil)


def test_invalid_insz_occur_only_where_the_ground_truth_lists_them(defective):
    listed = {(f, r) for f, r, k, _ in _defects(defective) if k == "invalid_insz_checksum"}
    found = set()
    for path in _files(defective):
        header, rows = _read(path)
        if "INSZ" not in header:
            continue
        i = header.index("INSZ")
        rel = path.relative_to(defective).as_posix()
        found |= {(rel, n) for n, r in enumerate(rows, 1) if r[i] and not ssn.is_valid(r[i])}
    assert found == listed and len(listed) >= 20


def test_each_row_kind_has_at_least_twenty_rows_at_two_percent(defective):
    counts = {}
    for _, row, kind, _ in _defects(defective):
        if row:
            counts[kind] = counts.get(kind, 0) + 1
    assert all(n >= 20 for n in counts.values()), counts
