"""The disclosure hook: every aggregated output with small-count suppression passes here.

The registry marks the files whose small counts must not be shown exactly
(``suppress_small_counts``) and says how each is published (``publication``: its measures and,
optionally, its microdata model). The delivery writer calls :func:`publish` on each such file after
it is assembled and before any byte is written; nothing else in the writer suppresses.

Each of these files has a **microdata** model beside it (``<protocol>__<file>__microdata``: one
row per pupil with the table's dimensions, its outcome and, where schools must stay
unrecognisable, the school) and an aggregated model in the registry's shape (exact counts, the
contract-checked delivery model). ``publish`` hands the microdata to
``orchestration.disclosure.publish`` (distinct pupils per cell, primary rules, secondary
suppression verified by the LP audit, at least three schools behind a public figure, rates only
where their counts are shown) with the policy the registry gives, and maps the published table
back to the registry's columns with the function named after the file in the protocol's own
module, ``orchestration/deliveries/protocols/<protocol>.py``. Hidden figures are empty.

The release record of each published file (the true figures and the pattern, restricted) is
kept in ``data/restricted/disclosure/<protocol>/<file>/`` once the delivery is made, and passed as
``previous`` the next time, as orchestration/disclosure/README.md asks.

Without microdata (a file that declares none, or a unit test of one aggregated table without a
warehouse connection) the fallback here applies **primary suppression only** to the aggregated
model's ``measures`` (a count of 1 to threshold - 1 becomes empty, and a rate or share resting on
it too) and says so in the result, so the delivery's metadata shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from orchestration import disclosure
from orchestration.deliveries.datapackage import PublishedNote
from orchestration.deliveries.protocols import protocol_module
from orchestration.deliveries.spec import model_name
from orchestration.protocols.registry import DeliveryFile, Measures, Microdata, Protocol


def microdata_model(protocol_id: str, file_id: str) -> str:
    return f"{model_name(protocol_id, file_id)}__microdata"


@dataclass(frozen=True)
class Publication:
    table: pa.Table | pd.DataFrame
    method: str
    threshold: int
    suppressed_cells: int
    notes: tuple[str, ...] = ()
    record: Any = None  # orchestration.disclosure ReleaseRecord: save it once delivered


def record_folder(restricted: Path, protocol_id: str, file_id: str) -> Path:
    """Where the last release record of a protected file is kept (restricted zone: it holds
    the true figures behind the hidden cells)."""
    return restricted / "disclosure" / protocol_id / file_id


def save_record(publication: Publication, restricted: Path, protocol_id: str,
                file_id: str) -> Path | None:
    if publication.record is None:
        return None
    return publication.record.save(record_folder(restricted, protocol_id, file_id))


def source_of(protocol: Protocol) -> str:
    """The source a published file names: the registry's citation, else the source parties."""
    return protocol.disclosure.source_citation or "; ".join(
        s.name for s in protocol.parties.sources)


def published_note(protocol: Protocol, result: Publication) -> PublishedNote:
    """The source and protection note a published file carries in its package metadata
    (antwerpen_okan art. 4: "bij publicaties ... wordt de bron vermeld")."""
    source = source_of(protocol)
    text = " ".join(" ".join(n.split()) for n in result.notes) or (
        f"Source: {source}. {result.method}; threshold {result.threshold}; "
        f"{result.suppressed_cells} figures are not shown.")
    return PublishedNote(source=source, note=text)


class PublicationError(RuntimeError):
    """A file that must be protected but cannot be: refused, never published raw."""


def needs_protection(delivery: DeliveryFile) -> bool:
    return delivery.suppress_small_counts


def publish(table: pa.Table, protocol: Protocol, delivery: DeliveryFile,
            con: duckdb.DuckDBPyConnection | None = None, *, restricted: Path | None = None,
            release: str = "") -> Publication:
    """Protect one aggregated file; the returned table is what may be delivered.

    ``restricted``: the restricted zone, where the previous release record of this file is read
    (its suppression pattern is carried forward, so two releases cannot be subtracted)."""
    threshold = protocol.disclosure.small_count_threshold
    if delivery.publication is None:
        raise PublicationError(f"{protocol.id}/{delivery.id} suppresses small counts but its "
                               "registry entry declares no publication: refused")
    microdata = delivery.publication.microdata
    if microdata is not None and con is not None:
        previous = None
        if restricted is not None:
            folder = record_folder(restricted, protocol.id, delivery.id)
            if (folder / "record.json").exists():
                previous = disclosure.ReleaseRecord.load(folder)
        return _published(con, protocol, delivery, microdata, previous, release)
    return _primary_suppression(table, delivery.publication.measures, threshold)


