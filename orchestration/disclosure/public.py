"""Checks on what may appear in a public output: no school, no ranking, no order by outcome.

Why by column name and row order: a public table must not identify a school (antwerpen_okan:
no names, schools never identifiable, no rankings). The protection in ``publish`` never puts a
school column in a public table and always sorts by stratum keys; these checks make that a
guarantee a test and the publishing step can assert, also for tables built elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

import pandas as pd

from orchestration.disclosure.policy import DisclosureError, DisclosurePolicy
from orchestration.disclosure.tables import TOTAL

# Column-name tokens that identify a school, a branch or an address.
_SCHOOL_TOKENS = frozenset({
    "institution", "instelling", "instellingsnummer", "instellingscode", "instellingsnaam",
    "branch", "branches", "vestiging", "vestigingsplaats", "vestigingsplaatsen", "address",
    "adres", "street", "straat", "housenumber", "huisnummer", "brin", "schoolnummer",
    "schoolnaam", "schoolid",
})
_SCHOOL_QUALIFIERS = frozenset({"id", "ids", "number", "nr", "nummer", "code", "name", "names",
                                "naam", "address", "adres", "key"})
# Column-name tokens of a ranking or an order by outcome.
_RANK_TOKENS = frozenset({
    "rank", "ranks", "ranking", "rankings", "ranked", "rang", "rangorde", "rangschikking",
    "percentile", "percentiles", "percentiel", "quantile", "quartile", "quintile", "decile",
    "position", "positie", "place", "plaats", "top", "bottom", "best", "worst", "order",
    "volgorde", "league", "pctrank", "ntile",
})


def _tokens(column: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", column.lower()) if t]


def is_school_column(column: str, school_columns: Collection[str] = ()) -> bool:
    """True for names such as ``institution_number``, ``school_id``, ``branch_number``,
    ``school_name`` or ``street``; ``school_year`` and ``school_delay_count`` are fine."""
    if column in school_columns:
        return True
    tokens = _tokens(column)
    if tokens == ["school"] or tokens == ["schools"]:
        return True
    if any(t in _SCHOOL_TOKENS for t in tokens):
        return True
    return "school" in tokens and any(t in _SCHOOL_QUALIFIERS for t in tokens)


def is_rank_column(column: str) -> bool:
    return any(t in _RANK_TOKENS for t in _tokens(column))


def check_columns(columns: Sequence[str], policy: DisclosurePolicy) -> None:
    """Refuse school identifiers (unless schools may be identified) and ranking columns."""
    problems = []
    if not policy.schools_identifiable:
        schools = [c for c in columns if is_school_column(c, policy.school_columns)]
        if schools:
            problems.append(f"school identifier columns {schools}")
    if not policy.rankings_allowed:
        ranks = [c for c in columns if is_rank_column(c)]
        if ranks:
            problems.append(f"ranking or ordering columns {ranks}")
    if problems:
        raise DisclosureError(f"{policy.protocol_id}/{policy.output_id}: a public output may "
                              f"not carry {' and '.join(problems)}")


def order_key(frame: pd.DataFrame, key_columns: Sequence[str], total: str = TOTAL) -> list:
    """The stratum-key order: per key column, categories (as text) before ``Total``."""
    cols = [frame[c].astype(str).tolist() for c in key_columns]
    return [tuple((v == total, v if v != total else "") for v in row) for row in zip(*cols)]


def check_public_frame(frame: pd.DataFrame, key_columns: Sequence[str],
                       policy: DisclosurePolicy, *,
                       school_ids: Collection[str] | None = None) -> None:
    """Everything a public table must satisfy besides suppression: no school columns, no
    ranking columns, rows ordered by stratum keys only, no school id among the key values."""
    check_columns(list(frame.columns), policy)
    keys = order_key(frame, key_columns)
    if keys != sorted(keys):
        raise DisclosureError(f"{policy.output_id}: rows are not ordered by stratum keys "
                              f"{list(key_columns)}; ordering by a figure is a ranking")
    if school_ids:
        ids = set(school_ids)
        hits = [c for c in key_columns if frame[c].astype(str).isin(ids).any()]
        if hits:
            raise DisclosureError(f"{policy.output_id}: columns {hits} hold school ids")
