"""Protocol fidelity on the sample: antwerpen_okan 11b, 11c, school portraits and the source of
published files (art. 3 and 4), and the candidates of the duo_leerplicht follow-up list.

Each expectation is recomputed from the layers below the delivery (intermediate models, the
linkage tables, the registry), never from the model under test. Messages give counts only.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.deliveries import datapackage, writer
from orchestration.foundations import settings
from orchestration.foundations.warehouse import connect
from orchestration.protocols import load_registry

REGISTRY = load_registry()
OKAN = REGISTRY.protocol("antwerpen_okan")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def con(pipeline):
    assert pipeline.first.success, "the main job failed"
    with connect(pipeline.paths, read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def okan_folder(pipeline, tmp_path_factory) -> Path:
    """antwerpen_okan delivered from a copy of the pipeline's warehouse inside its validity."""
    data = tmp_path_factory.mktemp("okan_fidelity") / "data"
    (data / "warehouse").mkdir(parents=True)
    shutil.copy2(pipeline.paths.warehouse, data / "warehouse" / "warehouse.duckdb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.ENV_DATA_DIR, str(data))
        outcome = writer.deliver("antwerpen_okan", p=settings.paths(), today=dt.date(2025, 6, 1))
    assert outcome.status == "delivered", outcome.message
    return outcome.folder


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def _scalar(con, sql: str):
    return con.execute(sql).fetchone()[0]


# ------------------------------------------------------------------------- 4. 11b whole career


def test_later_career_holds_every_enrolment_of_the_career_through_the_current_year(con,
                                                                                 okan_folder):
    """11b: "alle inschrijvingen in de vervolgloopbaan t.e.m. het huidige schooljaar": every
    enrolment from the first (OK)AN school year on, also two on one date and enrolments after a
    qualification or early school leaving."""
    expected = _scalar(con, """
        select count(*)
        from intermediate.int_tracks__enrolments as e
        inner join marts.okan_newcomer as n on e.pupil_key = n.pupil_key
        where e.school_year_start >= cast(substr(n.school_year, 1, 4) as integer)""")
    delivered = len(_csv(okan_folder / "later_career.csv"))
    assert expected > 0
    assert delivered == expected, f"11b holds {delivered} enrolments, the career has {expected}"
    # the sample has careers going on after a qualification or early leaving (enrolments side
    # by side on one date are exercised by the model's dbt unit test)
    side_by_side, after_outcome = con.execute("""
        with career as (
            select e.*, n.school_year as first_year
            from intermediate.int_tracks__enrolments as e
            inner join marts.okan_newcomer as n on e.pupil_key = n.pupil_key
            where e.school_year_start >= cast(substr(n.school_year, 1, 4) as integer)),
        outcome as (
            select pupil_key, min(school_year) as outcome_year from marts.pupil_year
            where is_early_school_leaver or obtained_secondary_qualification group by 1)
        select
            (select count(*) from career as a inner join career as b
               on a.pupil_key = b.pupil_key and a.school_year = b.school_year
              and a.enrolment_id < b.enrolment_id
              and a.start_date <= b.covered_until and b.start_date <= a.covered_until),
            (select count(*) from career inner join outcome using (pupil_key)
              where career.school_year > outcome.outcome_year)""").fetchone()
    assert after_outcome > 0, (side_by_side, after_outcome)


# ------------------------------------------------------------------------- 5. 11c at leaving


def test_early_school_leaving_holds_only_pupils_entering_the_indicator(con, okan_folder):
    """11c: "Gegevens op moment van opname in indicator vsv": J early leavers, N qualified
    leavers, in the school year of leaving; a pupil who has not left has no row."""
    wrong = con.execute("""
        select
            count(*) filter (where l.school_leaving_status is null
                             or l.school_leaving_status not in ('early_school_leaver',
                                                                'qualified_leaver')),
            count(*) filter (where (d.early_school_leaver = 'J')
                             <> (l.school_leaving_status = 'early_school_leaver')),
            count(*) filter (where d.school_year is distinct from l.leaving_school_year),
            count(*)
        from deliveries.antwerpen_okan__early_school_leaving as d
        left join intermediate.int_pupil_school_leaving as l on d.pupil_key = l.pupil_key
        """).fetchone()
    not_left, wrong_flag, wrong_year, rows = wrong
    assert rows > 0
    assert not_left == 0, f"{not_left} of {rows} 11c rows are pupils who did not leave"
    assert wrong_flag == 0, f"{wrong_flag} rows with J/N not matching early/qualified leaving"
    assert wrong_year == 0, f"{wrong_year} rows not dated by the school year of leaving"
    expected = _scalar(con, """
        select count(*) from marts.okan_newcomer as n
        inner join intermediate.int_pupil_school_leaving as l using (pupil_key)
        where l.school_leaving_status in ('early_school_leaver', 'qualified_leaver')""")
    delivered = _csv(okan_folder / "early_school_leaving.csv")
    assert len(delivered) == expected
    assert {r["early_school_leaver"] for r in delivered} == {"J", "N"}


# ------------------------------------------------------------------------- 6. own school only


def test_school_portraits_go_out_as_one_package_per_school_with_its_own_rows(con, okan_folder):
    """Art. 4: schools "hebben enkel toegang tot de gegevens van de eigen school"."""
    assert not (okan_folder / "school_portraits.csv").exists()
    main = json.loads((okan_folder / "datapackage.json").read_text())
    assert all(r["delivery_file"] != "school_portraits" for r in main["resources"])
    schools = sorted(p.name for p in (okan_folder / "schools").iterdir())
    in_model = [r[0] for r in con.execute(
        "select distinct institution_number from deliveries.antwerpen_okan__school_portraits "
        "order by 1").fetchall()]
    assert schools == in_model and len(schools) > 1
    assert main["school_packages"] == [f"schools/{s}/datapackage.json" for s in schools]
    for school in schools:
        package = okan_folder / "schools" / school / "datapackage.json"
        assert datapackage.validate(package).valid, school
        body = json.loads(package.read_text())
        assert body["school"] == school
        assert [r["delivery_file"] for r in body["resources"]] == ["school_portraits"] * 2
        rows = _csv(okan_folder / "schools" / school / "school_portraits.csv")
        assert rows and {r["institution_number"] for r in rows} == {school}


def test_public_outputs_name_no_school_and_rank_none(okan_folder):
    """Art. 4: no school identifiable in public outputs, no rankings."""
    public = [f for f in OKAN.delivery_files if f.audience == "public"]
    assert public
    school_like = {"institution_number", "branch_number", "school_number", "school_name",
                   "institution_name"}
    for f in public:
        rows = _csv(okan_folder / f"{f.id}.csv")
        assert not school_like & set(rows[0]), f.id
        assert not any("rank" in c for c in rows[0]), f.id


# ------------------------------------------------------------------------- 7. the source named


def test_every_published_output_names_its_source_in_its_package(okan_folder):
    """Art. 4: "Bij publicaties [...] wordt de bron vermeld"."""
    source = OKAN.disclosure.source_citation
    published = {f.id for f in OKAN.delivery_files if f.suppress_small_counts}
    packages = [okan_folder / "datapackage.json",
                *sorted((okan_folder / "schools").glob("*/datapackage.json"))]
    seen = set()
    for package in packages:
        body = json.loads(package.read_text())
        for resource in body["resources"]:
            if resource["delivery_file"] in published:
                seen.add(resource["delivery_file"])
                assert resource["sources"] == [{"title": source}], resource["name"]
                assert f"Source: {source}." in resource["disclosure_note"], resource["name"]
            else:
                assert "sources" not in resource, resource["name"]
        if any(r["delivery_file"] in published for r in body["resources"]):
            assert {"title": source} in body["sources"], package
    assert seen == published


# ------------------------------------------------------------------------- 12. DUO candidates


def test_follow_up_candidates_are_the_linkages_own_name_and_birth_date_matches(con):
    """Every CANDIDATE pairs the child with a DUO record that the linkage proposed for that
    child, agreeing on a name and on the birth date: never the birth date alone."""
    candidates, unproposed = con.execute("""
        select count(*),
               count(*) filter (where c.record_key is null)
        from marts.compulsory_education_follow_up as f
        left join linkage.duo_review_candidates as c
            on c.record_key = f.duo_record_key and c.peildatum = f.reference_date
           and c.pupil_key = f.pupil_key
           and c.birth_date_level not in ('different', 'null')
           and (c.surname_level not in ('different', 'null')
                or c.first_names_level not in ('different', 'null'))
        where f.duo_match_status = 'CANDIDATE'""").fetchone()
    assert unproposed == 0, f"{unproposed} of {candidates} candidates are no linkage match"


def test_every_dbt_unit_test_passes_among_them_the_follow_up_with_namesakes(pipeline, tmp_path):
    """Every dbt unit test of the project passes, run against a copy of the sample warehouse:
    the warehouse builds leave them out (orchestration/transform/assets.py,
    WITHOUT_UNIT_TESTS), so this is where they guard the models' SQL. Among them the follow-up
    list's (two children born the same day, one named like the DUO record)."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy2(pipeline.paths.warehouse, warehouse)
    env = {**os.environ, "WAREHOUSE_PATH": str(warehouse), "DUCKDB_MEMORY_LIMIT": "2GB",
           "DBT_PROFILES_DIR": str(ROOT / "dbt_project"), "DO_NOT_TRACK": "1"}
    dbt = str(Path(sys.executable).parent / "dbt")
    out = subprocess.run(
        [dbt, "test", "--select", "test_type:unit",
         "--target-path", str(tmp_path / "target")],
        cwd=ROOT / "dbt_project", env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "compulsory_education_follow_up_matches_candidates_on_name_and_birth_date" in \
        out.stdout
    ran = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    declared = json.loads((tmp_path / "target" / "manifest.json").read_text())["unit_tests"]
    assert {r["unique_id"] for r in ran} == set(declared)
    assert {r["status"] for r in ran} == {"pass"}
