"""Differencing: overlapping tables and successive releases must not reveal a small count.

What a failure means: a reader subtracting one published figure from another (this table minus
the table without one category, this year's cumulative figure minus last year's) would get the
exact number of a few pupils.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orchestration.disclosure import (DisclosureError, ReleaseRecord, TableSpec, publish,
                                      small_differences)
from tests.disclosure.helpers import (COUNTS_ONLY, THRESHOLD, Reader, as_microdata,
                                      exposures, interior_variables, matches, random_counts,
                                      truth_lookup)

pytestmark = pytest.mark.slow  # integer attacks (scipy milp) on many random tables

DIMS = ["municipality", "category"]
LEFT_OUT = "category0"


def overlapping(counts: pd.DataFrame, together: bool = True):
    """By municipality, and by municipality without one category."""
    full = TableSpec.make("by_municipality", ["municipality"])
    part = TableSpec.make("by_municipality_without_one_category", ["municipality"],
                          exclude={"category": [LEFT_OUT]})
    if together:
        pub = publish(counts, COUNTS_ONLY, tables=[full, part], count_column="n")
        return pub[full.name].frame, pub[part.name].frame
    a = publish(counts, COUNTS_ONLY, tables=[full], count_column="n")[full.name].frame
    b = publish(counts, COUNTS_ONLY, tables=[part], count_column="n")[part.name].frame
    return a, b


@pytest.fixture(scope="module")
def overlapping_tables():
    rng = np.random.default_rng(31)
    out = []
    for _ in range(15):
        counts = random_counts(rng, (6, 4), names=DIMS)
        out.append((counts, *overlapping(counts)))
    return out


def test_subtracting_the_table_without_one_category_never_gives_1_to_9(overlapping_tables):
    for _, full, part in overlapping_tables:
        assert small_differences(full, part, ["municipality"], "pupils", THRESHOLD).empty


def test_the_left_out_category_cannot_be_narrowed_below_the_threshold(overlapping_tables):
    """Integer attack over both tables: the left-out category per municipality, and every
    hidden figure, stays protected."""
    for counts, full, part in overlapping_tables:
        reader = Reader(interior_variables(counts, DIMS))
        reader.read("full", full, ["municipality"], "pupils", "suppressed")
        reader.read("part", part, ["municipality"], "pupils", "suppressed",
                    select=lambda row, var: matches(row, var, ["municipality"])
                    and var["category"] != LEFT_OUT)
        left_out = counts[counts["category"] == LEFT_OUT]
        for m, value in zip(left_out["municipality"], left_out["n"]):
            coef = np.array([1.0 if v["municipality"] == m and v["category"] == LEFT_OUT
                             else 0.0 for v in reader.variables])
            lo, hi = reader.bounds(coef)
            if 1 <= value <= THRESHOLD - 1:
                assert hi >= THRESHOLD, (m, lo, hi)

        def truth(name, key, counts=counts):
            keep = counts if name == "full" else counts[counts["category"] != LEFT_OUT]
            return truth_lookup(keep, ["municipality"])(name, key)
        assert exposures(reader, truth) == []


def test_publishing_the_overlapping_tables_one_by_one_would_leak():
    """Why they go through one system: protected separately, A - B reveals small counts."""
    rng = np.random.default_rng(31)
    leaks = 0
    for _ in range(15):
        counts = random_counts(rng, (6, 4), names=DIMS)
        full, part = overlapping(counts, together=False)
        leaks += not small_differences(full, part, ["municipality"], "pupils", THRESHOLD).empty
    assert leaks >= 5


def test_cells_shared_by_overlapping_tables_carry_one_status():
    rng = np.random.default_rng(2)
    counts = random_counts(rng, (6, 4), names=DIMS)
    cube = TableSpec.make("cube", DIMS)
    margin = TableSpec.make("by_municipality", ["municipality"])
    pub = publish(counts, COUNTS_ONLY, tables=[cube, margin], count_column="n")
    cube_frame, margin_frame = pub["cube"].frame, pub["by_municipality"].frame
    totals = cube_frame[cube_frame["category"] == "Total"].drop(columns="category")
    both = totals.merge(margin_frame, on="municipality", suffixes=("_cube", "_margin"))
    assert (both["suppressed_cube"] == both["suppressed_margin"]).all()


# ------------------------------------------------------------------------------- releases


def grow(counts: pd.DataFrame, rng: np.random.Generator, high: int = 4) -> pd.DataFrame:
    """Next release of a cumulative population: every cell gains 0..high new pupils."""
    out = counts.copy()
    out["n"] = out["n"] + rng.integers(0, high + 1, size=len(out))
    return out


@pytest.fixture(scope="module")
def two_releases():
    rng = np.random.default_rng(41)
    out = []
    for _ in range(10):
        first = random_counts(rng, (6, 5), names=DIMS)
        second = grow(first, rng)
        r1 = publish(as_microdata(first, DIMS), COUNTS_ONLY, dims=DIMS, pupil_key="pupil",
                     name="t", release="2023-24")
        # release 2: the same pupils plus new ones (ids continue)
        new = second.copy()
        new["n"] = second["n"] - first["n"]
        micro2 = pd.concat([as_microdata(first, DIMS),
                            as_microdata(new, DIMS, start=10_000)], ignore_index=True)
        r2 = publish(micro2, COUNTS_ONLY, dims=DIMS, pupil_key="pupil", name="t",
                     release="2024-25", previous=r1.record, nested=True)
        out.append((first, second, r1, r2))
    return out


def test_this_release_minus_the_last_never_gives_1_to_9(two_releases):
    for _, _, r1, r2 in two_releases:
        assert small_differences(r2["t"].frame, r1["t"].frame, DIMS, "pupils", THRESHOLD).empty


def test_last_releases_suppression_pattern_is_carried_forward(two_releases):
    for _, _, r1, r2 in two_releases:
        both = r1["t"].frame.merge(r2["t"].frame, on=DIMS, suffixes=("_1", "_2"))
        assert not (both["suppressed_1"] & ~both["suppressed_2"]).any()


def test_an_integer_attack_across_both_releases_finds_nothing(two_releases):
    """Variables: last release's atoms and the new pupils per atom; last release's table
    constrains the first, this release's the sum."""
    for first, second, r1, r2 in two_releases[:5]:
        interior = interior_variables(first, DIMS)
        variables = [dict(v, part="old") for v in interior] + \
                    [dict(v, part="new") for v in interior]
        reader = Reader(variables)
        reader.read("r1", r1["t"].frame, DIMS, "pupils", "suppressed",
                    select=lambda row, var: var["part"] == "old" and matches(row, var, DIMS))
        reader.read("r2", r2["t"].frame, DIMS, "pupils", "suppressed")

        def truth(name, key, first=first, second=second):
            return truth_lookup(first if name == "r1" else second, DIMS)(name, key)
        assert exposures(reader, truth) == []
        # the pupils added to any cell since last release: never pinned to a small number
        growth = second["n"].to_numpy() - first["n"].to_numpy()
        for i, added in enumerate(growth):
            if 1 <= added <= THRESHOLD - 1:
                coef = np.zeros(len(variables))
                coef[len(interior) + i] = 1.0
                lo, hi = reader.bounds(coef)
                assert hi >= THRESHOLD, (interior[i], lo, hi)


