"""Dagster asset of the DUO <-> Rijksregister linkage (protocol duo_leerplicht).

``linkage/duo_links`` recomputes ``linkage.duo_links`` and the review queue
``linkage.duo_review`` for every DUO reference date present in ``raw``. It opens the vault (names
are compared in this step only) and runs in the ``duckdb`` pool like everything that opens the
DuckDB files. Metadata holds counts only.
"""

import dagster as dg

from orchestration.foundations import settings
from orchestration.foundations.warehouse import POOL, connect
from orchestration.linkage import duo, model
from orchestration.platform.asset_keys import (DUO_LINKS_KEY, DUO_REVIEW_CANDIDATES_KEY,
                                               DUO_REVIEW_KEY)
from orchestration.protocols import load_registry

_DEPS = [dg.AssetKey(["raw", "duo_registrations"]), dg.AssetKey(["raw", "rijksregister_children"])]
# the protocols that use the linked DUO registrations, as the registry says (draws_on)
_PROTOCOLS = ", ".join(p.id for p in load_registry().drawing_on("duo_registrations"))


def _review_detail(results: list[duo.DateResult]) -> dict[str, int]:
    """Review cases by detail (near_tie, weak_evidence, the vetoed level...), all dates."""
    out: dict[str, int] = {}
    for r in results:
        for k, n in r.review_detail.items():
            out[k] = out.get(k, 0) + n
    return dict(sorted(out.items()))


def _metadata(results: list[duo.DateResult]) -> dict[str, dg.MetadataValue]:
    """Per reference date: DUO records, linked by method, to review by reason (counts only)."""
    header = ("| peildatum | Rijksregister extract | DUO records | linked exact | linked fuzzy "
              "| linked reviewed | review no_candidate | review uncertain | review conflict "
              "| seconds |\n|---|---|---|---|---|---|---|---|---|---|\n")
    rows = "".join(
        f"| {r.peildatum} | {r.rijksregister_date or 'none'} | {r.duo_records} | "
        f"{r.linked_exact} | {r.linked_fuzzy} | {r.linked_reviewed} | {r.review_no_candidate} | "
        f"{r.review_uncertain} | "
        f"{r.review_conflict} | {r.seconds:.1f} |\n" for r in results)
    total = sum(r.duo_records for r in results)
    linked = sum(r.linked for r in results)
    return {
        "reference_dates": dg.MetadataValue.int(len(results)),
        "duo_records": dg.MetadataValue.int(total),
        "linked": dg.MetadataValue.int(linked),
        "linked_exact": dg.MetadataValue.int(sum(r.linked_exact for r in results)),
        "linked_fuzzy": dg.MetadataValue.int(sum(r.linked_fuzzy for r in results)),
        "to_review": dg.MetadataValue.int(sum(r.to_review for r in results)),
        "review_no_candidate": dg.MetadataValue.int(sum(r.review_no_candidate for r in results)),
        "review_uncertain": dg.MetadataValue.int(sum(r.review_uncertain for r in results)),
        "review_conflict": dg.MetadataValue.int(sum(r.review_conflict for r in results)),
        "linked_share": dg.MetadataValue.float(round(linked / total, 4) if total else 0.0),
        "per_reference_date": dg.MetadataValue.md(header + rows if results else "no DUO file"),
        "per_reference_date_json": dg.MetadataValue.json([r.as_dict() for r in results]),
        "linked_reviewed": dg.MetadataValue.int(sum(r.linked_reviewed for r in results)),
        "review_detail": dg.MetadataValue.json(_review_detail(results)),
        "model": dg.MetadataValue.json({
            "link_probability": model.LINK_PROBABILITY,
            "candidate_weight_bits": model.CANDIDATE_WEIGHT,
            "present_prior": model.PRESENT_PRIOR,
            "vetoes": {c: list(v) for c, v in model.VETO.items()},
            "weights_bits": {c: {k: round(w, 2) for k, w in lv.items()}
                             for c, lv in model.weights().items()}}),
    }


@dg.multi_asset(
    name="duo_linkage",
    specs=[
        dg.AssetSpec(DUO_LINKS_KEY, deps=_DEPS, group_name="linkage", kinds={"duckdb", "python"},
                     description="DUO pupils (no INSZ) linked to Rijksregister children per DUO "
                     "reference date (same or nearest earlier extract) on name, first names, "
                     "birth date and address (Fellegi-Sunter weights, precision first): "
                     "record_key, peildatum, pupil_key, method, posterior, weight. "
                     f"Protocol {_PROTOCOLS}. No names, addresses or INSZ leave the vault.",
                     metadata={"protocol": _PROTOCOLS, "table": "linkage.duo_links"}),
        dg.AssetSpec(DUO_REVIEW_KEY, deps=_DEPS, group_name="linkage", kinds={"duckdb"},
                     description="DUO records that could not be linked automatically (no_candidate,"
                     " uncertain, conflict), for the compulsory-education cell's manual review; "
                     "every candidate with its comparison levels in "
                     "linkage.duo_review_candidates, decisions in linkage.duo_review_decisions "
                     "(reused on later reference dates).",
                     metadata={"protocol": _PROTOCOLS, "table": "linkage.duo_review"}),
        dg.AssetSpec(DUO_REVIEW_CANDIDATES_KEY, deps=_DEPS, group_name="linkage",
                     kinds={"duckdb"},
                     description="The candidates of every review case: pupil key, match weight, "
                     "posterior and the level of each comparison (no names). The follow-up list "
                     "of the compulsory-education cell takes its candidates from here, so it "
                     "matches on names and birth date as the linkage does.",
                     metadata={"protocol": _PROTOCOLS, "table": "linkage.duo_review_candidates"}),
    ],
    pool=POOL,
    # one linkage run writes all three tables; a job that selects only some of them (a delivery
    # job selecting what its protocol needs) still runs it whole and reports the selected ones
    can_subset=True,
)
def duo_linkage(context: dg.AssetExecutionContext):
    p = settings.paths()
    with connect(p, vault=True) as con:
        results = duo.link_all(con)
    for r in results:
        if r.rijksregister_date is None:
            context.log.warning(f"DUO {r.peildatum}: no Rijksregister extract on or before this "
                                f"date; {r.duo_records} records queued for review")
        context.log.info(f"DUO {r.peildatum}: {r.duo_records} records, {r.linked} linked, "
                         f"{r.to_review} to review ({r.seconds:.1f} s)")
    metadata = _metadata(results)
    selected = context.selected_asset_keys
    if DUO_LINKS_KEY in selected:
        yield dg.MaterializeResult(asset_key=DUO_LINKS_KEY, metadata=metadata)
    if DUO_REVIEW_KEY in selected:
        yield dg.MaterializeResult(asset_key=DUO_REVIEW_KEY, metadata={
            k: metadata[k] for k in ("to_review", "review_no_candidate", "review_uncertain",
                                     "review_conflict", "per_reference_date")})
    if DUO_REVIEW_CANDIDATES_KEY in selected:
        yield dg.MaterializeResult(asset_key=DUO_REVIEW_CANDIDATES_KEY)


linkage_assets = [duo_linkage]
