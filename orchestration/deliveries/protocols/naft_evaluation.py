"""naft_evaluation: the semi-aggregated DOV file, from its published microdata (see
``antwerpen_okan.py`` for the shape of the functions)."""

from __future__ import annotations

import pandas as pd

from orchestration import disclosure


def dov_semi_aggregated(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    t = frame[frame["postcode"] != disclosure.MISSING].copy()
    total = t["postcode"] == disclosure.TOTAL
    out = pd.DataFrame({
        "school_year": t["school_year"],
        "area_level": total.map({True: "TOTAL", False: "POSTCODE"}),
        "postcode": t["postcode"].astype(object).where(~total, None),
        "share_in_education": t["in_education_rate"]})
    return out, int(t["in_education_rate_suppressed"].sum())
