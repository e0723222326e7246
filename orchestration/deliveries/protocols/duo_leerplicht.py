"""duo_leerplicht: the parliamentary figures, from their published microdata (see
``antwerpen_okan.py`` for the shape of the functions)."""

from __future__ import annotations

import pandas as pd

from orchestration.deliveries.publication import leaves, unknown_to_null


def parliamentary_figures(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    t = leaves(frame, ["residence_province", "residence_municipality_nis_code", "birth_year"])
    out = pd.DataFrame({
        "school_year": t["school_year"],
        "reference_date": pd.to_datetime(t["reference_date"]).dt.date,
        "residence_province": unknown_to_null(t["residence_province"]),
        "residence_municipality_nis_code": unknown_to_null(
            t["residence_municipality_nis_code"]),
        "birth_year": pd.to_numeric(unknown_to_null(t["birth_year"])).astype("Int64"),
        "pupil_count": t["pupils"]})
    return out, int(t["suppressed"].sum())
