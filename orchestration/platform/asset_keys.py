"""Asset keys that more than one slice names (quality checks on raw tables and on the linkage,
retention marking raw partitions stale, the processing register built after the deliveries):
defined once here so no slice reaches into another's asset module for them."""

import dagster as dg


def inbox_asset_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["inbox", source])


def raw_asset_key(file_type: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", file_type])


DUO_LINKS_KEY = dg.AssetKey(["linkage", "duo_links"])
DUO_REVIEW_KEY = dg.AssetKey(["linkage", "duo_review"])
DUO_REVIEW_CANDIDATES_KEY = dg.AssetKey(["linkage", "duo_review_candidates"])


def delivery_asset_key(protocol_id: str) -> dg.AssetKey:
    """The writer asset of one protocol's delivery (deliveries slice)."""
    return dg.AssetKey(["delivery", protocol_id])
