"""The deliveries of all eight protocols, produced by the main job on the synthetic sample.

Uses the session fixture ``pipeline`` (tests/integration/conftest.py): the whole warehouse job
ran twice on a copy of the sample. Checked here: every protocol's files exist with exactly the
registry's columns and a valid data package; populations, periods and reference dates hold
(file by file, against the registry); granularity holds; zorgthuis' funding counts per school
and branch with the coefficients of the registry's count purposes; identification only where the protocol allows it,
taken from the vault and logged; identifiers of different protocols never meet except where a
protocol links its own files; antwerpen_okan refuses today (audit event, failed WARN check) and
delivers inside its validity period; a second run delivers nothing new and the once-only
naft_evaluation refuses, logged; every delivery asset's metadata shows text reference, row
counts and schema, never a value.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
from collections import Counter
from decimal import Decimal
from functools import cache
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from stdnum.be import ssn

from orchestration.foundations import settings
from orchestration.deliveries import datapackage, package_docs, requests, spec, writer
from orchestration.deliveries.assets import REFUSAL_CHECK, delivery_asset_key, delivery_assets
from orchestration.deliveries.synthetic_twin import TWIN_FOLDER
from orchestration.foundations import audit
from orchestration.protocols import load_registry
from orchestration.foundations.warehouse import connect
from tests.privacy import insz_in_files

REGISTRY = load_registry()
DELIVERING_TODAY = ["naft_evaluation", "zorgthuis", "duo_leerplicht", "vtc_2015_34"]
ON_REQUEST = ["vtc_2015_35", "vtc_2015_31", "vtc_2015_29"]
IDENTIFIED = spec.identified_protocols(REGISTRY)  # deliveries with an INSZ column


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return next(csv.reader(f, delimiter=";"))


def _deliveries(p: settings.Paths, protocol_id: str) -> list[Path]:
    folder = p.outbox / protocol_id
    return sorted(x for x in folder.iterdir() if x.is_dir()) if folder.exists() else []


def _only_delivery(p: settings.Paths, protocol_id: str) -> Path:
    found = _deliveries(p, protocol_id)
    assert len(found) == 1, f"{protocol_id}: expected one delivery folder, found {found}"
    return found[0]


def _materialisation(result, protocol_id: str) -> dict:
    events = [e for e in result.get_asset_materialization_events()
              if e.asset_key == delivery_asset_key(protocol_id)]
    assert events, f"delivery/{protocol_id} was not materialised"
    return {k: v.value for k, v in events[-1].materialization.metadata.items()}


def _requests_wired(p: settings.Paths) -> None:
    if not any(requests.inbox_folder(p, pid).exists() for pid in ON_REQUEST):
        pytest.fail("the sample's request files never reached data/inbox/requests/: "
                    "orchestration.main.copy_sample_to_inbox must also call "
                    "orchestration.deliveries.requests.copy_sample_requests(p)")


@pytest.fixture(scope="module")
def p(pipeline) -> settings.Paths:
    return pipeline.paths


@pytest.fixture(scope="module")
def okan_inside_validity(pipeline, tmp_path_factory) -> Path:
    """antwerpen_okan delivered from a copy of the pipeline's warehouse on 1 June 2025."""
    data = tmp_path_factory.mktemp("okan") / "data"
    (data / "warehouse").mkdir(parents=True)
    shutil.copy2(pipeline.paths.warehouse, data / "warehouse" / "warehouse.duckdb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.ENV_DATA_DIR, str(data))
        copy = settings.paths()
        outcome = writer.deliver("antwerpen_okan", p=copy, today=dt.date(2025, 6, 1))
    assert outcome.status == "delivered", outcome.message
    return outcome.folder


@cache
def _branches_in_antwerp(warehouse: str) -> set[tuple[str, str, int]]:
    with duckdb.connect(warehouse, read_only=True) as con:
        return {(r[0], r[1], int(r[2])) for r in con.execute(
            "select school_year, school_number, branch_number from marts.school_branch_year "
            "where municipality_nis_code = '11002'").fetchall()}


# ------------------------------------------------------------------------------------ existence


@pytest.mark.parametrize("protocol_id", DELIVERING_TODAY)
def test_the_protocol_delivered_once_with_every_file_as_csv_and_parquet(p, pipeline,
                                                                        protocol_id):
    folder = _only_delivery(p, protocol_id)
    md = _materialisation(pipeline.first, protocol_id)
    assert md["status"] == "delivered" and md["delivery_id"] == folder.name
    body = json.loads((folder / "datapackage.json").read_text())
    assert body["protocol_id"] == protocol_id and body["recipient"]
    ids = {r["delivery_file"] for r in body["resources"]}
    assert ids == {f.id for f in REGISTRY.protocol(protocol_id).delivery_files}
    for r in body["resources"]:
        assert (folder / r["path"]).exists()
    csvs = {Path(r["path"]).stem for r in body["resources"] if r["format"] == "csv"}
    parquets = {Path(r["path"]).stem for r in body["resources"] if r["format"] == "parquet"}
    assert csvs == parquets


@pytest.mark.parametrize("protocol_id", ON_REQUEST)
def test_each_sample_request_is_answered_once(p, pipeline, protocol_id):
    _requests_wired(p)
    sample = sorted(x.stem for x in (requests.sample_folder(p) / protocol_id).glob("*.csv"))
    answered = [x.name for x in _deliveries(p, protocol_id)]
    assert len(answered) == len(sample)
    assert all(any(a.endswith(f"-{s}") for a in answered) for s in sample)


def test_antwerpen_okan_is_refused_today_visibly_and_writes_nothing(p, pipeline):
    md = _materialisation(pipeline.first, "antwerpen_okan")
    assert md["status"] == "refused"
    assert "valid until 2025-08-31" in md["message"] and "renewal" in md["message"]
    assert _deliveries(p, "antwerpen_okan") == []


def test_antwerpen_okan_delivers_inside_its_validity_period(okan_inside_validity):
    files = REGISTRY.protocol("antwerpen_okan").delivery_files
    names = {x.stem for x in _data_csvs(okan_inside_validity)}
    assert names == {f.id for f in files if f.audience != "school_scoped"}
    # school-scoped files go out as one package per school (art. 4)
    assert {x.stem for x in okan_inside_validity.glob("schools/*/*.csv")} == \
        {f.id for f in files if f.audience == "school_scoped"}
    for package in [okan_inside_validity / "datapackage.json",
                    *okan_inside_validity.glob("schools/*/datapackage.json")]:
        assert datapackage.validate(package).valid, package.parent.name


def test_a_second_run_delivers_nothing_new(p, pipeline):
    assert _materialisation(pipeline.second, "naft_evaluation")["status"] == "refused"
    for pid in ("zorgthuis", "duo_leerplicht", "vtc_2015_34"):
        assert _materialisation(pipeline.second, pid)["status"] == "unchanged", pid
    for pid in ON_REQUEST:
        assert _materialisation(pipeline.second, pid)["status"] in ("no_request",), pid


# ------------------------------------------------------------------------------------ columns


def _all_folders(p, okan_folder) -> list[tuple[str, Path]]:
    out = [(pid, f) for pid in DELIVERING_TODAY + ON_REQUEST for f in _deliveries(p, pid)]
    return out + [("antwerpen_okan", okan_folder)]


def test_every_file_holds_exactly_the_registry_columns(p, okan_inside_validity):
    for pid, folder in _all_folders(p, okan_inside_validity):
        protocol = REGISTRY.protocol(pid)
        for f in protocol.delivery_files:
            files = list(folder.rglob(f"{f.id}*.csv"))
            assert files, (pid, f.id)
            for path in files:
                assert _header(path) == f.column_names, path.name
                assert pq.read_schema(path.with_suffix(".parquet")).names == f.column_names


def test_every_datapackage_validates_with_frictionless(p, okan_inside_validity):
    from frictionless import Package

    for pid, folder in _all_folders(p, okan_inside_validity):
        package = folder / "datapackage.json"
        assert Package.validate_descriptor(str(package)).valid, pid
        validation = datapackage.validate(package)
        assert validation.valid, (pid, validation.errors[:5])
        body = json.loads(package.read_text())
        for key in ("protocol_id", "recipient", "delivery_date", "key_version", "code_version"):
            assert key in body, (pid, key)


# ------------------------------------------------------------------------------------ periods


def test_naft_files_cover_exactly_the_protocol_school_years(p):
    folder = _only_delivery(p, "naft_evaluation")
    dov = [f"{y}-{(y + 1) % 100:02d}" for y in range(2017, 2025)]
    binc = [f"{y}-{(y + 1) % 100:02d}" for y in range(2020, 2025)]
    for file_id, years in (("dov_pupils", dov), ("dov_schools", dov),
                           ("dov_semi_aggregated", dov), ("binc_trajectories", binc),
                           ("binc_beneficiaries", binc), ("binc_providers", binc)):
        found = sorted(x.stem.rsplit("_", 1)[1] for x in folder.glob(f"{file_id}_*.csv"))
        assert found == years, file_id
        for year in years:
            assert {r["school_year"] for r in _csv(folder / f"{file_id}_{year}.csv")} <= {year}


def test_naft_dov_pupils_are_6th_year_primary_to_7th_year_secondary(p):
    with connect(p, read_only=True) as con:
        outside = con.execute("""
            select count(*) from deliveries.naft_evaluation__dov_pupils d
            join marts.pupil_year y using (pupil_key, school_year)
            where not ((y.education_level = 'lager' and y.study_year = 6)
                       or y.education_level = 'secundair')""").fetchone()[0]
        delivered = sum(len(_csv(x)) for x in
                        _only_delivery(p, "naft_evaluation").glob("dov_pupils_*.csv"))
        in_model = con.execute("select count(*) from deliveries.naft_evaluation__dov_pupils"
                               ).fetchone()[0]
    assert outside == 0
    assert delivered == in_model > 0


def test_reference_dates_are_the_protocol_counting_dates(p):
    zorg = _only_delivery(p, "zorgthuis")
    for path in zorg.glob("verification_list_*.csv"):
        for r in _csv(path):
            assert r["counting_date_name"] in {"first_school_day_of_october", "january_15",
                                               "first_school_day_of_february", "may_15"}
            assert r["school_year"] >= "2022-23"
            assert path.stem.endswith(r["counting_date"])
    duo = _only_delivery(p, "duo_leerplicht")
    for path in duo.glob("follow_up_list_*.csv"):
        for r in _csv(path):
            assert r["reference_date"][5:] in ("10-15", "12-15", "02-15")
            assert r["school_year"] >= "2023-24"


def test_antwerpen_okan_population_starts_in_2015_16_and_later_career_uses_three_dates(
        okan_inside_validity):
    first = _csv(okan_inside_validity / "first_okan_enrolment.csv")
    assert first and min(r["school_year"] for r in first) >= "2015-16"
    career = _csv(okan_inside_validity / "later_career.csv")
    for r in career:  # every enrolment: also one in place on none of the three dates
        flags = (r["enrolled_on_october_1"], r["enrolled_on_february_1"],
                 r["enrolled_on_june_30"])
        assert set(flags) <= {"J", "N"}


# ------------------------------------------------------------------------------------ granularity


def test_no_full_birth_date_where_the_protocol_allows_a_birth_year(p, okan_inside_validity):
    for pid, folder in _all_folders(p, okan_inside_validity):
        for f in REGISTRY.protocol(pid).delivery_files:
            names = f.column_names
            if "birth_year" in names:
                assert "birth_date" not in names
                for path in folder.glob(f"{f.id}*.csv"):
                    years = {r["birth_year"] for r in _csv(path)} - {""}
                    assert all(y.isdigit() and len(y) == 4 for y in years), path.name
            if "birth_date" in names:  # identification allowed: the follow-up list only
                assert (pid, f.id) == ("duo_leerplicht", "follow_up_list")


def test_the_antwerp_branch_is_empty_outside_antwerp(p, okan_inside_validity):
    antwerp = _branches_in_antwerp(str(p.warehouse))
    for name in ("first_okan_enrolment", "later_career", "early_school_leaving"):
        rows = _csv(okan_inside_validity / f"{name}.csv")
        filled = [r for r in rows if r["institution_number"] or r["branch_number"]]
        assert filled, name  # some branches do lie in Antwerp
        for r in filled:
            assert r["institution_number"] and r["branch_number"]
            assert (r["school_year"], r["institution_number"], int(r["branch_number"])) in \
                antwerp, name
    portraits = [r for x in okan_inside_validity.glob("schools/*/school_portraits.csv")
                 for r in _csv(x)]
    assert portraits
    schools_in_antwerp = {(y, s) for y, s, _ in antwerp}
    assert all((r["school_year"], r["institution_number"]) in schools_in_antwerp
               for r in portraits)


# ------------------------------------------------------------------------------------ identity


def test_no_insz_outside_the_identified_deliveries(p, okan_inside_validity):
    skip = tuple(p.outbox / pid for pid in IDENTIFIED)
    assert insz_in_files(p.outbox, skip=skip) == {}
    assert insz_in_files(okan_inside_validity) == {}


def test_the_identified_deliveries_do_hold_valid_insz_from_the_vault(p):
    with connect(p, vault=True, read_only=True) as con:
        known = {r[0] for r in con.execute("select insz from vault.insz_register").fetchall()}
    zorg = [r["insz"] for x in _only_delivery(p, "zorgthuis").glob("verification_list_*.csv")
            for r in _csv(x)]
    duo = [r["insz"] for x in _only_delivery(p, "duo_leerplicht").glob("follow_up_list_*.csv")
           for r in _csv(x)]
    assert zorg and duo
    assert all(ssn.is_valid(v) and v in known for v in zorg + duo)


def test_no_name_or_street_outside_the_identified_deliveries(p, okan_inside_validity):
    with connect(p, vault=True, read_only=True) as con:
        words = {r[0] for r in con.execute(
            "select distinct naam from vault.identity_rijksregister_children "
            "union select distinct straat from vault.identity_rijksregister_children "
            "union select distinct achternaam from vault.identity_duo_registrations"
        ).fetchall() if r[0] and len(r[0]) >= 4}
    assert words
    for pid, folder in _all_folders(p, okan_inside_validity):
        if pid in ("zorgthuis", "duo_leerplicht"):
            continue
        for path in _data_csvs(folder):
            for row in _csv(path):
                leaked = words & set(row.values())
                assert not leaked, (path.name, sorted(leaked)[:3])


def test_the_follow_up_list_names_children_from_the_vault(p):
    rows = [r for x in _only_delivery(p, "duo_leerplicht").glob("follow_up_list_*.csv")
            for r in _csv(x)]
    assert rows and all(r["last_name"] and r["birth_date"] for r in rows)


def test_delivered_pupils_are_recorded_for_article_19(p):
    with connect(p, read_only=True) as con:
        per_protocol = dict(con.execute(
            "select protocol_id, count(distinct pupil_key) from audit.delivered_records "
            "group by 1").fetchall())
        logged = con.execute("select count(*) from deliveries_log.deliveries").fetchone()[0]
    for pid in ("naft_evaluation", "zorgthuis", "duo_leerplicht", "vtc_2015_34"):
        assert per_protocol.get(pid, 0) > 0, pid
    assert logged == sum(len(_deliveries(p, pid)) for pid in REGISTRY.ids)


# ------------------------------------------------------------------------------------ linkability


def _values(folder: Path, file_prefix: str, column: str) -> set[str]:
    """Every value of ``column`` in the CSV files of ``folder`` whose name starts with
    ``file_prefix`` (files without that column contribute nothing)."""
    return {r.get(column) for x in folder.glob(f"{file_prefix}*.csv")
            for r in _csv(x)} - {"", None}


def test_identifiers_of_different_protocols_never_meet(p, okan_inside_validity):
    naft = _only_delivery(p, "naft_evaluation")
    vtc34 = _only_delivery(p, "vtc_2015_34")
    pseudonyms = {
        "naft_evaluation": _values(naft, "dov_pupils", "dom_number")
        | _values(naft, "binc_trajectories", "dom_number")
        | _values(naft, "binc_beneficiaries", "dom_number"),
        "antwerpen_okan": _values(okan_inside_validity, "", "person_code"),
        "vtc_2015_34": _values(vtc34, "social_planning", "school_year_key"),
    }
    cleartext = set()
    for pid in ("zorgthuis", "duo_leerplicht"):
        folder = _only_delivery(p, pid)
        cleartext |= _values(folder, "", "insz")
    assert all(pseudonyms.values())
    pids = sorted(pseudonyms)
    for i, a in enumerate(pids):
        assert not pseudonyms[a] & cleartext, a
        for b in pids[i + 1:]:
            assert not pseudonyms[a] & pseudonyms[b], (a, b)
    for values in pseudonyms.values():  # opaque codes, never an INSZ
        assert not any(v.isdigit() for v in values)


def test_the_dom_nummer_links_the_dov_and_binc_files_and_nothing_else(p):
    naft = _only_delivery(p, "naft_evaluation")
    dov = _values(naft, "dov_pupils", "dom_number")
    binc = _values(naft, "binc_beneficiaries", "dom_number")
    trajectories = _values(naft, "binc_trajectories", "dom_number")
    assert binc & dov  # the required link
    assert trajectories <= binc | dov or trajectories & binc
    other_columns = [c for f in ("dov_schools", "dov_semi_aggregated", "binc_providers")
                     for c in REGISTRY.protocol("naft_evaluation").delivery_file(f).column_names]
    assert "dom_number" not in other_columns


def test_the_antwerp_person_code_links_11a_11b_and_11c_only(okan_inside_validity):
    first = _values(okan_inside_validity, "first_okan_enrolment", "person_code")
    later = _values(okan_inside_validity, "later_career", "person_code")
    leaving = _values(okan_inside_validity, "early_school_leaving", "person_code")
    # 11c holds only the pupils who entered the early-school-leaving indicator
    assert later <= first and leaving and leaving < first
    for name in ("monitor_newcomer_inflow", "monitor_early_school_leaving"):
        assert "person_code" not in _header(okan_inside_validity / f"{name}.csv")
    for path in okan_inside_validity.glob("schools/*/school_portraits.csv"):
        assert "person_code" not in _header(path)


def test_the_social_planning_key_changes_every_school_year(p):
    vtc34 = _only_delivery(p, "vtc_2015_34")
    per_year = {x.stem: _values(vtc34, x.stem, "school_year_key")
                for x in vtc34.glob("social_planning_*.csv")}
    assert len(per_year) >= 2
    years = sorted(per_year)
    for i, a in enumerate(years):
        for b in years[i + 1:]:
            assert not per_year[a] & per_year[b], (a, b)


def test_request_answers_hold_only_the_requested_people(p):
    _requests_wired(p)
    folder = _deliveries(p, "vtc_2015_35")[-1]
    request = requests.read_request(
        next((requests.inbox_folder(p, "vtc_2015_35")).glob("*.csv")), "vtc_2015_35")
    asked = {line.insz for line in request.lines}
    rows = _csv(folder / "admission_check.csv")
    assert {r["insz"] for r in rows} == asked  # every line answered, nobody else
    assert {r["answer_source"] for r in rows} <= {"LED", "DISCIMUS", "NONE"}
    maastricht = _csv(_deliveries(p, "vtc_2015_29")[-1] / "maastricht_pilot.csv")
    assert "insz" not in maastricht[0] and all(r["request_id"] for r in maastricht)



# ------------------------------------------------------------------------------------ additions


def _csv_files(folder: Path, file_id: str) -> list[Path]:
    """The CSV parts of one delivery file (``<id>.csv`` or ``<id>_<period>.csv``), never those
    of a file whose id merely starts with ``file_id``; the per-school packages' parts are
    included, the synthetic twin's are not (its rows are no one's)."""
    return sorted(x for x in folder.rglob(f"{file_id}*.csv")
                  if TWIN_FOLDER not in x.relative_to(folder).parts
                  and (x.stem == file_id or re.fullmatch(
                      rf"{re.escape(file_id)}_\d{{4}}-\d{{2}}(-\d{{2}})?", x.stem)))


def _audited(p: settings.Paths, event: str) -> list[dict]:
    return [e.fields for e in audit.entries(audit.log_path(p)) if e.event == event]


def test_every_file_part_holds_only_its_period_inside_the_registry_period(p, okan_inside_validity):
    checked = 0
    for pid, folder in _all_folders(p, okan_inside_validity):
        protocol = REGISTRY.protocol(pid)
        for f in protocol.delivery_files:
            period = f.period
            parts = _csv_files(folder, f.id)
            assert parts, (pid, f.id)
            for path in parts:
                rows = _csv(path)
                label = path.stem[len(f.id) + 1:] if path.stem != f.id else None
                if period.one_file_per in ("school_year", "reference_date"):
                    assert label, (pid, path.name)  # split as the protocol states
                for r in rows:
                    year = r.get("school_year")
                    if year:
                        assert not period.school_year_from or year >= period.school_year_from, \
                            (pid, path.name, year)
                        assert not period.school_year_to or year <= period.school_year_to, \
                            (pid, path.name, year)
                    if period.one_file_per == "school_year":
                        assert year == label, (pid, path.name)
                    if period.one_file_per == "reference_date":
                        column = "counting_date" if "counting_date" in r else "reference_date"
                        assert r[column] == label, (pid, path.name)
                    if period.reference_dates and "counting_date_name" in r:
                        assert r["counting_date_name"] in period.reference_dates, path.name
                    checked += 1
    assert checked > 1000


def test_counting_and_reference_dates_are_the_protocol_dates_of_the_calendar(p):
    """zorgthuis and DUO files carry exactly the calendar's dates of their counting-date names."""
    from orchestration.foundations import calendar

    zorg = _only_delivery(p, "zorgthuis")
    seen = set()
    for path in _csv_files(zorg, "verification_list") + _csv_files(zorg, "funding_counts"):
        for r in _csv(path):
            seen.add((r["school_year"], r["counting_date_name"], r["counting_date"]))
    assert seen
    for year, name, day in seen:
        assert calendar.counting_dates(year)[name].isoformat() == day, (year, name, day)
    duo = _only_delivery(p, "duo_leerplicht")
    dates = {(r["school_year"], r["reference_date"])
             for path in _csv_files(duo, "parliamentary_figures") for r in _csv(path)}
    assert dates
    for year, day in dates:
        assert day in {d.isoformat() for d in calendar.duo_reference_dates(year).values()}


def test_zorgthuis_funding_counts_count_each_purpose_per_school_and_branch(p):
    """Art. 2: per school, branch, date and list kind, the operating budgets unweighted with
    the decree article, and the teaching periods (basisonderwijs) or the integrated support
    offer (secondary) with the text's 1.5; each purpose counts the same listed pupils."""
    zorg = _only_delivery(p, "zorgthuis")
    funding = REGISTRY.protocol("zorgthuis").delivery_file("funding_counts")
    articles = {(c.purpose, c.legal_reference): c.coefficient for c in funding.count_purposes}
    listed = Counter()
    for path in _csv_files(zorg, "verification_list"):
        for r in _csv(path):
            if r["institution_number"]:
                listed[(r["counting_date"], r["list_kind"], r["institution_number"],
                        r["branch_number"])] += 1
    by_key: dict[tuple, dict[str, dict]] = {}
    for path in _csv_files(zorg, "funding_counts"):
        for r in _csv(path):
            key = (r["counting_date"], r["list_kind"], r["institution_number"],
                   r["branch_number"])
            purposes = by_key.setdefault(key, {})
            assert r["funding_purpose"] not in purposes, key  # one row per purpose
            purposes[r["funding_purpose"]] = r
    assert by_key and {k: int(v["operating_budget"]["pupils_with_care_home"])
                       for k, v in by_key.items()} == dict(listed)
    weighted_purposes = Counter()
    for key, purposes in by_key.items():
        operating = purposes["operating_budget"]
        assert articles[("operating_budget", operating["legal_reference"])] is None
        assert operating["coefficient"] == "" and operating["weighted_pupils_with_care_home"] == ""
        [(name, weighted)] = [(n, r) for n, r in purposes.items() if n != "operating_budget"]
        weighted_purposes[name] += 1
        coefficient = articles[(name, weighted["legal_reference"])]
        assert coefficient == 1.5 and Decimal(weighted["coefficient"]) == Decimal("1.5")
        assert weighted["pupils_with_care_home"] == operating["pupils_with_care_home"]
        assert Decimal(weighted["weighted_pupils_with_care_home"]) == \
            int(weighted["pupils_with_care_home"]) * Decimal("1.5"), key
        # the decree of the operating budgets matches the level of the weighted purpose
        basis = name == "teaching_periods"
        assert ("basisonderwijs" in operating["legal_reference"]) == basis, key
    assert set(weighted_purposes) == {"teaching_periods", "integrated_support_offer"}
    assert len({k[3] for k in by_key}) > 1  # branches, not only schools


def _sample_lists() -> dict[tuple[str, str], dict[str, str]]:
    """{(counting date ISO, list kind): {INSZ: Verblijf_MFC}} of the committed sample."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for path in sorted((settings.PROJECT_ROOT / "data/sample/zorgthuis").glob("*.csv")):
        for r in _csv(path):
            day = dt.datetime.strptime(r["Teldatum"], "%d/%m/%Y").date().isoformat()
            out.setdefault((day, r["Soort_lijst"]), {})[r["INSZ"]] = r["Verblijf_MFC"]
    return out


def test_zorgthuis_never_lists_nor_counts_voluntary_mfc_care(p):
    """Art. 3: "leerlingen die vallen onder de vrijwillige jeugdhulpverlening vormen een
    uitzondering en moeten uitgesloten worden van de berekeningen"; the list tells "not in an
    MFC" from "voluntary MFC care"."""
    zorg = _only_delivery(p, "zorgthuis")
    sample = _sample_lists()
    voluntary = {(d, k, i) for (d, k), rows in sample.items() for i, v in rows.items()
                 if v == "MFC_VRIJWILLIG"}
    assert voluntary  # the sample holds voluntary MFC stays
    delivered = set()
    for path in _csv_files(zorg, "verification_list"):
        for r in _csv(path):
            assert r["mfc_residence"] in ("GEEN_MFC", "MFC_NIET_VRIJWILLIG"), path.name
            assert sample[(r["counting_date"], r["list_kind"])][r["insz"]] == r["mfc_residence"]
            delivered.add((r["counting_date"], r["list_kind"], r["insz"]))
    assert delivered and not delivered & voluntary
    residences = Counter(r["mfc_residence"] for path in _csv_files(zorg, "verification_list")
                         for r in _csv(path))
    assert residences["GEEN_MFC"] and residences["MFC_NIET_VRIJWILLIG"]


def test_zorgthuis_delivers_no_list_exchanged_before_the_protocol_took_effect(p):
    """Art. 12 (in force on 6 March 2023) and art. 5 (exchange moments): the sample's October
    2022 lists and the provisional February 2023 list are withheld; the definitive February
    2023 list (May) and the January 2023 list (September) are delivered."""
    zorg = _only_delivery(p, "zorgthuis")
    lists = {(r["counting_date"], r["list_kind"])
             for path in _csv_files(zorg, "verification_list") for r in _csv(path)}
    assert ("2022-10-03", "VOORLOPIG") not in lists and ("2022-10-03", "DEFINITIEF") not in lists
    assert ("2023-02-01", "VOORLOPIG") not in lists
    assert {("2023-02-01", "DEFINITIEF"), ("2023-01-16", "DEFINITIEF")} <= lists
    assert ("2023-10-02", "VOORLOPIG") in lists  # after the start: every list
    dates = {x.stem.rsplit("_", 1)[1] for x in _csv_files(zorg, "funding_counts")}
    assert dates == {x.stem.rsplit("_", 1)[1] for x in _csv_files(zorg, "verification_list")}
    assert "2022-10-03" not in dates


def test_later_career_states_are_the_enrolments_on_1_october_1_february_and_30_june(
        p, okan_inside_validity):
    with connect(p, read_only=True) as con:
        mismatched, total = con.execute("""
            with delivered as (
                select pupil_key, school_year,
                       bool_or(enrolled_on_october_1 = 'J') as october,
                       bool_or(enrolled_on_february_1 = 'J') as february,
                       bool_or(enrolled_on_june_30 = 'J') as june
                from deliveries.antwerpen_okan__later_career
                group by all
                -- a year whose enrolments ran on none of the dates has no state to compare
                having bool_or(enrolled_on_october_1 = 'J' or enrolled_on_february_1 = 'J'
                               or enrolled_on_june_30 = 'J')
            ),
            observed as (
                select pupil_key, school_year,
                       bool_or(counting_date_name = 'october_1') as october,
                       bool_or(counting_date_name = 'february_1') as february,
                       bool_or(counting_date_name = 'june_30') as june
                from marts.pupil_year_counting_date
                where counting_date_name in ('october_1', 'february_1', 'june_30')
                group by all
            )
            select count(*) filter (where o.pupil_key is null
                                    or d.october <> o.october or d.february <> o.february
                                    or d.june <> o.june),
                   count(*)
            from delivered as d
            left join observed as o using (pupil_key, school_year)""").fetchone()
        in_model = con.execute("select count(*) from deliveries.antwerpen_okan__later_career"
                               ).fetchone()[0]
    assert total > 0 and mismatched == 0
    assert len(_csv(okan_inside_validity / "later_career.csv")) == in_model


def test_the_parliamentary_figures_are_per_province_and_birth_year(p):
    duo = _only_delivery(p, "duo_leerplicht")
    rows = [r for path in _csv_files(duo, "parliamentary_figures") for r in _csv(path)]
    assert rows
    assert {"residence_province", "birth_year"} <= set(rows[0])
    assert all(r["school_year"] >= "2023-24" for r in rows)
    assert {r["residence_province"] for r in rows} - {""}


# ------------------------------------------------------------------------------------ refusals


def test_the_refusals_of_the_main_job_are_audit_events_and_failed_warn_checks(p, pipeline):
    refused = _audited(p, "delivery_refused")
    okan = [e for e in refused if e["protocol"] == "antwerpen_okan"]
    assert len(okan) == 2 and all(e["rule"] == "validity" for e in okan)  # once per run
    assert all("valid until 2025-08-31" in e["reason"] for e in okan)
    naft = [e for e in refused if e["protocol"] == "naft_evaluation"]
    assert [e["rule"] for e in naft] == ["once_only"]  # the second run only
    assert {e["protocol"] for e in refused} == {"antwerpen_okan", "naft_evaluation"}
    for result, failing in ((pipeline.first, {"antwerpen_okan"}),
                            (pipeline.second, {"antwerpen_okan", "naft_evaluation"})):
        checks = {c.asset_key.path[-1]: c for c in result.get_asset_check_evaluations()
                  if c.check_name == REFUSAL_CHECK}
        assert set(checks) == set(REGISTRY.ids)
        assert {pid for pid, c in checks.items() if not c.passed} == failing
        assert all(c.severity.value == "WARN" for c in checks.values())
    assert _audited(p, "forced_action") == []
    assert audit.verify(audit.log_path(p)).ok


def test_identification_is_taken_from_the_vault_and_logged_as_vault_use(p):
    uses = _audited(p, "vault_use")
    by_protocol = {}
    for e in uses:
        by_protocol.setdefault(e["protocol"], set()).update(e.get("columns") or [])
    assert by_protocol["zorgthuis"] == {"insz"}
    assert by_protocol["duo_leerplicht"] >= {"insz", "last_name", "first_names", "street"}
    assert by_protocol["vtc_2015_35"] == {"insz"} and by_protocol["vtc_2015_31"] == {"insz"}
    assert not set(by_protocol) & {"naft_evaluation", "vtc_2015_34", "antwerpen_okan"}
    delivered = {(e["protocol"], e["delivery_id"]) for e in _audited(p, "delivery")}
    for e in uses:  # each vault use belongs to a delivery that went out
        assert (e["protocol"], e["delivery_id"]) in delivered


# ------------------------------------------------------------------------------------ identifiers


def _data_csvs(folder: Path) -> list[Path]:
    """The delivered data files of a package (not its codebook)."""
    return sorted(x for x in folder.glob("*.csv") if x.name != package_docs.CODEBOOK)


CODE = "[BCDFGHJKLMNPQRST]{32}"  # 128 bits in letters: never a digit run (deliveries/pseudonyms.py)
PSEUDONYM_FORMS = {"naft_evaluation": rf"DOM1-{CODE}", "antwerpen_okan": rf"APC1-{CODE}",
                   "vtc_2015_34": rf"SJK1-{CODE}"}


def _cells(folder: Path) -> set[str]:
    return {v for x in _data_csvs(folder) for r in _csv(x) for v in r.values()} - {""}


def test_no_identifier_of_one_protocol_appears_anywhere_in_another_protocols_files(
        p, okan_inside_validity):
    folders = {}
    for pid, folder in _all_folders(p, okan_inside_validity):
        folders.setdefault(pid, set()).update(_cells(folder))
    identifiers = {}
    for pid, folder in _all_folders(p, okan_inside_validity):
        for f in REGISTRY.protocol(pid).delivery_files:
            for v in f.identifier_columns:
                identifiers.setdefault(pid, set()).update(
                    r[v.name] for x in _csv_files(folder, f.id) for r in _csv(x)
                    if r.get(v.name))
    assert set(identifiers) == set(REGISTRY.ids)
    identified = {"zorgthuis", "duo_leerplicht", "vtc_2015_35", "vtc_2015_31"}
    for a, values in identifiers.items():
        for b, cells in folders.items():
            if a == b or (a in identified and b in identified):
                continue  # the national number itself, where each protocol allows it
            assert not values & cells, (a, b, len(values & cells))
    for pid, form in PSEUDONYM_FORMS.items():
        assert all(re.fullmatch(form, v) for v in identifiers[pid]), pid
        assert not any(re.fullmatch(r"\d{11}", v) for v in identifiers[pid]), pid


def test_the_person_code_is_in_11a_11b_and_11c_and_no_other_file(okan_inside_validity):
    codes = _values(okan_inside_validity, "first_okan_enrolment", "person_code")
    for name in ("monitor_newcomer_inflow", "monitor_early_school_leaving"):
        assert not codes & _cells_of(okan_inside_validity / f"{name}.csv"), name
    for path in okan_inside_validity.glob("schools/*/school_portraits.csv"):
        assert not codes & _cells_of(path), path.parent.name


def _cells_of(path: Path) -> set[str]:
    return {v for r in _csv(path) for v in r.values()} - {""}


def test_the_dom_nummer_appears_only_in_the_dov_pupil_and_binc_person_files(p):
    naft = _only_delivery(p, "naft_evaluation")
    codes = _values(naft, "dov_pupils", "dom_number") | \
        _values(naft, "binc_beneficiaries", "dom_number")
    for file_id in ("dov_schools", "dov_semi_aggregated", "binc_providers"):
        for path in _csv_files(naft, file_id):
            assert not codes & _cells_of(path), path.name


# ------------------------------------------------------------------------------------ metadata


def test_every_delivery_asset_shows_text_reference_row_counts_and_schema_never_values(
        p, pipeline, okan_inside_validity):
    static = {a.key.path[-1]: a.specs_by_key[a.key].metadata for a in delivery_assets}
    values = set()
    for pid, folder in _all_folders(p, okan_inside_validity):
        values |= {v for v in _cells(folder) if len(v) >= 8 and not v.isalpha()
                   and not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", v)}
    for pid in REGISTRY.ids:
        protocol = REGISTRY.protocol(pid)
        md = static[pid]
        assert md["text_reference"].value == f"shared/{protocol.text_reference.file}"
        preview = md["schema_preview"].value
        for f in protocol.delivery_files:
            assert f"**{f.id}**" in preview
            assert all(f"`{name}`" in preview for name in f.column_names)
        text = json.dumps({k: str(v.value) for k, v in md.items()})
        for result in (pipeline.first, pipeline.second):
            text += json.dumps({k: str(v) for k, v in _materialisation(result, pid).items()})
        assert not values & set(re.findall(r"[\w.-]+", text)), pid
    for pid in DELIVERING_TODAY + ON_REQUEST:
        md = _materialisation(pipeline.first, pid)
        written = [x for folder in _deliveries(p, pid) for x in _data_csvs(folder)]
        assert md["rows_total"] == sum(len(_csv(x)) for x in written), pid
        assert md["files"] == len(written), pid
        for f in REGISTRY.protocol(pid).delivery_files:
            assert f"| {f.id}" in md["rows_per_file"], (pid, f.id)


# ------------------------------------------------------------------------------------ register


def test_the_processing_register_of_a_run_lists_that_runs_deliveries(p, pipeline):
    """The register is written after the delivery assets, so it counts what the run delivered."""
    from orchestration.compliance.assets import REGISTER_KEY

    delivered_by_first = sum(_materialisation(pipeline.first, pid)["deliveries_written"]
                             for pid in REGISTRY.ids)
    assert delivered_by_first > 0
    for result, expected in ((pipeline.first, delivered_by_first),
                             (pipeline.second, len(_audited(p, "delivery")))):
        [event] = [e for e in result.get_asset_materialization_events()
                   if e.asset_key == REGISTER_KEY]
        assert event.materialization.metadata["deliveries_recorded"].value == expected
    page = (p.outbox / "register" / "processing_register.md").read_text(encoding="utf-8")
    for pid in REGISTRY.ids:
        count = sum(e["protocol"] == pid for e in _audited(p, "delivery"))
        section = page.split(f"## {pid}: ", 1)[1].split("\n## ", 1)[0]
        assert f"**Deliveries recorded in the audit trail: {count}**" in section, pid


def test_the_refusal_check_of_the_main_job_states_reason_and_remedy(pipeline):
    [check] = [c for c in pipeline.first.get_asset_check_evaluations()
               if c.check_name == REFUSAL_CHECK and c.asset_key.path[-1] == "antwerpen_okan"]
    ended = REGISTRY.protocol("antwerpen_okan").valid_until.isoformat()
    assert f"antwerpen_okan expired on {ended}" in check.description
    assert ("register a renewal under validity.renewals in "
            "orchestration/protocols/definitions/antwerpen_okan.yaml") in check.description
    assert check.metadata["remedy"].value in check.description
