"""Public outputs (Antwerp education monitor): no school identifiable, no ranking, notes.

What a failure means: a public table would name a school, show a figure that is one or two
schools' figure, let a school subtract its own pupils and learn a small count of other schools'
pupils, rank strata by an outcome, or leave a reader without the source and the method.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orchestration.disclosure import (TOTAL, DisclosureError, check_public_frame, is_rank_column,
                                      is_school_column, policy_for, publish, to_display)
from tests.disclosure.helpers import THRESHOLD, Reader, school_microdata

POLICY = policy_for("antwerpen_okan", "monitor_newcomer_inflow")
DIMS = ["district", "level"]


@pytest.fixture(scope="module")
def micro() -> pd.DataFrame:
    return school_microdata(np.random.default_rng(8))


@pytest.fixture(scope="module")
def monitor(micro):
    return publish(micro, POLICY, dims=DIMS, pupil_key="pupil",
                   school_column="institution_number", name="monitor")["monitor"]


def _subset(micro: pd.DataFrame, row: dict) -> pd.DataFrame:
    mask = np.ones(len(micro), dtype=bool)
    for c in DIMS:
        if row[c] != TOTAL:
            mask &= (micro[c] == row[c]).to_numpy()
    return micro[mask]


def test_a_public_table_carries_no_school_identifier_name_or_address(monitor, micro):
    frame = monitor.frame
    assert list(frame.columns) == ["district", "level", "pupils", "suppressed"]
    assert not any(is_school_column(c) for c in frame.columns)
    cells = set(frame.astype(str).to_numpy().ravel())
    assert not cells & set(micro["institution_number"])
    assert not cells & set(micro["school_name"]) and "Schoolstraat 1" not in cells


def test_a_public_table_is_ordered_by_stratum_keys_and_has_no_rank_column(monitor):
    check_public_frame(monitor.frame, monitor.key_columns, POLICY)
    assert not any(is_rank_column(c) for c in monitor.frame.columns)
    by_outcome = monitor.frame.sort_values("pupils", ascending=False, na_position="last")
    with pytest.raises(DisclosureError, match="ordered by stratum keys"):
        check_public_frame(by_outcome.reset_index(drop=True), monitor.key_columns, POLICY)
    ranked = monitor.frame.assign(rank=range(len(monitor.frame)))
    with pytest.raises(DisclosureError, match="ranking"):
        check_public_frame(ranked, monitor.key_columns, POLICY)


def test_every_published_figure_covers_at_least_three_schools(monitor, micro):
    for row in monitor.frame[~monitor.frame["suppressed"]].to_dict("records"):
        if row["pupils"] > 0:
            assert _subset(micro, row)["institution_number"].nunique() >= 3, row


def test_no_school_can_subtract_its_own_pupils_from_a_figure_and_keep_1_to_9(monitor, micro):
    for row in monitor.frame[~monitor.frame["suppressed"]].to_dict("records"):
        sub = _subset(micro, row)
        if len(sub):
            rest = len(sub) - int(sub["institution_number"].value_counts().max())
            assert not 1 <= rest <= THRESHOLD - 1, row


def test_the_district_with_two_schools_is_hidden_and_stays_uncertain(monitor, micro):
    frame = monitor.frame
    d5 = frame[frame["district"] == "d5"]
    assert d5.loc[d5["pupils"].fillna(1) > 0, "suppressed"].all()
    counts = micro.groupby(DIMS).size().rename("n").reset_index()
    reader = Reader(counts[DIMS].to_dict("records"))
    reader.read("monitor", frame, DIMS, "pupils", "suppressed")
    for _, key, lo, hi in reader.hidden_bounds():
        if key["district"] == "d5":
            value = len(_subset(micro, key))
            margin = POLICY.school_margin(value)
            assert hi >= value + margin, (key, lo, hi)


def test_the_dominated_cell_is_hidden(monitor, micro):
    row = monitor.frame[(monitor.frame["district"] == "d4")
                        & (monitor.frame["level"] == "special")].iloc[0]
    assert row["suppressed"]


def test_a_breakdown_by_school_is_refused_in_a_public_table(micro):
    for dims in (["institution_number", "level"], ["school_name"], ["street"]):
        with pytest.raises(DisclosureError, match="school"):
            publish(micro, POLICY, dims=dims, pupil_key="pupil",
                    school_column="institution_number")


@pytest.mark.parametrize("column", ["institution_number", "instellingsnummer", "school_id",
                                    "school_name", "branch_number", "vestigingsplaats",
                                    "street", "address", "school", "school_code"])
def test_school_identifier_columns_are_recognised(column):
    assert is_school_column(column)


@pytest.mark.parametrize("column", ["school_year", "school_delay_count", "district", "level",
                                    "pupils", "early_school_leaving_rate", "postcode"])
def test_ordinary_columns_are_not_taken_for_school_identifiers(column):
    assert not is_school_column(column)


@pytest.mark.parametrize("column", ["rank", "school_rank", "percentile", "pct_rank",
                                    "top_10", "ranking", "quartile", "rangorde"])
def test_ranking_columns_are_recognised(column):
    assert is_rank_column(column)


def test_a_public_output_needs_the_school_column_to_check_the_school_rules(micro):
    with pytest.raises(DisclosureError, match="school_column"):
        publish(micro, POLICY, dims=DIMS, pupil_key="pupil")


def test_a_protocol_that_allows_no_publication_cannot_publish(micro):
    closed = POLICY.with_overrides(publication_allowed=False)
    with pytest.raises(DisclosureError, match="no publication"):
        publish(micro, closed, dims=DIMS, pupil_key="pupil", school_column="institution_number")


def test_every_published_table_carries_a_note_with_threshold_method_and_source(monitor):
    note = monitor.note
    assert note.threshold == THRESHOLD
    assert note.source == "Departement Onderwijs en Vorming"
    assert "Source: Departement Onderwijs en Vorming." in note.text
    assert "from 1 to 9 are not shown" in note.text
    assert "secondary suppression" in note.text
    assert "at least 3 schools" in note.text
    assert note.hidden == int(monitor.frame["suppressed"].sum())
    assert note.as_dict()["protocol_id"] == "antwerpen_okan"


def test_the_display_form_marks_hidden_figures_with_one_symbol(monitor):
    shown = to_display(monitor.frame)
    assert "suppressed" not in shown.columns
    hidden = monitor.frame["suppressed"].to_numpy()
    assert (shown.loc[hidden, "pupils"] == "c").all()
    assert not (shown.loc[~hidden, "pupils"] == "c").any()


@pytest.fixture(scope="module")
def rates(micro):
    return publish(micro, POLICY, dims=DIMS, pupil_key="pupil",
                   school_column="institution_number", rate_outcome="leaver",
                   name="early_school_leaving")["early_school_leaving"]


def test_a_rate_is_shown_only_where_its_pupils_and_numerator_are_shown(rates):
    f = rates.frame
    shown = f[~f["leaver_rate_suppressed"] & f["leaver_rate"].notna()]
    assert (~shown["pupils_suppressed"] & ~shown["leaver_pupils_suppressed"]).all()
    assert (shown["pupils"] >= THRESHOLD).all()
    hidden_counts = f["pupils_suppressed"] | f["leaver_pupils_suppressed"]
    assert f.loc[hidden_counts, "leaver_rate_suppressed"].all()
    assert f.loc[hidden_counts, "leaver_rate"].isna().all()


def test_no_rate_of_zero_or_one_and_no_small_numerator_or_complement_is_shown(rates):
    f = rates.frame
    shown = f[~f["leaver_rate_suppressed"] & f["leaver_rate"].notna()]
    assert ((shown["leaver_rate"] > 0) & (shown["leaver_rate"] < 1)).all()
    num = shown["leaver_pupils"].astype(int)
    rest = shown["pupils"].astype(int) - num
    assert not ((num >= 1) & (num <= 9)).any()
    assert not ((rest >= 1) & (rest <= 9)).any()


def test_a_rate_on_fewer_than_ten_pupils_is_not_shown():
    micro = pd.DataFrame({"pupil": range(40),
                          "area": ["a"] * 6 + ["b"] * 17 + ["c"] * 17,
                          "in_education": [True, False] * 20})
    policy = policy_for("naft_evaluation", "dov_semi_aggregated")
    f = publish(micro, policy, dims=["area"], pupil_key="pupil", rate_outcome="in_education",
                name="share")["share"].frame
    a = f[f["area"] == "a"].iloc[0]
    assert a["pupils_suppressed"] and a["in_education_rate_suppressed"]
    assert pd.isna(a["in_education_rate"])
