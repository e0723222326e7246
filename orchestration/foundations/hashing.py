"""SHA-256 of a file, read in chunks: the identity of every file the warehouse receives or sends."""

import hashlib
from pathlib import Path

_CHUNK = 8 * 1024 * 1024


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()