# ------------------------------------------------------------------------------------ disclosure


def to_file_function(protocol: Protocol, delivery: DeliveryFile):
    """The function of the protocol's module that maps a published table to the file's columns:
    ``orchestration/deliveries/protocols/<protocol>.py``, named after the file."""
    module = protocol_module(protocol.id)
    function = getattr(module, delivery.id, None) if module is not None else None
    if function is None:
        raise PublicationError(
            f"{protocol.id}/{delivery.id} is published from microdata, but "
            f"orchestration/deliveries/protocols/{protocol.id}.py has no function "
            f"{delivery.id}(frame) to map the published table to the file: refused")
    return function


def _published(con, protocol: Protocol, delivery: DeliveryFile,
               spec: Microdata, previous=None, release: str = "") -> Publication:
    policy = disclosure.policy_from_registry(protocol, delivery)
    if spec.policy_overrides:
        policy = policy.with_overrides(**spec.policy_overrides)
    frame = con.sql(f"select * from deliveries.{microdata_model(protocol.id, delivery.id)}").df()
    dims = [tuple(d) if isinstance(d, list) else d for d in spec.dims]
    kwargs: dict[str, Any] = {"dims": dims, "by": list(spec.by),
                              "pupil_key": spec.pupil_key, "name": delivery.id,
                              "previous": previous, "release": release}
    if spec.rate_outcome:
        kwargs.update(rate_outcome=spec.rate_outcome, positive=True)
    if spec.school_column and policy.school_rules_apply:
        kwargs["school_column"] = spec.school_column
    if frame.empty:
        return Publication(pd.DataFrame(columns=delivery.column_names), _METHOD, policy.threshold,
                           0)
    to_file = to_file_function(protocol, delivery)
    publication = disclosure.publish(frame, policy, **kwargs)
    published = publication[delivery.id]
    out, hidden = to_file(published.frame)
    method = _METHOD + ("; pattern of the previous release carried forward" if previous else "")
    return Publication(out[delivery.column_names], method, policy.threshold, hidden,
                       (published.note.text,), publication.record)


_METHOD = ("orchestration.disclosure.publish: distinct pupils per cell, primary and secondary "
           "suppression verified by the LP audit")


def leaves(frame: pd.DataFrame, columns: list[str], total: str = disclosure.TOTAL
           ) -> pd.DataFrame:
    """The rows of a published table that are no margin on any of ``columns``."""
    mask = pd.Series(True, index=frame.index)
    for c in columns:
        mask &= frame[c] != total
    return frame[mask].copy()


def unknown_to_null(series: pd.Series, missing: str = disclosure.MISSING) -> pd.Series:
    """The disclosure step's "unknown" category back to an empty value."""
    return series.astype(object).where(series != missing, None)


# ------------------------------------------------------------------------------------ fallback


def _primary_suppression(table: pa.Table, measures: Measures, threshold: int) -> Publication:
    small = {}
    suppressed = 0
    for name in measures.counts:
        column = table[name]
        small[name] = pc.fill_null(pc.and_(pc.greater(column, 0), pc.less(column, threshold)),
                                   False)
    for name in measures.counts:
        column = table[name]
        suppressed += pc.sum(pc.cast(small[name], pa.int64())).as_py() or 0
        table = table.set_column(table.column_names.index(name), name,
                                 pc.if_else(small[name], pa.scalar(None, column.type), column))
    for name, basis in measures.derived.items():
        column = table[name]
        hide = small[basis[0]]
        for other in basis[1:]:
            hide = pc.or_(hide, small[other])
        suppressed += pc.sum(pc.cast(pc.and_(hide, pc.is_valid(column)), pa.int64())).as_py() or 0
        table = table.set_column(table.column_names.index(name), name,
                                 pc.if_else(hide, pa.scalar(None, column.type), column))
    return Publication(table, "fallback: primary suppression only (no microdata declared)",
                       threshold, suppressed)
