"""Defect injection: turn a clean extract set into one with known, listed data-quality defects.

Why: ingestion and the quality layer must be tested against defects whose location is known
exactly. After a clean set is written, rows of several file types are altered (or duplicated) and
every alteration is listed in ``_ground_truth/defects.csv`` (file; row; kind; column), where row is
the 1-based data row in the file as written (header excluded; 0 = the whole file). Each altered
row carries exactly one defect. Files are processed one at a time, so memory stays bounded at
full scale.

Kinds: invalid_insz_checksum, insz_birth_date_mismatch, impossible_dates, unknown_code,
code_not_canonical, unknown_reference, quantity_out_of_bounds, missing_required, duplicate_row,
key_conflict, full_time_in_two_schools, not_enrolled_on_counting_date, extra_column (file),
out_of_scope, stale_extract (file), impossible_combination. The kinds follow the meaning the
source contract gives each column (code lists, references, date windows, bounds, natural keys)
and the contradictions across sources, so every family of article-7 rules is measured.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zlib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from orchestration.foundations import calendar
from orchestration.foundations.sources import identify
from stdnum.be import ssn

from tools.synthetic.insz import corrupt_checksum, make as make_insz
from tools.synthetic.output import BOM

GROUND_TRUTH_FILE = "defects.csv"
MIN_ROWS_PER_KIND = 25
FILE_KINDS = ("extra_column", "stale_extract")

Row = list[str]
Apply = Callable[[list[str], list[Row], np.ndarray, np.random.Generator, Path], list[tuple[int, str]]]


# ------------------------------------------------------------------ file I/O
def _read(path: Path) -> tuple[bool, list[str], list[Row]]:
    raw = path.read_bytes()
    bom = raw.startswith(BOM)
    text = raw[len(BOM):].decode("utf-8") if bom else raw.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = next(reader)
    return bom, header, list(reader)


def _write(path: Path, bom: bool, header: list[str], rows: list[Row]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        if bom:
            fh.write("\ufeff")
        w = csv.writer(fh, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _count_rows(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 24), b"")) - 1


def _date_format(path: Path) -> str:
    found = identify(path.name)
    return found[0].date_format if found else "%d/%m/%Y"


def _parse(value: str, fmt: str) -> dt.date:
    return dt.datetime.strptime(value, fmt).date()


def _school_year_bounds(row: Row, header: list[str]) -> tuple[dt.date, dt.date]:
    y = int(row[header.index("Schooljaar")][:4])
    return dt.date(y, 9, 1), dt.date(y + 1, 8, 31)


# ------------------------------------------------------------------ the row defects
def _invalid_insz(header, rows, idx, rng, path):
    c = header.index("INSZ")
    for i in idx:
        rows[i][c] = corrupt_checksum(rows[i][c])
    return [(int(i), "INSZ") for i in idx]


def _birth_mismatch(header, rows, idx, rng, path):
    c = header.index("Geboortedatum")
    fmt = _date_format(path)
    for i in idx:
        old = _parse(rows[i][c], fmt)
        shift = int(rng.integers(1, 400)) * (1 if rng.random() < 0.5 else -1)
        rows[i][c] = (old + dt.timedelta(days=shift)).strftime(fmt)
    return [(int(i), "Geboortedatum") for i in idx]


def _impossible_dates(header, rows, idx, rng, path):
    fmt = _date_format(path)
    out = []
    for i in idx:
        row = rows[i]
        if "Peildatum" in header:  # a DUO pupil born after the reference date
            g, p = header.index("Geboortedatum"), header.index("Peildatum")
            ref = _parse(row[p], fmt)
            row[g] = (ref + dt.timedelta(days=int(rng.integers(1, 300)))).strftime(fmt)
            out.append((int(i), "Geboortedatum"))
            continue
        if "Uitreikingsdatum" in header:  # a certificate issued to a toddler
            c = header.index("Uitreikingsdatum")
            born = ssn.get_birth_date(row[header.index("INSZ")])
            row[c] = (born + dt.timedelta(days=int(rng.integers(200, 900)))).strftime(fmt)
            out.append((int(i), "Uitreikingsdatum"))
            continue
        if "Datum_attest" in header:  # an attest dated in the next school year
            c = header.index("Datum_attest")
            _, last = _school_year_bounds(row, header)
            row[c] = (last + dt.timedelta(days=int(rng.integers(15, 120)))).strftime(fmt)
            out.append((int(i), "Datum_attest"))
            continue
        b, e = header.index("Begindatum"), header.index("Einddatum")
        begin = _parse(row[b], fmt)
        if "Schooljaar" in header and "Inschrijving_id" in header and rng.random() < 0.5:
            first, _ = _school_year_bounds(row, header)  # begins in the previous school year
            row[b] = (first - dt.timedelta(days=int(rng.integers(30, 300)))).strftime(fmt)
            out.append((int(i), "Begindatum"))
        else:  # ends before it begins
            row[e] = (begin - dt.timedelta(days=int(rng.integers(1, 60)))).strftime(fmt)
            out.append((int(i), "Einddatum"))
    return out


def _unknown_code(header, rows, idx, rng, path):
    out = []
    for i in idx:
        row = rows[i]
        if "Hoofdstructuur" in header and "Inschrijving_id" in header:
            col, value = (("Hoofdstructuur", "999") if rng.random() < 0.5 else ("Onderwijsvorm", "XYZ"))
        elif "Soort_bestuur" in header:
            col, value = "Soort_bestuur", "0"
        elif "BRIN" in header:
            brin = row[header.index("BRIN")]
            col, value = "BRIN", brin[:3] + "1" + brin[4:]  # a digit where a letter must be
        elif "Vorm" in header and "Type" in header:
            col, value = "Type", "ONBEKEND"
        elif "Bewijsreferte" in header:
            col, value = (("Categorie", "Onbekend onderwijs") if rng.random() < 0.5
                          else ("Bewijstype", "Certificaat"))
        else:
            raise ValueError(f"no unknown_code rule for {path.name}")
        row[header.index(col)] = value
        out.append((int(i), col))
    return out


def _code_not_canonical(header, rows, idx, rng, path):
    """A valid code in another case or with padding (staging would repair it)."""
    out = []
    for i in idx:
        row = rows[i]
        if "Onderwijsvorm" in header and row[header.index("Onderwijsvorm")] and rng.random() < 0.5:
            col = "Onderwijsvorm"
            row[header.index(col)] = f" {row[header.index(col)].lower()} "
        else:
            col = "Geslacht"
            row[header.index(col)] = row[header.index(col)].lower()
        out.append((int(i), col))
    return out


def _unknown_reference(header, rows, idx, rng, path):
    """A school, branch, provider or municipality that does not exist."""
    out = []
    for i in idx:
        row = rows[i]
        if "Aanbieder_id" in header:
            col, value = "Aanbieder_id", "NAFT-ONBEKEND"
        elif "Inschrijving_id" in header:
            col, value = [("Instellingsnummer", "999999"), ("Vestigingsplaats", "99"),
                          ("Woonplaats_NIS", "99999")][int(rng.integers(3))]
        elif "Attest" in header:
            col, value = "Instellingsnummer", "999998"
        else:
            col, value = "NIS_gemeente", "99998"
        row[header.index(col)] = value
        out.append((int(i), col))
    return out


def _quantity_out_of_bounds(header, rows, idx, rng, path):
    """Absences above the expected half days, above the school days of the year, or negative."""
    out = []
    expected, absent = header.index("Halve_dagen_aanwezig_verwacht"), header.index("Halve_dagen_afwezig")
    for i in idx:
        row = rows[i]
        variant = int(rng.integers(3))
        if variant == 0:
            row[absent] = str(int(row[expected]) + int(rng.integers(1, 40)))
            out.append((int(i), "Halve_dagen_afwezig"))
        elif variant == 1:
            row[expected] = str(2 * 366 + int(rng.integers(1, 40)))  # more than any school year
            out.append((int(i), "Halve_dagen_aanwezig_verwacht"))
        else:
            row[header.index("Aantal_lange_afwezigheden")] = "-1"
            out.append((int(i), "Aantal_lange_afwezigheden"))
    return out


#: a column whose value may change without touching any other rule (key_conflict)
CONFLICT_COLUMNS = {"discimus_enrolments": "Administratieve_groep", "rijksregister_children": "Huisnummer",
                    "duo_registrations": "Huisnummer", "led_certificates": "Onderwerp_naam"}


def _key_conflict(header, rows, idx, rng, path):
    """A second version of a record: the same natural key, another value (added after it)."""
    col = CONFLICT_COLUMNS[identify(path.name)[0].file_type]
    c = header.index(col)
    out = []
    for i in idx:
        copy = list(rows[i])
        copy[c] = (str(int(copy[c]) + 1) if copy[c].isdigit() else copy[c] + " (bis)")
        out.append((int(i), col, copy))
    return out


def _full_time_in_two_schools(header, rows, idx, rng, path):
    """A second full-time enrolment of the same pupil, same dates, in another school (added)."""
    school, branch, eid = (header.index(h) for h in ("Instellingsnummer", "Vestigingsplaats",
                                                       "Inschrijving_id"))
    others = [r for r in rows if r[header.index("Hoofdstructuur")].endswith("1")]
    out = []
    for i in idx:
        copy = list(rows[i])
        for _ in range(50):
            other = others[int(rng.integers(len(others)))]
            if other[school] != copy[school]:
                break
        copy[school], copy[branch] = other[school], other[branch]
        copy[eid] = copy[eid] + "9"
        out.append((int(i), "Instellingsnummer", copy))
    return out


def _not_enrolled(header, rows, idx, rng, path):
    """A child on the zorgthuis list whom no school enrols: a BIS number nobody else has."""
    c = header.index("INSZ")
    born = np.array([np.datetime64("2013-01-01") + int(rng.integers(0, 1500)) for _ in idx])
    fresh = make_insz(born.astype("datetime64[D]"), rng.random(len(idx)) < 0.5,
                      np.full(len(idx), 40), rng)
    for i, value in zip(idx, fresh):
        rows[i][c] = value
    return [(int(i), "INSZ") for i in idx]


MISSING_COLUMNS = {
    "discimus_enrolments": ("Hoofdstructuur", "Leerjaar", "Begindatum", "Nationaliteit", "INSZ"),
    "discimus_attests": ("Attest", "Datum_attest"),
    "led_certificates": ("Bewijstype", "Uitreikingsdatum", "Instelling_naam"),
    "duo_registrations": ("Achternaam", "Geboortedatum", "BRIN"),
    "rijksregister_children": ("Naam", "Postcode", "Geboortedatum"),
    "school_register_branches": ("Postcode", "NIS_gemeente"),
}


def _missing_required(header, rows, idx, rng, path):
    file_type = identify(path.name)[0].file_type
    columns = MISSING_COLUMNS[file_type]
    out = []
    for i in idx:
        col = columns[int(rng.integers(len(columns)))]
        rows[i][header.index(col)] = ""
        out.append((int(i), col))
    return out


def _out_of_scope(header, rows, idx, rng, path):
    fmt = _date_format(path)
    out = []
    if "Peildatum" in header:  # a DUO pupil who is not of compulsory-school age
        g, p = header.index("Geboortedatum"), header.index("Peildatum")
        for i in idx:
            ref = _parse(rows[i][p], fmt)
            old = _parse(rows[i][g], fmt)
            for years in (19, 3, 20, 2):
                try:
                    new = old.replace(year=ref.year - years)
                except ValueError:
                    new = dt.date(ref.year - years, old.month, 28)
                if not calendar.is_compulsory_school_age(new, ref):
                    break
            rows[i][g] = new.strftime(fmt)
            out.append((int(i), "Geboortedatum"))
        return out
    # a NAFT trajectory of 2019-20, outside the protocol's 2020-21 .. 2024-25
    s, b, e = header.index("Schooljaar"), header.index("Begindatum"), header.index("Einddatum")
    for i in idx:
        row = rows[i]
        y = int(row[s][:4]) - 1
        row[s] = f"{y}-{y + 1}"
        for c in (b, e):
            if row[c]:
                d = _parse(row[c], fmt)
                row[c] = d.replace(year=d.year - 1, day=min(d.day, 28)).strftime(fmt)
        out.append((int(i), "Schooljaar"))
    return out


def _impossible_combination(header, rows, idx, rng, path):
    c = header.index("Leerjaar")
    for i in idx:
        rows[i][c] = "5"
    return [(int(i), "Leerjaar") for i in idx]


# kind -> (apply, file types, row filter)
def _has(col):
    return lambda header, row: bool(row[header.index(col)])


def _full_time(header, row):
    return row[header.index("Hoofdstructuur")].endswith("1")


def _kleuter(header, row):
    return row[header.index("Hoofdstructuur")] == "111"


def _valid_insz(header, row):
    v = row[header.index("INSZ")]
    return len(v) == 11 and v.isdigit()


ROW_KINDS: dict[str, tuple[Apply, tuple[str, ...], Callable | None]] = {
    "invalid_insz_checksum": (_invalid_insz, ("discimus_enrolments", "discimus_attests",
                                              "zorgthuis_lists", "rijksregister_children",
                                              "binc_naft_beneficiaries", "led_certificates"),
                              _valid_insz),
    "insz_birth_date_mismatch": (_birth_mismatch, ("discimus_enrolments", "rijksregister_children",
                                                   "binc_naft_beneficiaries"), _has("Geboortedatum")),
    "impossible_dates": (_impossible_dates, ("discimus_enrolments", "binc_naft_trajectories",
                                             "discimus_attests", "duo_registrations",
                                             "led_certificates"), None),
    "unknown_code": (_unknown_code, ("discimus_enrolments", "school_register_schools",
                                     "duo_registrations", "binc_naft_trajectories",
                                     "led_certificates"), None),
    "code_not_canonical": (_code_not_canonical, ("discimus_enrolments", "rijksregister_children"),
                           None),
    "unknown_reference": (_unknown_reference, ("discimus_enrolments", "discimus_attests",
                                               "binc_naft_trajectories",
                                               "school_register_branches"), None),
    "quantity_out_of_bounds": (_quantity_out_of_bounds, ("discimus_absences",), None),
    "key_conflict": (_key_conflict, tuple(CONFLICT_COLUMNS), None),
    "full_time_in_two_schools": (_full_time_in_two_schools, ("discimus_enrolments",), _full_time),
    "not_enrolled_on_counting_date": (_not_enrolled, ("zorgthuis_lists",), None),
    "missing_required": (_missing_required, tuple(MISSING_COLUMNS), None),
    "duplicate_row": (None, ("discimus_enrolments", "discimus_attests", "discimus_absences",
                             "discimus_pupil_characteristics", "led_certificates",
                             "rijksregister_children", "duo_registrations",
                             "school_register_capacity"), None),
    "out_of_scope": (_out_of_scope, ("duo_registrations", "binc_naft_trajectories"), None),
    "impossible_combination": (_impossible_combination, ("discimus_enrolments",), _kleuter),
}


#: kinds that add a row after the chosen one (the ground truth names the added row)
ADDING_KINDS = frozenset({"key_conflict", "full_time_in_two_schools"})


def _row_filter(kind: str, file_type: str, path: Path) -> Callable | None:
    base = ROW_KINDS[kind][2]
    if kind == "impossible_dates" and file_type == "binc_naft_trajectories":
        return _has("Einddatum")
    if kind == "impossible_dates" and file_type == "led_certificates":
        return _valid_insz
    if kind == "not_enrolled_on_counting_date":  # the lists of school years with enrolments
        return _valid_insz
    if kind == "out_of_scope" and file_type == "binc_naft_trajectories":
        return (lambda header, row: True) if "2020-2021" in path.name else (lambda h, r: False)
    return base


# ------------------------------------------------------------------ planning and injection
def _stable_rng(seed: int, *parts: str) -> np.random.Generator:
    return np.random.default_rng([seed, 50, *(zlib.crc32(p.encode()) for p in parts)])


def inject(out: Path, rate: float, seed: int) -> int:
    """Inject defects into the extract set in ``out``; returns the number of defects listed."""
    out = Path(out)
    rng = _stable_rng(seed, "plan")
    files: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(out.glob("*/*.csv")):
        if path.parent.name.startswith("_"):
            continue
        found = identify(path.name)
        if found:
            files[found[0].file_type].append(path)
    records: list[tuple[str, int, str, str]] = []

    # file-level defects, on files that get no row defects
    reserved: set[Path] = set()
    for file_type in ("discimus_absences", "school_register_capacity"):
        path = files[file_type][int(rng.integers(len(files[file_type])))]
        _extra_column(path, rng)
        reserved.add(path)
        records.append((path.relative_to(out).as_posix(), 0, "extra_column", "Opmerking"))
    for file_type, column in (("duo_registrations", "Peildatum"),
                              ("rijksregister_children", "Referentiedatum"),
                              ("zorgthuis_lists", "Teldatum")):
        candidates = files[file_type][:-1]  # never the latest: keep one fresh extract per type
        path = candidates[int(rng.integers(len(candidates)))]
        _stale(path, column)
        reserved.add(path)
        records.append((path.relative_to(out).as_posix(), 0, "stale_extract", column))

    # row-level plan: per kind a budget, split over its file types and then over their files
    counts = {p: _count_rows(p) for ps in files.values() for p in ps if p not in reserved}
    plan: dict[Path, dict[str, int]] = defaultdict(dict)
    for kind, (_, types, _) in ROW_KINDS.items():
        paths = [p for t in types for p in files.get(t, []) if p in counts]
        total = sum(counts[p] for p in paths)
        budget = max(MIN_ROWS_PER_KIND, round(rate * total / len(ROW_KINDS)))
        per_type = max(3, -(-budget // len(types)))
        for t in types:
            tp = [p for p in files.get(t, []) if p in counts]
            if kind == "out_of_scope" and t == "binc_naft_trajectories":
                tp = [p for p in tp if "2020-2021" in p.name]
            sizes = np.array([counts[p] for p in tp], dtype=float)
            if sizes.sum() == 0:
                continue
            split = rng.multinomial(per_type, sizes / sizes.sum())
            for p, k in zip(tp, split):
                if k:
                    plan[p][kind] = plan[p].get(kind, 0) + int(k)

    for path in sorted(plan):
        records.extend(_inject_file(out, path, plan[path], seed))
    records.sort(key=lambda r: (r[0], r[1], r[2]))
    with (out / "_ground_truth" / GROUND_TRUTH_FILE).open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\n")
        w.writerow(["file", "row", "kind", "column"])
        w.writerows(records)
    return len(records)


def _inject_file(out: Path, path: Path, kinds: dict[str, int], seed: int) -> list:
    rng = _stable_rng(seed, path.name)
    file_type = identify(path.name)[0].file_type
    bom, header, rows = _read(path)
    touched = np.zeros(len(rows), dtype=bool)
    marks: dict[int, list[tuple[str, str]]] = defaultdict(list)  # original index -> defects
    duplicates: list[int] = []
    added: dict[int, list[tuple[str, str, Row]]] = defaultdict(list)  # after index -> new rows
    for kind in sorted(kinds):
        apply, _, _ = ROW_KINDS[kind]
        keep = _row_filter(kind, file_type, path)
        ok = ~touched
        if keep is not None:
            ok &= np.fromiter((keep(header, r) for r in rows), dtype=bool, count=len(rows))
        cands = np.flatnonzero(ok)
        n = min(kinds[kind], len(cands))
        if n == 0:
            continue
        idx = np.sort(rng.choice(cands, size=n, replace=False))
        touched[idx] = True
        if kind == "duplicate_row":
            duplicates.extend(int(i) for i in idx)
            continue
        if kind in ADDING_KINDS:
            for i, column, new in apply(header, rows, idx, rng, path):
                added[i].append((kind, column, new))
            continue
        for i, column in apply(header, rows, idx, rng, path):
            marks[i].append((kind, column))
    dup = set(duplicates)
    final: list[Row] = []
    records = []
    rel = path.relative_to(out).as_posix()
    for i, row in enumerate(rows):
        final.append(row)
        for kind, column in marks.get(i, ()):
            records.append((rel, len(final), kind, column))
        if i in dup:
            final.append(list(row))
            records.append((rel, len(final), "duplicate_row", ""))
        for kind, column, new in added.get(i, ()):
            final.append(new)
            records.append((rel, len(final), kind, column))
    _write(path, bom, header, final)
    return records


def _extra_column(path: Path, rng: np.random.Generator) -> None:
    bom, header, rows = _read(path)
    notes = np.where(rng.random(len(rows)) < 0.05, "gecorrigeerd", "")
    _write(path, bom, [*header, "Opmerking"], [[*r, n] for r, n in zip(rows, notes)])


def _stale(path: Path, column: str) -> None:
    """All reference dates 61 days before the date in the file name (an old extract resent)."""
    bom, header, rows = _read(path)
    fmt = _date_format(path)
    c = header.index(column)
    stale = (dt.date.fromisoformat(identify(path.name)[1]["reference_date"])
             - dt.timedelta(days=61)).strftime(fmt)
    for r in rows:
        r[c] = stale
    _write(path, bom, header, rows)
