"""INSZ validation (python-stdnum's published vectors) and the keyed pseudonyms."""

import re

import duckdb
import pytest
from stdnum.be import ssn

from orchestration.foundations import pseudonymisation as pseudo

# Published vectors: python-stdnum docstrings and doctests (see shared DOMAIN.md).
VALID = ["85073003328", "17073003384", "00000100166", "00000100195", "85073500107",
         "75060898009", "00400100184", "98472899765", "01490700185", "75260898052",
         "93051822361", "85073006197"]
INVALID = ["12345678901", "85133000105", "85533000191", "85333000148", "85073006100"]


@pytest.mark.parametrize("number", VALID)
def test_published_valid_insz_numbers_are_accepted(number):
    assert ssn.is_valid(number)


@pytest.mark.parametrize("number", INVALID)
def test_published_invalid_insz_numbers_are_refused(number):
    assert not ssn.is_valid(number)


def test_insz_is_normalised_to_its_digits():
    assert pseudo.normalise_insz("85.07.30-033.28") == "85073003328"
    assert pseudo.normalise_insz(" 98 47 28 997 65 ") == "98472899765"


def test_hmac_in_duckdb_equals_the_python_reference():
    key = pseudo.pupil_key_secret(pseudo.MasterKey(b"x" * 40, False))
    con = duckdb.connect()
    pseudo.register_hmac(con, "pupil", key)
    got = dict(con.execute("select v, hmac_pupil(v) from unnest(?::varchar[]) t(v)",
                           [VALID]).fetchall())
    assert got == {v: pseudo.hmac_hex(key, v) for v in VALID}


def test_long_keys_are_hashed_first_as_hmac_requires():
    key = b"k" * 100
    con = duckdb.connect()
    pseudo.register_hmac(con, "long", key)
    assert con.execute("select hmac_long('abc')").fetchone()[0] == pseudo.hmac_hex(key, "abc")


def test_the_pupil_key_is_opaque_and_never_eleven_digits():
    key = pseudo.pupil_key_secret(pseudo.master_key())
    for v in VALID:
        k = pseudo.hmac_hex(key, v)
        assert re.fullmatch(r"[0-9a-f]{64}", k)
        assert v not in k


def test_the_pupil_key_is_stable_for_one_master_key_and_differs_for_another():
    a = pseudo.MasterKey(b"a" * 32, False)
    b = pseudo.MasterKey(b"b" * 32, False)
    ka1 = pseudo.hmac_hex(pseudo.pupil_key_secret(a), "85073003328")
    ka2 = pseudo.hmac_hex(pseudo.pupil_key_secret(a), "85073003328")
    kb = pseudo.hmac_hex(pseudo.pupil_key_secret(b), "85073003328")
    assert ka1 == ka2 and ka1 != kb


def test_protocol_keys_are_independent_per_protocol_version_and_period():
    m = pseudo.MasterKey(b"m" * 32, False)
    keys = {
        pseudo.protocol_key(m, "naft_evaluation", "shared", 1),
        pseudo.protocol_key(m, "antwerpen_okan", "shared", 1),
        pseudo.protocol_key(m, "naft_evaluation", "shared", 2),
        pseudo.protocol_key(m, "vtc_2015_34", "per_school_year", 1, "2023-24"),
        pseudo.protocol_key(m, "vtc_2015_34", "per_school_year", 1, "2024-25"),
        pseudo.pupil_key_secret(m),
    }
    assert len(keys) == 6


def test_hkdf_matches_rfc5869_test_case_1():
    okm = pseudo.hkdf(bytes([0x0B] * 22), bytes(range(0xF0, 0xFA)), 42, salt=bytes(range(13)))
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                         "34007208d5b887185865")


def test_the_master_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(pseudo.ENV_MASTER_KEY, "ab" * 32)
    key = pseudo.master_key()
    assert not key.is_development_key and key.secret == bytes.fromhex("ab" * 32)
    assert "ab" not in repr(key)


def test_a_short_master_key_is_refused(monkeypatch):
    monkeypatch.setenv(pseudo.ENV_MASTER_KEY, "too-short")
    with pytest.raises(pseudo.KeyConfigurationError):
        pseudo.master_key()


def test_without_a_master_key_the_named_development_key_is_used(monkeypatch):
    monkeypatch.delenv(pseudo.ENV_MASTER_KEY, raising=False)
    key = pseudo.master_key()
    assert key.is_development_key
    assert key.secret == pseudo.DEVELOPMENT_KEY_FOR_SYNTHETIC_SAMPLE_ONLY
