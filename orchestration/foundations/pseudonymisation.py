"""Keyed pseudonyms: the internal pupil key and, later, one pseudonym scheme per protocol.

- The **internal pupil key** is HMAC-SHA256 over the normalised INSZ with the warehouse master
  key. It is opaque (64 hex characters, never 11 digits) and cannot be recomputed without the
  secret. It links everything inside the warehouse; the INSZ itself stays in the vault.
- **Protocol keys** derive from the master key with HKDF-SHA256 (RFC 5869) using the protocol id,
  a purpose and a key version as ``info``, so deliveries of different protocols cannot be joined
  on their identifiers and a key can be rotated by bumping its version.

The master key comes from ``$PROTOCOL_WAREHOUSE_MASTER_KEY`` (hex or text, at least 32 bytes).
Without it the clearly named development key is used, and only on the committed synthetic sample.

HMAC is computed set-based inside DuckDB with its ``sha256`` over blobs (the standard
construction H((K^opad) || H((K^ipad) || m))), so millions of keys cost seconds and no key ever
appears in SQL text: the padded keys travel as DuckDB session variables.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass

import duckdb

ENV_MASTER_KEY = "PROTOCOL_WAREHOUSE_MASTER_KEY"
ENV_ALLOW_DEVELOPMENT_KEY = "PROTOCOL_WAREHOUSE_ALLOW_DEVELOPMENT_KEY"

# Public on purpose: it protects nothing and may only ever touch the synthetic sample.
DEVELOPMENT_KEY_FOR_SYNTHETIC_SAMPLE_ONLY = b"development-key-for-the-synthetic-sample-only!"

_BLOCK = 64  # SHA-256 block size in bytes


class KeyConfigurationError(RuntimeError):
    """The key configuration does not allow this run."""


@dataclass(frozen=True)
class MasterKey:
    secret: bytes
    is_development_key: bool

    def __repr__(self) -> str:  # never print the secret
        return f"MasterKey(development={self.is_development_key})"


def master_key() -> MasterKey:
    """The master key from the environment, or the development key when none is set."""
    raw = os.environ.get(ENV_MASTER_KEY, "")
    if not raw:
        return MasterKey(DEVELOPMENT_KEY_FOR_SYNTHETIC_SAMPLE_ONLY, True)
    secret = bytes.fromhex(raw) if re.fullmatch(r"(?:[0-9a-fA-F]{2})+", raw) else raw.encode()
    if len(secret) < 32:
        raise KeyConfigurationError(f"{ENV_MASTER_KEY} must hold at least 32 bytes of secret")
    return MasterKey(secret, False)


def development_key_allowed_explicitly() -> bool:
    return os.environ.get(ENV_ALLOW_DEVELOPMENT_KEY, "").lower() in {"1", "true", "yes"}


def normalise_insz(value: str) -> str:
    """Digits only: ``85.07.30-033.28`` -> ``85073003328``."""
    return re.sub(r"\D", "", value or "")


def hmac_hex(key: bytes, message: str) -> str:
    """Reference implementation in Python (tests compare the SQL version with it)."""
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def hkdf(master: bytes, info: str | bytes, length: int = 32,
         salt: bytes = b"protocol-warehouse") -> bytes:
    """HKDF-SHA256 (RFC 5869): one independent key per ``info``."""
    info_bytes = info.encode() if isinstance(info, str) else info
    prk = hmac.new(salt, master, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info_bytes + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def pupil_key_secret(master: MasterKey) -> bytes:
    """The key of the internal pupil key (derived, so the master key itself is never used raw)."""
    return hkdf(master.secret, "internal-pupil-key/v1")


def record_key_secret(master: MasterKey) -> bytes:
    """The key for other sources' record identifiers (e.g. DUO's fictitious number)."""
    return hkdf(master.secret, "source-record-key/v1")


def protocol_key(master: MasterKey, protocol_id: str, scheme: str, version: int,
                 period: str = "") -> bytes:
    """The pseudonym key of one protocol (and, for per-period schemes, one period)."""
    return hkdf(master.secret, f"protocol/{protocol_id}/{scheme}/v{version}/{period}")


def register_hmac(con: duckdb.DuckDBPyConnection, name: str, key: bytes) -> str:
    """Make ``hmac_<name>(text)`` available in this connection as a SQL macro.

    The padded key blocks are stored in session variables, so the key never appears in SQL
    text, query logs or dbt's compiled files.
    """
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"bad macro name {name!r}")
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(_BLOCK, b"\0")
    ipad = bytes(b ^ 0x36 for b in padded)
    opad = bytes(b ^ 0x5C for b in padded)
    con.execute(f"set variable hmac_{name}_ipad = unhex($k)", {"k": ipad.hex()})
    con.execute(f"set variable hmac_{name}_opad = unhex($k)", {"k": opad.hex()})
    con.execute(
        f"create or replace temp macro hmac_{name}(m) as "
        f"sha256(getvariable('hmac_{name}_opad') || "
        f"unhex(sha256(getvariable('hmac_{name}_ipad') || encode(m))))"
    )
    return f"hmac_{name}"
