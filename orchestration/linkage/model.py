"""The Fellegi-Sunter model of the DUO linkage: comparison levels, m and u, decision rules.

Every candidate pair (a DUO record, a Rijksregister child) is compared on four things; each
comparison falls in exactly one **level** (the first whose SQL condition holds). Per level the
model holds

- ``m`` = P(level | the pair is the same child), estimated from the labelled hard-case benchmark
  (``tools.synthetic.linkage_benchmark``), and
- ``u`` = P(level | two different children), estimated on random pairs of the same data,

both by splink (``estimate_m_from_label_column``, ``estimate_u_using_random_sampling``; see
:func:`estimate`). The pair's **match weight** is the sum of ``log2(m / u)`` over its levels: how
many bits the evidence favours "same child" over "different children". The parameters live in
``duo_model.json`` beside this module; ``python -m tools.synthetic.linkage_benchmark
--estimate-model --write-model`` re-estimates them and prints the table the linkage README
shows.

The SQL conditions read DUO's side with suffix ``_l`` and the Rijksregister's with ``_r`` (splink's
convention), over the normalised fields the linkage prepares: ``sn`` (surname, no spaces),
``sn_core`` (without leading particles), ``sn_tokens`` (surname words without particles),
``fn`` (first names, space separated), ``fn_tokens``, ``fn_known`` (those borne by at least two
children of the extract: real names, so not typos), ``dob``, ``pc`` (postcode), ``street``
(no spaces), ``nr`` (house number). The same strings run in splink (estimation, and a test that
compares splink's weights with the linkage's) and in the linkage's own SQL.

Decision, precision first: the posterior of each candidate is its likelihood ratio times the
prior ``PRESENT_PRIOR / children in the extract``, normalised over every candidate and the
alternative "this child is not in the extract" (``1 - PRESENT_PRIOR``). So two candidates with
the same evidence (twins with the same first names, a namesake) share the posterior and neither
reaches ``LINK_PROBABILITY``. On top of the weights, vetoes (``VETO``) that no sum of weights may
outweigh, because the weights cannot see the alternative that matters (an absent twin, a
namesake elsewhere): first names that differ, only share a token ("Jan Pieter" / "Jan Karel":
twins), or where one side has a first name the other lacks ("Jan Karel" / "Jan": the register
holds every official first name, so the extra one is a different first name; "Jan" /
"Jan Pieter" may be the absent twin "Jan Karel"); a surname that differs; a birth date that
differs in more than one part; a candidate in another postcode (that is how a namesake
elsewhere looks, and how a child who moved looks: a person tells them apart).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

MODEL_FILE = Path(__file__).with_name("duo_model.json")


@dataclass(frozen=True)
class Level:
    label: str
    sql: str            # condition on the pair (``_l`` DUO, ``_r`` Rijksregister)
    null: bool = False  # a null level: weight 0, the comparison says nothing


@dataclass(frozen=True)
class Comparison:
    name: str
    description: str
    levels: tuple[Level, ...]


#: First and last name swapped: DUO's surname field holds exactly the child's first names, DUO's
#: first-name field the child's surname (a shared word, or at most two edits), and DUO's surname
#: shares no word with the child's (else it is a surname comparison).
_SWAPPED = ("list_has_all(fn_tokens_r, sn_tokens_l) and list_has_all(sn_tokens_l, fn_tokens_r) "
            "and (list_has_any(fn_tokens_l, sn_tokens_r) "
            "or damerau_levenshtein(replace(fn_l, ' ', ''), sn_r) <= 2 "
            "or damerau_levenshtein(replace(fn_l, ' ', ''), sn_core_r) <= 2) "
            "and not list_has_any(sn_tokens_l, sn_tokens_r)")

COMPARISONS: tuple[Comparison, ...] = (
    Comparison("surname", "surname (geslachtsnaam), normalised", (
        Level("null", "sn_l is null or sn_r is null", null=True),
        Level("exact", "sn_l = sn_r"),
        Level("particle_differs", "sn_core_l = sn_core_r"),
        Level("one_edit", "damerau_levenshtein(sn_l, sn_r) <= 1 "
                          "or damerau_levenshtein(sn_core_l, sn_core_r) <= 1"),
        Level("part_of_double_surname", "list_has_any(sn_tokens_l, sn_tokens_r)"),
        Level("two_edits", "damerau_levenshtein(sn_core_l, sn_core_r) <= 2"),
        Level("swapped_with_first_names", _SWAPPED),
        Level("different", "true"),
    )),
    Comparison("first_names", "first names (voornamen), normalised tokens", (
        Level("null", "fn_l is null or fn_r is null", null=True),
        Level("exact", "fn_l = fn_r"),
        Level("same_names_other_order", "list_sort(fn_tokens_l) = list_sort(fn_tokens_r)"),
        Level("duo_lacks_a_first_name", "list_has_all(fn_tokens_r, fn_tokens_l)"),
        Level("duo_has_another_first_name", "list_has_all(fn_tokens_l, fn_tokens_r)"),
        Level("typo", "damerau_levenshtein(fn_l, fn_r) <= 2 and least(length(fn_l), "
                      "length(fn_r)) >= 4 and len(list_filter(fn_known_l, "
                      "lambda w: not list_contains(fn_tokens_r, w))) = 0"),
        Level("swapped_with_surname", _SWAPPED),
        Level("share_a_name_only", "list_has_any(fn_tokens_l, fn_tokens_r)"),
        Level("different", "true"),
    )),
    Comparison("birth_date", "birth date", (
        Level("null", "dob_l is null or dob_r is null", null=True),
        Level("exact", "dob_l = dob_r"),
        Level("day_month_swapped", "year(dob_l) = year(dob_r) and month(dob_l) = day(dob_r) "
                                   "and day(dob_l) = month(dob_r)"),
        Level("one_part_differs", "(year(dob_l) = year(dob_r))::int + (month(dob_l) = "
                                  "month(dob_r))::int + (day(dob_l) = day(dob_r))::int = 2"),
        Level("different", "true"),
    )),
    Comparison("address", "residence: postcode, street, house number", (
        Level("null", "pc_l is null or pc_r is null", null=True),
        Level("same_address", "pc_l = pc_r and street_l = street_r and nr_l = nr_r"),
        Level("same_street", "pc_l = pc_r and street_l = street_r"),
        Level("same_postcode", "pc_l = pc_r"),
        Level("other_postcode", "true"),
    )),
)

#: Prior probability that a DUO pupil's child is in the Rijksregister extract linked against
#: (DUO lists every pupil living in Belgium; the extract holds Flanders and Brussels).
PRESENT_PRIOR = 0.95
#: Automatic link: posterior of the best candidate at least this (and no veto).
LINK_PROBABILITY = 0.999
#: A pair is shown to the reviewer as a candidate when its match weight is at least this: the
#: evidence favours "same child" over "two random children" (swapped names with a changed first
#: name, or a first-name typo after a move, weigh only a few bits and must still be shown).
CANDIDATE_WEIGHT = 0.0
#: At most this many candidates per review case (best first).
MAX_CANDIDATES = 10
#: Levels that never link automatically, whatever the weights (precision first).
VETO = {
    "surname": ("different",),
    "first_names": ("duo_lacks_a_first_name", "duo_has_another_first_name", "share_a_name_only",
                    "different"),
    "birth_date": ("different",),
    "address": ("other_postcode", "null"),
}
#: Levels for which an exact match (``match_method = 'exact'``) is reported.
EXACT = {"surname": "exact", "first_names": "exact", "birth_date": "exact",
         "address": "same_address"}


def load_parameters(path: Path = MODEL_FILE) -> dict[str, dict[str, dict[str, float]]]:
    """``{comparison: {level: {"m": m, "u": u}}}`` from ``duo_model.json``; the levels must be
    exactly those of :data:`COMPARISONS`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    params = data["comparisons"]
    for c in COMPARISONS:
        labels = [lv.label for lv in c.levels if not lv.null]
        if list(params.get(c.name, {})) != labels:
            raise ValueError(f"{path.name}: levels of {c.name} differ from the model's: "
                             f"{list(params.get(c.name, {}))} != {labels}")
    return params


