"""Checksum-valid INSZ numbers (national number or BIS number), vectorised.

Layout: YYMMDD + a 3-digit day counter (odd for boys, even for girls) + 2 check digits, where
check = 97 - (base mod 97) and base is the 9-digit number, prefixed by 2 for births from 2000
(DOMAIN.md §1). BIS numbers add 40 to the month (20 when the sex was unknown at assignment).
Counters are unique within a birth date, sex and number kind, so every child gets its own number.
python-stdnum is the reference: :func:`check_sample` asserts that it agrees on a random sample.
"""

from __future__ import annotations

import numpy as np
from stdnum.be import ssn

MAX_SLOTS = 498  # counters 1..997 (boys) or 2..998 (girls)


def _check_digits(base9: np.ndarray, born_2000s: np.ndarray) -> np.ndarray:
    base = base9.astype(np.int64) + np.where(born_2000s, 2_000_000_000, 0)
    return 97 - base % 97


def make(birth: np.ndarray, female: np.ndarray, bis_offset: np.ndarray,
         rng: np.random.Generator) -> np.ndarray:
    """INSZ strings for children born on ``birth`` (datetime64[D]).

    ``bis_offset`` is 0 for a national number, 20 or 40 for a BIS number.
    """
    n = len(birth)
    years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    months = (birth.astype("datetime64[M]").astype(np.int64) % 12) + 1
    days = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    # Unique counter slot within (birth date, sex, kind): rank in the group, spread by a stride
    # coprime with MAX_SLOTS from a random group offset, so counters look random but never clash.
    group = (birth.astype(np.int64) * 2 + female.astype(np.int64)) * 64 + bis_offset
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    sizes = np.diff(np.r_[starts, n])
    if sizes.max(initial=0) > MAX_SLOTS:
        raise ValueError("too many children share a birth date for unique INSZ counters")
    rank = np.arange(n) - np.repeat(starts, sizes)
    offset = np.repeat(rng.integers(0, MAX_SLOTS, len(starts)), sizes)
    slot = np.empty(n, dtype=np.int64)
    slot[order] = (offset + rank * 7) % MAX_SLOTS
    counter = np.where(female, 2 * slot + 2, 2 * slot + 1)
    base9 = ((years % 100) * 10_000_000 + (months + bis_offset) * 100_000 + days * 1000 + counter)
    check = _check_digits(base9, years >= 2000)
    digits = base9 * 100 + check
    return np.char.zfill(digits.astype("U11"), 11).astype(object)


def check_sample(insz: np.ndarray, rng: np.random.Generator, size: int = 2000) -> None:
    """Assert that python-stdnum accepts a random sample of generated numbers."""
    if len(insz) == 0:
        return
    pick = rng.choice(len(insz), size=min(size, len(insz)), replace=False)
    bad = [x for x in insz[pick] if not ssn.is_valid(x)]
    if bad:
        raise AssertionError(f"{len(bad)} generated INSZ rejected by python-stdnum")


def corrupt_checksum(value: str) -> str:
    """The same number with check digits that fit neither century (for defect injection)."""
    base = int(value[:9])
    valid = {97 - base % 97, 97 - (2_000_000_000 + base) % 97}
    current = int(value[9:])
    for step in range(1, 100):
        wrong = (current + step * 11 - 1) % 97 + 1
        if wrong not in valid:
            return f"{value[:9]}{wrong:02d}"
    raise AssertionError("unreachable")
