"""Recipient pseudonyms: the SQL macros equal the Python reference, and protocols cannot be joined.

Each pseudonymised protocol has its own HKDF-derived key (and vtc_2015_34 one per school year),
so the same pupil gets unrelated codes in different deliveries; the key never appears in SQL.
"""

from __future__ import annotations

import re

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st
import pytest

from orchestration.foundations import school_year as sy
from orchestration.deliveries import pseudonyms as ps
from orchestration.deliveries.dbt_plugin import Plugin
from orchestration.protocols import load_registry
from orchestration.foundations.pseudonymisation import MasterKey, hmac_hex, pupil_key_secret
from tests.privacy import INSZ_TOKEN

MASTER = MasterKey(b"m" * 40, False)
PUPIL_KEYS = [hmac_hex(pupil_key_secret(MASTER), f"{i:011d}") for i in range(300)]
OPAQUE = re.compile(r"[A-Z]{3}[0-9]+-[BCDFGHJKLMNPQRST]{32}")


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def schemes(registry):
    return {s.protocol_id: s for s in ps.schemes(registry)}


@pytest.fixture
def con(registry):
    con = duckdb.connect()
    ps.register_pseudonym_macros(con, registry, MASTER)
    yield con
    con.close()


def _sql(con, scheme, keys, school_year=None):
    if scheme.per_school_year:
        rows = con.execute(f"select k, {scheme.macro}(?, k) from unnest(?::varchar[]) t(k)",
                           [school_year, keys]).fetchall()
    else:
        rows = con.execute(f"select k, {scheme.macro}(k) from unnest(?::varchar[]) t(k)",
                           [keys]).fetchall()
    return dict(rows)


def test_the_keyed_protocols_are_the_ones_the_registry_pseudonymises(registry, schemes):
    assert set(schemes) == {pid for pid in registry.ids if registry.protocol(pid).is_pseudonymised}
    assert set(schemes) == {"naft_evaluation", "antwerpen_okan", "vtc_2015_34"}


def test_the_sql_macros_equal_the_python_reference(con, schemes):
    for scheme in schemes.values():
        year = "2020-21" if scheme.per_school_year else None
        got = _sql(con, scheme, PUPIL_KEYS[:50], year)
        assert got == {k: ps.pseudonym(scheme, k, year, MASTER) for k in PUPIL_KEYS[:50]}


def test_pseudonyms_are_opaque_strings_never_eleven_digits(con, schemes):
    for scheme in schemes.values():
        year = "2023-24" if scheme.per_school_year else None
        for value in _sql(con, scheme, PUPIL_KEYS, year).values():
            assert OPAQUE.fullmatch(value), value
            assert not INSZ_TOKEN.search(value.encode())  # the privacy scanners' token
            assert value.startswith(scheme.prefix)


def test_the_same_pupils_get_disjoint_codes_in_different_protocols(con, schemes):
    codes = {pid: {v.split("-", 1)[1] for v in _sql(con, s, PUPIL_KEYS, "2023-24" if
                                                     s.per_school_year else None).values()}
             for pid, s in schemes.items()}
    pids = sorted(codes)
    for i, a in enumerate(pids):
        for b in pids[i + 1:]:
            assert not codes[a] & codes[b], (a, b)


def test_vtc_2015_34_keys_change_every_school_year(con, schemes):
    scheme = schemes["vtc_2015_34"]
    per_year = {year: set(_sql(con, scheme, PUPIL_KEYS, year).values()) for year in sy.ALL}
    years = list(per_year)
    for i, a in enumerate(years):
        for b in years[i + 1:]:
            assert not per_year[a] & per_year[b], (a, b)


def test_a_school_year_without_a_key_is_an_error_not_a_null(con, schemes):
    with pytest.raises(duckdb.Error, match="no vtc_2015_34 pseudonym key"):
        con.execute("select pseudonym_vtc_2015_34('2009-10', 'abc')").fetchall()


