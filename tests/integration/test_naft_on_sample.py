"""naft_evaluation on the sample: the control group of art. 6 step 2 and the denominator of DOV
file 6 for every school year.

Uses the session fixture ``pipeline`` (tests/integration/conftest.py). Each expectation is
recomputed from staging and orchestration.foundations.calendar, not from the marts, so a wrong
rule in the SQL makes the test fail. Failure messages give counts, never personal values.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from orchestration.foundations import calendar
from orchestration.foundations.warehouse import connect
from orchestration.protocols import load_registry

PROTOCOL = "naft_evaluation"
NAFT = load_registry().protocol(PROTOCOL)
BINC_YEARS = ("2020-21", "2024-25")


def _file(file_id: str):
    return next(f for f in NAFT.delivery_files if f.id == file_id)


def _years(file_id: str) -> list[str]:
    period = _file(file_id).period
    first, last = (int(period.school_year_from[:4]), int(period.school_year_to[:4]))
    return [f"{y}-{(y + 1) % 100:02d}" for y in range(first, last + 1)]


@pytest.fixture(scope="module")
def con(pipeline):
    assert pipeline.first.success, "the main job failed"
    with connect(pipeline.paths, read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def delivery(pipeline) -> Path:
    found = sorted(x for x in (pipeline.paths.outbox / PROTOCOL).iterdir() if x.is_dir())
    assert len(found) == 1, f"expected one {PROTOCOL} delivery, found {len(found)}"
    return found[0]


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


# ------------------------------------------------------------------ control group (art. 6 step 2)


def test_the_registry_quotes_step_2_for_the_control_group_decision():
    variable = next(v for v in _file("dov_pupils").variables if v.name == "control_group")
    assert "DOV bakent een controlegroep af binnen de lijst van NAFT-leerlingen" in \
        " ".join(variable.protocol_wording.split())
    decisions = " ".join(" ".join(d.split()) for d in NAFT.decisions)
    assert "bakent een controlegroep af" in decisions and "niet-begunstigden" in decisions


def test_dov_file_4_marks_exactly_the_control_group(con):
    """Control group: in the DOV target population in a BINC school year and not named in BINC
    (the key list); recomputed from staging."""
    wrong, in_group, naft_rows, naft_in_group = con.execute(f"""
        with named as (select distinct pupil_key from staging.stg_binc_naft_beneficiaries),
        expected as (
            select pupil_key,
                   bool_or(school_year between '{BINC_YEARS[0]}' and '{BINC_YEARS[1]}')
                   and pupil_key not in (select pupil_key from named) as in_group
            from deliveries.naft_evaluation__dov_pupils group by pupil_key)
        select count(*) filter (where d.control_group is distinct from e.in_group),
               count(*) filter (where d.control_group),
               count(*) filter (where d.pupil_key in (select pupil_key from named)),
               count(*) filter (where d.control_group
                                and d.pupil_key in (select pupil_key from named))
        from deliveries.naft_evaluation__dov_pupils as d join expected as e using (pupil_key)
    """).fetchone()
    assert in_group > 0 and naft_rows > 0, "the sample must have control-group and NAFT rows"
    assert naft_in_group == 0, f"{naft_in_group} rows of NAFT pupils marked as control group"
    assert wrong == 0, f"{wrong} dov_pupils rows with a wrong control_group"


def test_the_delivered_dov_pupils_files_carry_the_control_group(delivery):
    rows = [r for path in sorted(delivery.glob("dov_pupils_*.csv")) for r in _csv(path)]
    assert rows and {r["control_group"] for r in rows} == {"true", "false"}


# ---------------------------------------------------------- DOV file 6: a denominator every year


def test_every_school_year_of_file_6_has_its_rijksregister_denominator(con):
    """population_count of the TOTAL row = the Rijksregister extract of 15 October of that year:
    children of compulsory school age living in a Flemish municipality, recomputed here."""
    flemish = {nis for (nis,) in con.execute(
        "select cast(nis_code as varchar) from reference.municipalities "
        "where lpad(cast(region_code as varchar), 5, '0') = '02000'").fetchall()}
    children = con.execute("""
        select reference_date, pupil_key, birth_date, residence_nis_code
        from staging.stg_rijksregister_children""").fetchall()
    expected: dict[str, set] = {}
    for reference_date, pupil_key, birth_date, nis in children:
        if (reference_date.month, reference_date.day) != (10, 15) or nis not in flemish:
            continue
        if birth_date and calendar.is_compulsory_school_age(birth_date, reference_date):
            expected.setdefault(f"{reference_date.year}-{(reference_date.year + 1) % 100:02d}",
                                set()).add(pupil_key)
    delivered = dict(con.execute("""
        select school_year, population_count from deliveries.naft_evaluation__dov_semi_aggregated
        where area_level = 'TOTAL'""").fetchall())
    years = _years("dov_semi_aggregated")
    assert {y: delivered.get(y) for y in years} == {y: len(expected.get(y, ())) for y in years}
    assert all(delivered[y] > 0 for y in years), "a school year without a denominator"


def test_every_yearly_file_6_is_delivered_with_a_share(delivery):
    for year in _years("dov_semi_aggregated"):
        path = delivery / f"dov_semi_aggregated_{year}.csv"
        assert path.exists(), f"no file 6 for {year}"
        rows = _csv(path)
        total = [r for r in rows if r["area_level"] == "TOTAL"]
        assert len(total) == 1 and total[0]["share_in_education"] != "", f"{year}: no TOTAL share"
        assert 0 < float(total[0]["share_in_education"]) <= 1
        assert any(r["area_level"] == "POSTCODE" for r in rows), f"{year}: no postcode row"


def test_the_sample_has_a_population_extract_for_every_15_october_of_file_6():
    sample = Path(__file__).resolve().parents[2] / "data" / "sample" / "rijksregister"
    dates = {dt.date.fromisoformat(p.stem.rsplit("_", 1)[1]) for p in sample.glob("*.csv")}
    missing = [y for y in _years("dov_semi_aggregated")
               if calendar.duo_reference_dates(y)["duo_october_15"] not in dates]
    assert missing == []
