"""The policy comes from the registry, and the publishing step counts pupils the right way.

What a failure means: an output would be protected with another protocol's rules, a pupil
would be counted twice (or in two cells), or an exact internal figure would be blurred.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.disclosure import (TOTAL, DisclosureError, DisclosurePolicy, policy_for,
                                      publish)
from tests.disclosure.helpers import COUNTS_ONLY, THRESHOLD, random_counts


def test_the_antwerp_monitor_policy_comes_from_the_registry():
    p = policy_for("antwerpen_okan", "monitor_newcomer_inflow")
    assert p.audience == "public" and p.suppress_small_counts
    assert p.threshold == 10 and not p.schools_identifiable and not p.rankings_allowed
    assert p.source_citation == "Departement Onderwijs en Vorming"
    assert p.min_schools_per_cell == 3


def test_the_school_portraits_policy_is_school_scoped_and_knows_its_school_column():
    p = policy_for("antwerpen_okan", "school_portraits")
    assert p.is_school_scoped and p.school_scoped_access == "own_schools_only"
    assert "institution_number" in p.school_columns


def test_the_other_aggregated_outputs_get_their_protocols_rules():
    assert policy_for("naft_evaluation", "dov_semi_aggregated").audience == "processor"
    duo = policy_for("duo_leerplicht", "parliamentary_figures")
    assert duo.is_public and duo.source_citation.startswith("Dienst Uitvoering Onderwijs")
    funding = policy_for("zorgthuis", "funding_counts")
    assert not funding.suppress_small_counts and not funding.publication_allowed


def test_zorgthuis_funding_counts_stay_exact_and_say_so():
    rng = np.random.default_rng(1)
    counts = random_counts(rng, (8,), names=["institution_number"])
    policy = policy_for("zorgthuis", "funding_counts")
    table = publish(counts, policy, dims=["institution_number"], count_column="n",
                    name="funding_counts")["funding_counts"]
    assert not table.frame["suppressed"].any()
    merged = table.frame.merge(counts, on="institution_number")
    assert (merged["pupils"] == merged["n"]).all()
    assert "Exact counts" in table.note.text and "never published" in table.note.text


def test_an_exact_output_can_never_be_public():
    public_exact = COUNTS_ONLY.with_overrides(audience="public", publication_allowed=True,
                                              suppress_small_counts=False)
    with pytest.raises(DisclosureError, match="must be protected"):
        publish(random_counts(np.random.default_rng(0), (3,)), public_exact, dims=["d0"],
                count_column="n")


def test_a_policy_with_a_threshold_below_two_is_refused():
    with pytest.raises(DisclosureError):
        DisclosurePolicy(protocol_id="x", output_id="y", audience="public", threshold=1)


def test_distinct_pupils_are_counted_once_however_many_rows_they_have():
    micro = pd.DataFrame({"pupil": [1, 1, 1, 2, 3] + list(range(10, 30)),
                          "area": ["a"] * 5 + ["a"] * 20})
    table = publish(micro, COUNTS_ONLY, dims=["area"], pupil_key="pupil", name="t")["t"]
    assert table.frame.loc[table.frame["area"] == "a", "pupils"].iat[0] == 23


def test_a_pupil_in_two_cells_is_refused_without_naming_the_pupil():
    micro = pd.DataFrame({"pupil": ["P-7"] * 2 + [f"Q{i}" for i in range(20)],
                          "area": ["a", "b"] + ["a"] * 20})
    with pytest.raises(DisclosureError, match="1 pupils fall in more than one cell") as exc:
        publish(micro, COUNTS_ONLY, dims=["area"], pupil_key="pupil")
    assert "P-7" not in str(exc.value)


def test_rows_without_a_pupil_key_are_refused():
    micro = pd.DataFrame({"pupil": [1, None, 3], "area": ["a", "a", "b"]})
    with pytest.raises(DisclosureError, match="no pupil key"):
        publish(micro, COUNTS_ONLY, dims=["area"], pupil_key="pupil")


def test_counts_that_are_not_non_negative_integers_are_refused():
    counts = pd.DataFrame({"area": ["a", "b"], "n": [12, -1]})
    with pytest.raises(DisclosureError, match="non-negative integers"):
        publish(counts, COUNTS_ONLY, dims=["area"], count_column="n")


def test_a_category_named_like_the_margin_is_refused():
    counts = pd.DataFrame({"area": ["a", TOTAL], "n": [12, 30]})
    with pytest.raises(DisclosureError, match="margin label"):
        publish(counts, COUNTS_ONLY, dims=["area"], count_column="n")


def test_a_duckdb_relation_and_a_dataframe_give_the_same_table():
    rng = np.random.default_rng(12)
    micro = pd.DataFrame({"pupil": np.arange(400),
                          "area": rng.choice(["a", "b", "c", "d"], 400),
                          "gender": rng.choice(["F", "M", None], 400, p=[.49, .49, .02])})
    from_frame = publish(micro, COUNTS_ONLY, dims=["area", "gender"], pupil_key="pupil",
                         name="t")["t"].frame
    with duckdb.connect() as con:
        from_relation = publish(con.from_df(micro), COUNTS_ONLY, dims=["area", "gender"],
                                pupil_key="pupil", name="t")["t"].frame
    pd.testing.assert_frame_equal(from_frame, from_relation)
    assert "Unknown" in set(from_frame["gender"])


def test_by_columns_make_separate_tables_without_a_total_over_them():
    rng = np.random.default_rng(13)
    frames = []
    for date in ("2024-10-15", "2024-12-15", "2025-02-15"):
        c = random_counts(rng, (5, 3), names=["municipality", "birth_year"])
        c["reference_date"] = date
        frames.append(c)
    counts = pd.concat(frames, ignore_index=True)
    table = publish(counts, COUNTS_ONLY, dims=["municipality", "birth_year"], count_column="n",
                    by=["reference_date"], name="t")["t"]
    f = table.frame
    assert list(f.columns[:3]) == ["reference_date", "municipality", "birth_year"]
    assert TOTAL not in set(f["reference_date"])
    assert len(f) == 3 * 6 * 4
    shown = f.loc[~f["suppressed"], "pupils"].astype(int)
    assert not ((shown >= 1) & (shown <= THRESHOLD - 1)).any()


def test_the_release_record_keeps_true_values_that_no_published_table_shows():
    rng = np.random.default_rng(14)
    counts = random_counts(rng, (6, 5), names=["a", "b"])
    pub = publish(counts, COUNTS_ONLY, dims=["a", "b"], count_column="n", name="t",
                  release="2024-25")
    hidden = pub.record.cells[pub.record.cells["suppressed"]]
    assert len(hidden) == int(pub["t"].frame["suppressed"].sum())
    assert hidden["value"].notna().all()
    assert pub["t"].frame.loc[pub["t"].frame["suppressed"], "pupils"].isna().all()
    assert int(pub.record.atoms["n"].sum()) == int(counts["n"].sum())


def test_publishing_the_same_input_twice_gives_the_same_tables():
    rng = np.random.default_rng(15)
    counts = random_counts(rng, (6, 5), names=["a", "b"])
    first = publish(counts, COUNTS_ONLY, dims=["a", "b"], count_column="n", name="t")["t"]
    again = publish(counts.sample(frac=1, random_state=1), COUNTS_ONLY, dims=["a", "b"],
                    count_column="n", name="t")["t"]
    pd.testing.assert_frame_equal(first.frame, again.frame)