def test_a_missing_pupil_key_gives_no_pseudonym(con):
    assert con.execute("select pseudonym_naft_evaluation(null), "
                       "pseudonym_vtc_2015_34('2020-21', null)").fetchone() == (None, None)


def test_another_master_key_or_key_version_gives_other_codes(schemes):
    scheme = schemes["naft_evaluation"]
    other_master = MasterKey(b"n" * 40, False)
    rotated = ps.Scheme(scheme.protocol_id, scheme.scheme, scheme.key_scope,
                        scheme.key_version + 1, scheme.prefix)
    key = PUPIL_KEYS[0]
    base = ps.pseudonym(scheme, key, master=MASTER)
    assert ps.pseudonym(scheme, key, master=other_master) != base
    assert ps.pseudonym(rotated, key, master=MASTER) != base


def test_no_key_material_appears_in_the_sql_macro_definitions(con, schemes):
    definitions = " ".join(r[0] or "" for r in con.execute(
        "select macro_definition from duckdb_functions() "
        "where function_name like 'hmac_%' or function_name like 'pseudonym_%'").fetchall())
    assert "getvariable" in definitions
    for scheme in schemes.values():
        for period in ps.key_periods(scheme):
            key = ps.derive_key(MASTER, scheme, period)
            assert key.hex() not in definitions
            assert key.hex()[:16] not in definitions


def test_the_dbt_plugin_registers_the_macros_on_connections_and_cursors(monkeypatch):
    monkeypatch.delenv("PROTOCOL_WAREHOUSE_MASTER_KEY", raising=False)
    plugin = Plugin(name="dbt_plugin", plugin_config={})
    con = duckdb.connect()
    plugin.configure_connection(con)
    cursor = con.cursor()  # a DuckDB cursor is a separate client context
    with pytest.raises(duckdb.Error):
        cursor.execute("select pseudonym_naft_evaluation('x')").fetchall()
    plugin.configure_cursor(cursor)
    scheme = ps.scheme_of(load_registry().protocol("naft_evaluation"))
    assert cursor.execute("select pseudonym_naft_evaluation('x')").fetchone()[0] == \
        ps.pseudonym(scheme, "x")


@settings(max_examples=300, deadline=None)
@given(pupil_key=st.text(min_size=1, max_size=80), version=st.integers(1, 999))
def test_a_pseudonym_never_holds_a_run_of_digits_that_could_be_a_national_number(pupil_key,
                                                                                  version):
    """Whatever the pupil key and key version: letters after the prefix, 128 bits of them."""
    scheme = ps.Scheme("naft_evaluation", "keyed", "protocol", version, f"DOM{version}-")
    code = ps.pseudonym(scheme, pupil_key, master=MASTER)
    body = code.removeprefix(scheme.prefix)
    assert len(body) == ps.CODE_LETTERS and set(body) <= set(ps.CODE_ALPHABET)
    assert not re.search(r"\d{11}", code)
    assert not INSZ_TOKEN.search(code.encode())


def test_hex_codes_did_hold_insz_like_runs_and_the_letter_codes_hold_none():
    """The reason for the letters: among many hex HMACs some hold 11 digits in a row that pass
    the INSZ checksum (what scanners flag); the letter codes of the same keys hold no digit."""
    from stdnum.be import ssn

    scheme = ps.Scheme("naft_evaluation", "keyed", "protocol", 1, "DOM1-")
    key = ps.derive_key(MASTER, scheme)
    hexes = [hmac_hex(key, f"pupil-{i}")[:32] for i in range(60_000)]
    runs = [m for h in hexes for m in re.findall(r"(?=(\d{11}))", h)]
    assert any(ssn.is_valid(r) for r in runs)  # the problem was real
    codes = [ps.pseudonym(scheme, f"pupil-{i}", master=MASTER) for i in range(60_000)]
    assert not any(re.search(r"\d{2}", c) for c in codes)
