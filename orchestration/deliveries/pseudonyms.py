"""Recipient pseudonyms: one keyed scheme per protocol, so deliveries cannot be joined.

A recipient never sees the internal ``pupil_key``. Each pseudonymised protocol gets its own key,
derived from the master key with HKDF (``pseudonymisation.protocol_key``) from the protocol id,
its pseudonym scheme and its ``key_version`` in the registry; a ``per_school_year`` scheme gets
one key per school year (records of different years cannot be linked). The
pseudonym of a pupil is::

    <PREFIX><key version>-<first 32 hex characters of HMAC-SHA256(protocol key, pupil_key)>

e.g. ``DOM1-3f9c...`` (the link group's ``prefix`` in the registry): an opaque string, never 11
digits, that names its scheme and key version so a recipient (and a test) can tell codes of
different keys apart.

Inside DuckDB the same value comes from SQL macros that :func:`register_pseudonym_macros` creates
on a connection (the dbt-duckdb plugin calls it for every dbt connection):

- ``pseudonym_<protocol_id>(pupil_key)`` for ``per_protocol`` / ``shared_within_protocol``;
- ``pseudonym_<protocol_id>(school_year, pupil_key)`` for ``per_school_year`` (an unknown
  school year is an error, never a silent null).

The keys travel only as DuckDB session variables (``pseudonymisation.register_hmac``): they never
appear in SQL text, dbt's compiled files or logs. :func:`pseudonym` is the reference in Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from orchestration.foundations import school_year as sy
from orchestration.protocols.registry import Protocol, Registry
from orchestration.foundations.pseudonymisation import (MasterKey, hmac_hex, master_key, protocol_key,
                                            register_hmac)

HASHED_SCOPES = ("protocol", "school_year")
HEX_CHARACTERS = 32  # 128 bits of the HMAC: collisions are negligible at population scale


@dataclass(frozen=True)
class Scheme:
    """How one protocol pseudonymises: its key scope, prefix and key version."""

    protocol_id: str
    scheme: str  # registry pseudonym scheme
    key_scope: str  # "protocol" or "school_year"
    key_version: int
    prefix: str  # e.g. "DOM1-"

    @property
    def per_school_year(self) -> bool:
        return self.key_scope == "school_year"

    @property
    def macro(self) -> str:
        return f"pseudonym_{self.protocol_id}"


def scheme_of(protocol: Protocol) -> Scheme | None:
    """The hashed scheme of a protocol, or None when it delivers no keyed pseudonyms."""
    groups = [g for g in protocol.pseudonym.link_groups if g.key_scope in HASHED_SCOPES]
    if not groups:
        return None
    if len(groups) > 1:  # one key per protocol; a second hashed group would share it
        raise ValueError(f"{protocol.id}: {len(groups)} hashed link groups; derive a key per "
                         "group before adding a second one")
    group = groups[0]
    version = protocol.pseudonym.key_version
    assert version is not None  # the registry requires it for hashed schemes
    prefix = group.prefix or group.id[:3].upper()  # the registry's readable prefix
    return Scheme(protocol.id, protocol.pseudonym.scheme, group.key_scope, version,
                  f"{prefix}{version}-")


def schemes(registry: Registry) -> list[Scheme]:
    return [s for p in registry.protocols.values() if (s := scheme_of(p)) is not None]


def key_periods(scheme: Scheme) -> tuple[str, ...]:
    """The periods that have a key: one per school year of the warehouse, or just ''."""
    return sy.ALL if scheme.per_school_year else ("",)


def _hmac_name(scheme: Scheme, period: str) -> str:
    return scheme.protocol_id + (f"_{period.replace('-', '_')}" if period else "")


def derive_key(master: MasterKey, scheme: Scheme, period: str = "") -> bytes:
    return protocol_key(master, scheme.protocol_id, scheme.scheme, scheme.key_version, period)


def pseudonym(scheme: Scheme, pupil_key: str, school_year: str | None = None,
              master: MasterKey | None = None) -> str:
    """The reference pseudonym of one internal pupil key (the SQL macros must equal this)."""
    period = ""
    if scheme.per_school_year:
        if school_year not in sy.ALL:
            raise ValueError(f"{scheme.protocol_id}: no key for school year {school_year!r}")
        period = school_year
    key = derive_key(master or master_key(), scheme, period)
    return scheme.prefix + hmac_hex(key, pupil_key)[:HEX_CHARACTERS]


def register_pseudonym_macros(con: duckdb.DuckDBPyConnection, registry: Registry,
                              master: MasterKey | None = None) -> list[str]:
    """Create ``pseudonym_<protocol_id>`` macros on ``con`` for every keyed protocol."""
    master = master or master_key()
    created = []
    for scheme in schemes(registry):
        branches = []
        for period in key_periods(scheme):
            name = register_hmac(con, _hmac_name(scheme, period), derive_key(master, scheme,
                                                                             period))
            value = f"'{scheme.prefix}' || left({name}(m), {HEX_CHARACTERS})"
            branches.append((period, value))
        if scheme.per_school_year:
            cases = " ".join(f"when '{period}' then {value}" for period, value in branches)
            body = (f"case sy {cases} else error('no {scheme.protocol_id} pseudonym key for "
                    f"school year ' || coalesce(sy, 'NULL')) end")
            con.execute(f"create or replace temp macro {scheme.macro}(sy, m) as "
                        f"case when m is null then null else {body} end")
        else:
            con.execute(f"create or replace temp macro {scheme.macro}(m) as {branches[0][1]}")
        created.append(scheme.macro)
    return created


def macro_names(registry: Registry) -> Iterable[str]:
    return [s.macro for s in schemes(registry)]
