"""Primary and secondary suppression on seeded random tables of counts 0..15.

What a failure means: a published table would show a small count, or let a reader compute or
narrow a hidden one from the totals and the other cells.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from orchestration.disclosure import TOTAL, publish
from tests.disclosure.helpers import (COUNTS_ONLY, THRESHOLD, Reader, exposures,
                                      interior_variables, library_attack, lines_with_one_hidden,
                                      random_counts, truth_lookup)

pytestmark = pytest.mark.slow  # integer attacks (scipy milp) on many random tables

N_TWO_WAY = 50
DIMS2 = ["row", "col"]


@pytest.fixture(scope="module")
def two_way():
    """50 random 6x5 tables with counts 0..15, published with margins."""
    rng = np.random.default_rng(20261122)
    out = []
    for _ in range(N_TWO_WAY):
        counts = random_counts(rng, (6, 5), names=DIMS2)
        table = publish(counts, COUNTS_ONLY, dims=DIMS2, count_column="n", name="t")["t"]
        out.append((counts, table))
    return out


@pytest.fixture(scope="module")
def three_way():
    rng = np.random.default_rng(7)
    dims = ["a", "b", "c"]
    out = []
    for _ in range(8):
        counts = random_counts(rng, (4, 3, 3), names=dims)
        out.append((counts, publish(counts, COUNTS_ONLY, dims=dims, count_column="n",
                                    name="t")["t"]))
    return out


def hierarchical_counts(rng: np.random.Generator) -> pd.DataFrame:
    """Provinces with 2-4 municipalities each, crossed with 4 categories, counts 0..15."""
    rows = []
    for p in range(3):
        for m in range(int(rng.integers(2, 5))):
            for c in range(4):
                rows.append((f"p{p}", f"p{p}m{m}", f"c{c}", int(rng.integers(0, 16))))
    return pd.DataFrame(rows, columns=["province", "municipality", "category", "n"])


@pytest.fixture(scope="module")
def hierarchical():
    rng = np.random.default_rng(11)
    out = []
    for _ in range(8):
        counts = hierarchical_counts(rng)
        table = publish(counts, COUNTS_ONLY, dims=[("province", "municipality"), "category"],
                        count_column="n", name="t")["t"]
        out.append((counts, table))
    return out


def _shown_values(frame: pd.DataFrame) -> np.ndarray:
    return frame.loc[~frame["suppressed"], "pupils"].to_numpy(dtype=int)


def test_no_exact_count_from_1_to_9_is_published(two_way, three_way, hierarchical):
    for _, table in itertools.chain(two_way, three_way, hierarchical):
        shown = _shown_values(table.frame)
        assert not ((shown >= 1) & (shown <= THRESHOLD - 1)).any()
        assert table.frame.loc[table.frame["suppressed"], "pupils"].isna().all()


def test_every_published_figure_equals_the_true_count(two_way):
    for counts, table in two_way:
        truth = truth_lookup(counts, DIMS2)
        for row in table.frame[~table.frame["suppressed"]].to_dict("records"):
            assert row["pupils"] == truth("t", row)


def test_true_zeros_are_shown_and_every_hidden_cell_is_at_least_one(two_way):
    for counts, table in two_way:
        truth = truth_lookup(counts, DIMS2)
        for row in table.frame.to_dict("records"):
            value = truth("t", row)
            if value == 0:
                assert not row["suppressed"] and row["pupils"] == 0
            if row["suppressed"]:
                assert value >= 1


def test_the_random_tables_really_contain_small_counts_and_margins(two_way):
    hidden = sum(int(t.frame["suppressed"].sum()) for _, t in two_way)
    margins = sum(int((t.frame[DIMS2] == TOTAL).any(axis=1).sum()) for _, t in two_way)
    assert hidden > N_TWO_WAY * 5
    assert margins == N_TWO_WAY * (6 + 5 + 1)


def test_no_row_or_column_has_exactly_one_suppressed_cell(two_way, three_way):
    for _, table in two_way:
        assert lines_with_one_hidden(table.frame, DIMS2) == []
    for _, table in three_way:
        assert lines_with_one_hidden(table.frame, ["a", "b", "c"]) == []


def test_the_lp_attack_finds_no_suppressed_cell_it_can_pin_or_narrow_inside_1_to_9(two_way):
    for counts, table in two_way:
        result, system, _, _ = library_attack(counts, DIMS2, table.frame)
        assert result.safe, result.findings
        for cell, (lo, hi) in result.cell_bounds.items():
            assert hi - lo >= 1
            assert not (lo >= 1 and hi <= THRESHOLD - 1)
            if 1 <= system.values[cell] <= THRESHOLD - 1:
                assert hi >= THRESHOLD  # an honest interval reaches the threshold


def test_an_independent_integer_attack_on_the_published_two_way_tables_finds_nothing(two_way):
    for counts, table in two_way[:20]:
        reader = Reader(interior_variables(counts, DIMS2))
        reader.read("t", table.frame, DIMS2, "pupils", "suppressed")
        assert exposures(reader, truth_lookup(counts, DIMS2)) == []


def test_three_way_tables_with_all_margins_resist_the_integer_attack(three_way):
    dims = ["a", "b", "c"]
    for counts, table in three_way:
        reader = Reader(interior_variables(counts, dims))
        reader.read("t", table.frame, dims, "pupils", "suppressed")
        assert exposures(reader, truth_lookup(counts, dims)) == []


def test_hierarchical_tables_resist_the_integer_attack(hierarchical):
    dims = ["province", "municipality", "category"]
    for counts, table in hierarchical:
        shown = _shown_values(table.frame)
        assert not ((shown >= 1) & (shown <= 9)).any()
        reader = Reader(interior_variables(counts, dims))
        reader.read("t", table.frame, dims, "pupils", "suppressed")
        assert exposures(reader, truth_lookup(counts, dims)) == []


def test_primary_suppression_alone_would_leave_cells_the_attack_can_recover(two_way):
    """The attack bites: hiding only the small counts is not enough in these tables."""
    exposed_tables = 0
    for counts, table in two_way[:10]:
        truth = truth_lookup(counts, DIMS2)
        naive = table.frame.copy()
        for i, row in enumerate(naive.to_dict("records")):
            small = 1 <= truth("t", row) <= THRESHOLD - 1
            naive.loc[i, "suppressed"] = small
            naive.loc[i, "pupils"] = pd.NA if small else truth("t", row)
        result, *_ = library_attack(counts, DIMS2, naive)
        exposed_tables += not result.safe
    assert exposed_tables >= 8


def test_a_stricter_threshold_from_the_policy_is_applied():
    rng = np.random.default_rng(5)
    counts = random_counts(rng, (5, 4), high=30, names=DIMS2)
    policy = COUNTS_ONLY.with_overrides(threshold=20)
    table = publish(counts, policy, dims=DIMS2, count_column="n", name="t")["t"]
    shown = _shown_values(table.frame)
    assert not ((shown >= 1) & (shown <= 19)).any()
    result, *_ = library_attack(counts, DIMS2, table.frame, policy=policy)
    assert result.safe


def test_zeros_are_hidden_too_when_the_policy_calls_them_disclosive():
    rng = np.random.default_rng(9)
    policy = COUNTS_ONLY.with_overrides(zeros_disclosive=True)
    for _ in range(5):
        counts = random_counts(rng, (6, 5), names=DIMS2)
        table = publish(counts, policy, dims=DIMS2, count_column="n", name="t")["t"]
        shown = _shown_values(table.frame)
        assert not ((shown >= 0) & (shown <= 9)).any()
        reader = Reader(interior_variables(counts, DIMS2), lower_bound=0)
        reader.read("t", table.frame, DIMS2, "pupils", "suppressed")
        for name, key, lo, hi in reader.hidden_bounds():
            assert hi - lo >= 1
            if truth_lookup(counts, DIMS2)(name, key) <= 9:
                assert hi >= THRESHOLD
