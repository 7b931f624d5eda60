"""Confirmation numbers: readable format, random not sequential, typos caught."""

from __future__ import annotations

import re
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.errors import ValidationError
from sfakit.orders import (
    CONFIRMATION_BITS,
    CONFIRMATION_PREFIX,
    confirmation_number,
    is_valid_confirmation,
    normalize_confirmation,
)

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
FORMAT = re.compile(r"SO-[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}")
bits = st.integers(min_value=0, max_value=(1 << CONFIRMATION_BITS) - 1)


def body(number: str) -> str:
    return number.replace("-", "")[len(CONFIRMATION_PREFIX) :]


def with_body(symbols: str) -> str:
    return f"SO-{symbols[:3]}-{symbols[3:6]}-{symbols[6:]}"


@given(bits)
def test_every_number_has_the_documented_format_and_is_valid(random_bits: int) -> None:
    number = confirmation_number(random_bits)
    assert FORMAT.fullmatch(number)
    assert is_valid_confirmation(number)
    assert normalize_confirmation(number) == number


@given(bits)
def test_the_eight_data_symbols_are_the_bits_in_base32(random_bits: int) -> None:
    data = body(confirmation_number(random_bits))[:8]
    assert int("".join(f"{ALPHABET.index(c):05b}" for c in data), 2) == random_bits


@settings(max_examples=60)
@given(bits)
def test_the_check_symbol_catches_every_single_substitution(random_bits: int) -> None:
    symbols = body(confirmation_number(random_bits))
    for position, original in enumerate(symbols):
        for other in ALPHABET.replace(original, ""):
            typo = symbols[:position] + other + symbols[position + 1 :]
            assert not is_valid_confirmation(with_body(typo)), (position, other)


@settings(max_examples=100)
@given(bits)
def test_the_check_symbol_catches_neighbour_swaps_except_zero_and_z(random_bits: int) -> None:
    symbols = body(confirmation_number(random_bits))
    for position in range(len(symbols) - 1):
        a, b = symbols[position], symbols[position + 1]
        if a == b or {a, b} == {"0", "Z"}:
            continue
        swapped = symbols[:position] + b + a + symbols[position + 2 :]
        assert not is_valid_confirmation(with_body(swapped))


def test_the_zero_z_swap_is_the_documented_blind_spot() -> None:
    number = next(n for n in map(confirmation_number, range(0, 1 << 20, 7)) if "0Z" in body(n)[:8])
    symbols = body(number)
    at = symbols.index("0Z")
    swapped = symbols[:at] + "Z0" + symbols[at + 2 :]
    assert is_valid_confirmation(with_body(swapped))


@given(bits, bits)
def test_different_bits_give_different_numbers(a: int, b: int) -> None:
    assert (confirmation_number(a) == confirmation_number(b)) == (a == b)


def test_numbers_drawn_from_secrets_do_not_repeat() -> None:
    drawn = [confirmation_number(secrets.randbits(CONFIRMATION_BITS)) for _ in range(5000)]
    assert len(set(drawn)) == len(drawn)


@pytest.mark.parametrize(
    "typed",
    ["so-79f-g3g-kqh", " SO 79F G3G KQH ", "79F-G3G-KQH", "79fg3gkqh", "S0-79F-G3G-KQH"],
)
def test_reading_back_forgives_case_spaces_hyphens_and_the_prefix(typed: str) -> None:
    assert normalize_confirmation(typed) == "SO-79F-G3G-KQH"


def test_o_and_i_and_l_read_as_zero_and_one() -> None:
    number = confirmation_number(0)
    assert number.startswith("SO-000")
    assert normalize_confirmation(number.replace("000", "OoO", 1)) == number
    with_one = next(n for n in map(confirmation_number, range(64)) if "1" in body(n))
    assert normalize_confirmation(with_one.replace("1", "l")) == with_one
    assert normalize_confirmation(with_one.replace("1", "I")) == with_one


@pytest.mark.parametrize(
    "text",
    [
        "",
        "SO-79F-G3G-KQ",
        "SO-79F-G3G-KQHH",
        "SO-79F-G3G-KQU",
        "XX-79F-G3G-KQH",
        42,
        None,
        "S" * 99,
    ],
)
def test_anything_else_is_not_a_confirmation_number(text: object) -> None:
    assert not is_valid_confirmation(text)
    with pytest.raises(ValidationError) as info:
        normalize_confirmation(text)
    assert info.value.path == "$.confirmation_number"


@pytest.mark.parametrize("random_bits", [-1, 1 << CONFIRMATION_BITS, True, 1.5, "12"])
def test_bits_outside_the_range_are_refused(random_bits: object) -> None:
    with pytest.raises(ValidationError) as info:
        confirmation_number(random_bits)  # type: ignore[arg-type]
    assert info.value.path == "$.random_bits"
