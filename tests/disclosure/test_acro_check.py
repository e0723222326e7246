"""An independent checker: AI-SDC's ACRO (the output checker of UK trusted research
environments) re-tabulates the same microdata with its default rules (minimum frequency 10,
zeros disclosive) and must flag nothing that we publish, except the true zeros we show on
purpose (DisclosurePolicy.zeros_disclosive=False; with zeros_disclosive=True, nothing at all).

ACRO checks cells one by one (primary rules); it does not do secondary suppression, so it is an
independent check of the primary rules and of the margins, next to the integer-programming
reader in ``helpers.Reader`` for the secondary suppression.

acro 1.0.2 pins pandas<=2.3.3 while this project uses pandas 3, so it is not a project
dependency: the test runs where acro is installed (for example a separate virtual environment
with ``pip install acro==1.0.2``) and is skipped otherwise.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from orchestration.disclosure import TOTAL, publish
from tests.disclosure.helpers import COUNTS_ONLY, as_microdata, random_counts

acro = pytest.importorskip("acro")

DIMS = ["row", "col"]


def acro_flags(micro):
    """ACRO's verdict per cell of the crosstab with margins: {(row, col): failed checks}."""
    logging.getLogger("acro").setLevel(logging.ERROR)
    session = acro.ACRO(suppress=False)
    session.crosstab(micro["row"], micro["col"], margins=True)
    outcome = list(session.results.results.values())[-1].outcome
    flags = {}
    for r in outcome.index:
        for c in outcome.columns:
            verdict = str(outcome.loc[r, c])
            if verdict != "ok":
                key = (TOTAL if r == "All" else str(r), TOTAL if c == "All" else str(c))
                flags[key] = verdict
    return flags


@pytest.mark.parametrize("zeros_disclosive", [False, True])
def test_acro_flags_nothing_we_publish_in_random_two_way_tables(zeros_disclosive):
    rng = np.random.default_rng(77)
    policy = COUNTS_ONLY.with_overrides(zeros_disclosive=zeros_disclosive)
    checked = 0
    for _ in range(20):
        counts = random_counts(rng, (6, 5), names=DIMS)
        micro = as_microdata(counts, DIMS)
        table = publish(micro, policy, dims=DIMS, pupil_key="pupil", name="t")["t"].frame
        shown = {(r["row"], r["col"]): r["pupils"]
                 for r in table.to_dict("records") if not r["suppressed"]}
        for key, verdict in acro_flags(micro).items():
            checked += 1
            if key in shown:
                assert not zeros_disclosive and shown[key] == 0, (key, verdict)
                assert "PresenceOfZeroCheck" in verdict
    assert checked > 100