def test_publishing_the_second_release_without_the_first_would_leak():
    rng = np.random.default_rng(41)
    leaks = 0
    for _ in range(10):
        first = random_counts(rng, (6, 5), names=DIMS)
        second = grow(first, rng)
        a = publish(first, COUNTS_ONLY, dims=DIMS, count_column="n", name="t")["t"].frame
        b = publish(second, COUNTS_ONLY, dims=DIMS, count_column="n", name="t")["t"].frame
        leaks += not small_differences(b, a, DIMS, "pupils", THRESHOLD).empty
    assert leaks >= 8


def test_an_independent_release_keeps_the_previous_pattern(tmp_path):
    """Separate populations (another school year): only the pattern is carried forward, and
    the record survives a round trip through the restricted zone."""
    rng = np.random.default_rng(3)
    first = random_counts(rng, (6, 5), names=DIMS)
    r1 = publish(first, COUNTS_ONLY, dims=DIMS, count_column="n", name="t", release="2023-24")
    record = ReleaseRecord.load(r1.record.save(tmp_path / "record"))
    second = random_counts(rng, (6, 5), names=DIMS)
    r2 = publish(second, COUNTS_ONLY, dims=DIMS, count_column="n", name="t",
                 previous=record, release="2024-25")
    both = r1["t"].frame.merge(r2["t"].frame, on=DIMS, suffixes=("_1", "_2"))
    truth = truth_lookup(second, DIMS)
    carried = both[both["suppressed_1"]]
    for row in carried.to_dict("records"):
        assert row["suppressed_2"] or truth("t", row) == 0
    assert "previous release stay hidden" in r2["t"].note.text


def test_a_release_whose_population_shrank_is_refused_as_nested():
    rng = np.random.default_rng(4)
    first = random_counts(rng, (4, 3), names=DIMS)
    r1 = publish(first, COUNTS_ONLY, dims=DIMS, count_column="n", name="t")
    second = first.copy()
    second.loc[second["n"].idxmax(), "n"] -= 1
    with pytest.raises(DisclosureError, match="not nested"):
        publish(second, COUNTS_ONLY, dims=DIMS, count_column="n", name="t",
                previous=r1.record, nested=True)