def weights(params: dict | None = None) -> dict[str, dict[str, float]]:
    """``log2(m / u)`` per level (null levels 0)."""
    params = params or load_parameters()
    out = {}
    for c in COMPARISONS:
        out[c.name] = {lv.label: 0.0 if lv.null else
                       math.log2(params[c.name][lv.label]["m"] / params[c.name][lv.label]["u"])
                       for lv in c.levels}
    return out


def level_sql(c: Comparison) -> str:
    """``case when ... then 'label' ... end``: the level of comparison ``c`` on a pair."""
    whens = " ".join(f"when {lv.sql} then '{lv.label}'" for lv in c.levels[:-1])
    return f"case {whens} else '{c.levels[-1].label}' end"


def weight_sql(c: Comparison, w: dict[str, dict[str, float]]) -> str:
    """``case level when 'label' then weight ... end`` over the column ``<c.name>_level``."""
    whens = " ".join(f"when '{lv.label}' then {w[c.name][lv.label]!r}" for lv in c.levels)
    return f"case {c.name}_level {whens} end"


# ------------------------------------------------------------------ splink

def splink_settings(params: dict | None = None, blocking: list[str] | None = None) -> dict:
    """The model as splink settings (link_only, DUO left, Rijksregister right). With
    ``params`` the m and u are fixed (predict); without, splink estimates them."""
    comparisons = []
    for c in COMPARISONS:
        levels = []
        for lv in c.levels:
            level = {"sql_condition": lv.sql if lv.sql != "true" else "ELSE",
                     "label_for_charts": lv.label}
            if lv.null:
                level["is_null_level"] = True
            elif params:
                level["m_probability"] = params[c.name][lv.label]["m"]
                level["u_probability"] = params[c.name][lv.label]["u"]
            levels.append(level)
        comparisons.append({"output_column_name": c.name, "comparison_description":
                            c.description, "comparison_levels": levels})
    return {"link_type": "link_only", "unique_id_column_name": "uid",
            "comparisons": comparisons, "blocking_rules_to_generate_predictions":
            [{"blocking_rule": b} for b in (blocking or [])],
            "retain_intermediate_calculation_columns": True,
            "probability_two_random_records_match": 1e-6}


