"""Ingestion validates INSZ numbers in SQL (``load.INSZ_VALID_MACRO``); python-stdnum is the
oracle: the macro must give exactly ``stdnum.be.ssn.is_valid``'s answer for any digits-only
string (ingestion strips everything but digits before validating)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.be import ssn

from orchestration.ingestion.load import INSZ_VALID_MACRO, is_valid_insz


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    connection.execute(INSZ_VALID_MACRO)
    yield connection
    connection.close()


def _sql(con, numbers: list[str]) -> list[bool]:
    return [r[0] for r in con.execute(
        "select insz_valid(n) from unnest(?::varchar[]) with ordinality as t(n, i) order by i",
        [numbers]).fetchall()]


def _insz(birth: dt.date, month_offset: int, serial: int, born_2000s: bool | None = None) -> str:
    """A number built as the agencies build them (check digits mod 97)."""
    first = f"{birth:%y}{birth.month + month_offset:02d}{birth.day:02d}{serial:03d}"
    base = int(("2" if birth.year >= 2000 else "") + first)
    return f"{first}{97 - base % 97:02d}"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="0123456789", max_size=13), min_size=1, max_size=50))
def test_any_digit_string_gets_stdnums_answer(con, numbers):
    assert _sql(con, numbers) == [ssn.is_valid(n) for n in numbers]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.dates(dt.date(1920, 1, 1), dt.date.today()),
                          st.sampled_from([0, 20, 40]), st.integers(0, 999),
                          st.integers(-1, 10), st.integers(0, 9)), min_size=1, max_size=50))
def test_well_formed_numbers_and_their_one_digit_mutants_get_stdnums_answer(con, drawn):
    numbers = []
    for birth, offset, serial, position, digit in drawn:
        number = _insz(birth, offset, serial)
        if position >= 0:  # a near miss: one digit replaced (may stay valid by chance)
            number = number[:position] + str(digit) + number[position + 1:]
        numbers.append(number)
    assert _sql(con, numbers) == [ssn.is_valid(n) for n in numbers]
    assert _sql(con, numbers) == [is_valid_insz(n) for n in numbers]


def test_the_generator_here_makes_valid_numbers(con):
    numbers = [_insz(dt.date(1985, 7, 30), 0, 33), _insz(dt.date(2012, 2, 29), 20, 5),
               _insz(dt.date(2001, 12, 31), 40, 998)]
    assert all(ssn.is_valid(n) for n in numbers)
    assert all(_sql(con, numbers))
