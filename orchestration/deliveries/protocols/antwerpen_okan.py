"""antwerpen_okan: the monitor tables and school portraits, from their published microdata.

Each function takes the table ``orchestration.disclosure.publish`` returns for the file
(cells with counts, rates and their ``_suppressed`` flags, margins as TOTAL) and returns the
file's rows in the registry's columns and the number of figures hidden.
"""

from __future__ import annotations

import pandas as pd

from orchestration import disclosure
from orchestration.deliveries.publication import leaves


def monitor_newcomer_inflow(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    t = leaves(frame, ["education_level", "first_enrolment_in_antwerp"])
    out = pd.DataFrame({
        "school_year": t["school_year"], "education_level": t["education_level"],
        "first_enrolment_in_antwerp": t["first_enrolment_in_antwerp"],
        "newcomer_count": t["pupils"], "school_delay_count": t["has_school_delay_pupils"]})
    hidden = int(t["pupils_suppressed"].sum() + t["has_school_delay_pupils_suppressed"].sum())
    return out, hidden


def monitor_early_school_leaving(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    t = leaves(frame, ["last_enrolment_in_antwerp"])
    both = ~t["pupils_suppressed"] & ~t["is_early_school_leaver_pupils_suppressed"]
    qualified = (t["pupils"] - t["is_early_school_leaver_pupils"]).where(both, pd.NA)
    out = pd.DataFrame({
        "school_year": t["school_year"],
        "last_enrolment_in_antwerp": t["last_enrolment_in_antwerp"],
        "early_school_leaver_count": t["is_early_school_leaver_pupils"],
        "qualified_leaver_count": qualified,
        "early_school_leaving_rate": t["is_early_school_leaver_rate"]})
    hidden = int((~both).sum() + t["is_early_school_leaver_rate_suppressed"].sum())
    return out, hidden


def school_portraits(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    rows = []
    hidden = 0
    for (year, school), group in frame.groupby(["school_year", "institution_number"], sort=True):
        values = {r.attest: (None if r.suppressed else r.pupils) for r in group.itertuples()}
        hidden += int(group.loc[group["attest"].isin([disclosure.TOTAL, "A", "B", "C"]),
                                "suppressed"].sum())
        rows.append({"school_year": year, "institution_number": school,
                     "newcomer_pupils": values.get(disclosure.TOTAL),
                     "a_attest_count": values.get("A", 0),
                     "b_attest_count": values.get("B", 0),
                     "c_attest_count": values.get("C", 0)})
    return pd.DataFrame(rows), hidden