FEATURE_COLUMNS = ("uid", "sn", "sn_core", "sn_tokens", "fn", "fn_tokens", "fn_known", "dob", "pc",
                   "street", "nr")


def estimate(con, duo_table: str, rr_table: str, label: str = "label",
             max_pairs: float = 4e6, seed: int = 1) -> dict:
    """Estimate m (from the label column: the true child's key on the DUO side, the child's own
    key on the Rijksregister side) and u (random pairs) with splink. Levels no pair fell in get
    a floor of half an observation, so no weight is infinite."""
    import splink  # noqa: PLC0415
    from splink import DuckDBAPI, Linker  # noqa: PLC0415

    con.execute("set enable_progress_bar = false")
    db = DuckDBAPI(con)
    left, right = db.register(duo_table), db.register(rr_table)
    linker = Linker([left, right], splink_settings(), log_level="WARNING")
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed,
                                                     min_count_per_level=None)
    linker.training.estimate_m_from_label_column(label)
    model = linker.misc.save_model_to_json()
    n_true = con.execute(f"select count(*) from {duo_table} d join {rr_table} r "
                         f"on d.{label} = r.{label}").fetchone()[0]
    m_floor, u_floor = 0.5 / max(n_true, 1), 0.5 / max_pairs
    params = {}
    for c, sc in zip(COMPARISONS, model["comparisons"]):
        params[c.name] = {}
        for lv, sl in zip(c.levels, sc["comparison_levels"]):
            if lv.null:
                continue
            m, u = sl.get("m_probability"), sl.get("u_probability")
            params[c.name][lv.label] = {"m": max(m or 0.0, m_floor), "u": max(u or 0.0, u_floor)}
    return {"splink_version": splink.__version__, "true_pairs": n_true,
            "random_pairs": int(max_pairs), "comparisons": params}


def table(params: dict | None = None) -> str:
    """The parameters as a Markdown table (for the README)."""
    params = params or load_parameters()
    w = weights(params)
    rows = ["| comparison | level | m | u | weight (bits) |", "|---|---|---|---|---|"]
    for c in COMPARISONS:
        for lv in c.levels:
            if lv.null:
                rows.append(f"| {c.name} | {lv.label} | - | - | 0 |")
                continue
            p = params[c.name][lv.label]
            rows.append(f"| {c.name} | {lv.label} | {p['m']:.4g} | {p['u']:.3g} | "
                        f"{w[c.name][lv.label]:+.1f} |")
    return "\n".join(rows)
