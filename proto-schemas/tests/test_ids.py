"""Ids: prefix, 26 Crockford base32 characters, creation time first, strictly increasing."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st
from skiff_contracts import ids
from skiff_contracts.ids import new_id

CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def one_character_at_a_time(value: int) -> str:
    """The plain encoding: 26 base32 digits, most significant first."""
    return "".join(CROCKFORD[value >> (5 * (25 - n)) & 31] for n in range(26))


def decoded(text: str) -> int:
    value = 0
    for character in text:
        value = value << 5 | CROCKFORD.index(character)
    return value


def test_an_id_is_its_prefix_and_26_crockford_characters() -> None:
    made = new_id("hld")
    prefix, _, body = made.partition("_")
    assert prefix == "hld"
    assert len(body) == 26
    assert set(body) <= set(CROCKFORD)


def test_an_id_begins_with_the_millisecond_it_was_made() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id("evt")
    after = time.time_ns() // 1_000_000
    assert before <= decoded(made.removeprefix("evt_")) >> 80 <= after


def test_ids_made_back_to_back_increase() -> None:
    made = [new_id("txn") for _ in range(2000)]  # many share a millisecond
    assert made == sorted(made)
    assert len(set(made)) == len(made)


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_the_two_character_table_writes_what_one_character_at_a_time_would(value: int) -> None:
    written = "".join(ids._PAIRS[value >> shift & 1023] for shift in ids._SHIFTS)
    assert written == one_character_at_a_time(value)
    assert decoded(written) == value
