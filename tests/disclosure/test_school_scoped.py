"""School-scoped outputs (Antwerp school portraits, early-warning pilot).

What a failure means: a school would see another school's figures, or a request that is not
exactly a registered school id (empty, a pattern, another format) would return data.
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.disclosure import (DisclosureError, policy_for, school_portrait,
                                      school_portraits, validate_school_id)
from tests.disclosure.helpers import THRESHOLD, school_microdata

POLICY = policy_for("antwerpen_okan", "school_portraits")
DIMS = ["level"]


@pytest.fixture(scope="module")
def micro() -> pd.DataFrame:
    return school_microdata(np.random.default_rng(21))


@pytest.fixture(scope="module")
def registry(micro) -> frozenset[str]:
    """Every school of the data but the last one, which is not registered."""
    ids = sorted(micro["institution_number"].unique())
    return frozenset(ids[:-1])


def portrait(micro, registry, school_id, **kwargs):
    return school_portrait(micro, POLICY, school_id=school_id, school_ids=registry,
                           school_column="institution_number", dims=DIMS, pupil_key="pupil",
                           **kwargs)


def test_a_portrait_holds_only_its_own_school(micro, registry):
    sid = sorted(registry)[3]
    p = portrait(micro, registry, sid)
    assert p is not None and p.school_id == sid
    assert set(p.frame["institution_number"]) == {sid}
    others = set(micro["institution_number"]) - {sid}
    cells = set(p.frame.astype(str).to_numpy().ravel())
    assert not cells & others
    assert not cells & set(micro["school_name"])


def test_the_own_figures_are_that_schools_pupils_and_small_counts_stay_hidden(micro, registry):
    sid = sorted(registry)[3]
    p = portrait(micro, registry, sid)
    own = micro[micro["institution_number"] == sid]
    for row in p.frame.to_dict("records"):
        truth = len(own) if row["level"] == "Total" else int((own["level"] == row["level"]).sum())
        if row["own_suppressed"]:
            assert pd.isna(row["own_pupils"])
        else:
            assert row["own_pupils"] == truth
            assert not 1 <= truth <= THRESHOLD - 1


def test_the_benchmark_aggregates_other_schools_only_and_is_protected(micro, registry):
    sid = sorted(registry)[3]
    p = portrait(micro, registry, sid)
    others = micro[micro["institution_number"] != sid]
    assert "institution_number" not in p.benchmark.frame.columns
    for row in p.frame.to_dict("records"):
        sub = others if row["level"] == "Total" else others[others["level"] == row["level"]]
        if not row["benchmark_suppressed"]:
            assert row["benchmark_pupils"] == len(sub)
            assert row["benchmark_pupils"] == 0 or sub["institution_number"].nunique() >= 3
            assert not 1 <= row["benchmark_pupils"] <= THRESHOLD - 1
    assert "Source: Departement Onderwijs en Vorming." in p.benchmark.note.text


@pytest.mark.parametrize("bad", ["", "%", "*", "0%", "10000%", "1000*", "_", "?",
                                 "12345", "1234567", " 100001", "100001 ", "100001\n",
                                 "１０００01", "100001' or '1'='1", "999999", 100001, None,
                                 ["100001"]])
def test_anything_but_a_registered_six_digit_id_yields_nothing_and_is_logged(micro, registry,
                                                                            bad, caplog):
    with caplog.at_level(logging.WARNING, logger="orchestration.disclosure.school_scoped"):
        assert portrait(micro, registry, bad) is None
    records = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(records) == 1
    if isinstance(bad, str) and bad.strip():
        assert bad.strip() not in records[0].getMessage()


def test_a_school_in_the_data_but_not_in_the_registry_gets_nothing(micro, registry, caplog):
    unregistered = sorted(set(micro["institution_number"]) - registry)[0]
    with caplog.at_level(logging.WARNING):
        assert portrait(micro, registry, unregistered) is None
    assert "not in the registry" in caplog.text
    assert unregistered not in caplog.text


def test_a_valid_id_is_returned_as_is_and_nothing_is_logged(registry, caplog):
    sid = sorted(registry)[0]
    with caplog.at_level(logging.WARNING):
        assert validate_school_id(sid, registry) == sid
    assert caplog.text == ""


@pytest.mark.slow
def test_one_portrait_per_registered_school_each_with_only_its_id(micro, registry):
    some = frozenset(sorted(registry)[:6])
    portraits = school_portraits(micro, POLICY, school_ids=some,
                                 school_column="institution_number", dims=DIMS,
                                 pupil_key="pupil")
    assert set(portraits) == set(some)
    for sid, p in portraits.items():
        assert set(p.frame["institution_number"]) == {sid}


def test_a_duckdb_relation_gives_the_same_portrait(micro, registry):
    sid = sorted(registry)[5]
    with duckdb.connect() as con:
        rel = con.from_df(micro)
        from_relation = portrait(rel, registry, sid)
        assert from_relation is not None
        rel_frame = from_relation.frame
    from_frame = portrait(micro, registry, sid).frame
    pd.testing.assert_frame_equal(rel_frame, from_frame)


def test_a_registry_with_malformed_ids_is_refused(micro):
    with pytest.raises(DisclosureError, match="six-digit"):
        portrait(micro, frozenset({"100001", "%"}), "100001")


def test_only_a_school_scoped_output_makes_portraits(micro, registry):
    public = policy_for("antwerpen_okan", "monitor_newcomer_inflow")
    with pytest.raises(DisclosureError, match="not a school-scoped"):
        school_portrait(micro, public, school_id=sorted(registry)[0], school_ids=registry,
                        school_column="institution_number", dims=DIMS, pupil_key="pupil")
