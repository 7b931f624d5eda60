"""Money: the arithmetic laws, half-up quantisation, and what is refused."""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sfakit.errors import CurrencyMismatchError, SfaError, ValidationError
from sfakit.model import Money
from sfakit.model.currencies import MINOR_UNITS
from sfakit.model.money import MAX_AMOUNT
from sfakit.testing.strategies import currencies, money

# Amounts small enough that adding three of them stays below MAX_AMOUNT.
BOUND = 10**17


def same_currency(n: int) -> st.SearchStrategy[tuple[Money, ...]]:
    return currencies().flatmap(
        lambda code: st.tuples(*[money(code, -BOUND, BOUND) for _ in range(n)])
    )


def units(m: Money) -> int:
    """The amount in minor units (cents for EUR)."""
    return int(m.amount.scaleb(m.minor_units))


two_currencies = st.lists(currencies(), min_size=2, max_size=2, unique=True)


# --- laws within one currency -------------------------------------------------------------


@given(same_currency(2))
def test_addition_is_commutative(pair: tuple[Money, Money]) -> None:
    a, b = pair
    assert a + b == b + a


@given(same_currency(3))
def test_addition_is_associative(triple: tuple[Money, Money, Money]) -> None:
    a, b, c = triple
    assert (a + b) + c == a + (b + c)


@given(money())
def test_zero_is_the_identity_of_addition(a: Money) -> None:
    zero = Money.zero(a.currency)
    assert a + zero == a
    assert zero + a == a


@given(money())
def test_an_amount_minus_itself_is_zero(a: Money) -> None:
    difference = a - a
    assert difference == Money.zero(a.currency)
    assert difference.is_zero()


@given(money())
def test_negation_is_the_additive_inverse(a: Money) -> None:
    assert a + (-a) == Money.zero(a.currency)
    negated = -a
    assert -negated == a
    assert negated.amount == -a.amount


@given(same_currency(2))
def test_subtraction_is_adding_the_negation(pair: tuple[Money, Money]) -> None:
    a, b = pair
    assert a - b == a + (-b)


@given(same_currency(2))
def test_comparison_agrees_with_the_amounts(pair: tuple[Money, Money]) -> None:
    a, b = pair
    assert (a < b) == (a.amount < b.amount)
    assert (a <= b) == (a.amount <= b.amount)
    assert (a > b) == (a.amount > b.amount)
    assert (a >= b) == (a.amount >= b.amount)
    assert (a == b) == (a.amount == b.amount)


@given(currencies().flatmap(lambda c: st.lists(money(c, -(10**15), 10**15), min_size=1)))
def test_builtin_sum_equals_money_sum(amounts: list[Money]) -> None:
    currency = amounts[0].currency
    total = sum(amounts)
    assert total == Money.sum(amounts, currency=currency)
    assert total.amount == sum(m.amount for m in amounts)


@given(currencies())
def test_sum_of_nothing_is_zero(currency: str) -> None:
    total = Money.sum([], currency=currency)
    assert total == Money.zero(currency)
    assert total.currency == currency


@given(money(), st.integers(-1000, 1000))
def test_multiplying_by_an_int_is_repeated_addition(a: Money, n: int) -> None:
    assume(abs(a.amount) * abs(n) < MAX_AMOUNT)
    assert a * n == Money.sum([a if n >= 0 else -a] * abs(n), currency=a.currency)
    assert n * a == a * n


@given(money(), st.integers(-1000, 1000).filter(bool))
def test_multiplying_then_dividing_round_trips_exactly(a: Money, n: int) -> None:
    assume(abs(a.amount) * abs(n) < MAX_AMOUNT)
    assert (a * n) / n == a


# --- allocation -------------------------------------------------------------------------

weights = st.lists(st.integers(0, 1000), min_size=1, max_size=12).filter(lambda ws: sum(ws) > 0)


@given(money(), weights)
def test_allocated_parts_add_up_to_the_whole(a: Money, ws: list[int]) -> None:
    parts = a.allocate(ws)
    assert len(parts) == len(ws)
    assert Money.sum(parts, currency=a.currency) == a
    assert all(p.currency == a.currency for p in parts)


@given(money(), st.integers(1, 50))
def test_equal_weights_give_parts_at_most_one_minor_unit_apart(a: Money, n: int) -> None:
    parts = a.allocate([1] * n)
    sizes = [units(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1
    assert sum(sizes) == units(a)


@given(money(), weights)
def test_allocated_parts_are_proportional_to_the_weights(a: Money, ws: list[int]) -> None:
    parts = a.allocate(ws)
    total = sum(ws)
    for part, w in zip(parts, ws, strict=True):
        exact = Decimal(units(a)) * w / total  # this part's exact share, in minor units
        assert abs(units(part) - exact) < 1
        if w == 0:
            assert part.is_zero()


def test_allocation_gives_leftover_cents_to_the_first_largest_remainders() -> None:
    parts = Money.of("100", "EUR").allocate([1, 1, 1])
    assert [str(p.amount) for p in parts] == ["33.34", "33.33", "33.33"]


@pytest.mark.parametrize(
    "ws", [[], [0, 0], [-1, 2], [Decimal("NaN")], [Decimal("9E+999999")] * 2], ids=repr
)
def test_allocate_rejects_bad_weights(ws: list[Any]) -> None:
    with pytest.raises(ValidationError) as info:
        Money.of("10", "EUR").allocate(ws)
    assert info.value.path in ("$.weights", "$.factor")


# --- quantisation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.125", "EUR", "0.13"),
        ("-0.125", "EUR", "-0.13"),
        ("0.124", "EUR", "0.12"),
        ("0.5", "JPY", "1"),
        ("-0.5", "JPY", "-1"),
        ("0.4", "JPY", "0"),
        ("0.0005", "KWD", "0.001"),
        ("0.00005", "CLF", "0.0001"),
        ("19.999", "EUR", "20.00"),
        ("-0.001", "EUR", "0.00"),  # no negative zero
        ("7", "EUR", "7.00"),
    ],
)
def test_amounts_are_quantised_half_up(amount: str, currency: str, expected: str) -> None:
    result = Money.of(amount, currency)
    assert str(result.amount) == expected


@given(money())
def test_amounts_have_exactly_the_currencys_minor_units(a: Money) -> None:
    assert a.amount.as_tuple().exponent == -MINOR_UNITS[a.currency]
    assert abs(a.amount) < MAX_AMOUNT


@pytest.mark.parametrize("amount", [Decimal("9.99"), 9, "9.99", " 9.99 "], ids=repr)
def test_decimal_int_and_numeric_strings_are_accepted(amount: Any) -> None:
    assert Money.of(amount, "EUR").amount == Decimal(str(amount).strip())


# --- what is refused --------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0.1, 1.0, float("nan"), float("inf")], ids=repr)
def test_float_amounts_raise_validation_error(amount: float) -> None:
    with pytest.raises(ValidationError) as info:
        Money.of(amount, "EUR")
    assert not isinstance(info.value, TypeError)
    assert info.value.path == "$.amount"
    assert "float" in info.value.expected


@pytest.mark.parametrize(
    "operation",
    [
        lambda m: m * 1.5,
        lambda m: 1.5 * m,
        lambda m: m / 2.0,
        lambda m: m.allocate([0.5, 0.5]),
        lambda m: m * True,
        lambda m: m * Decimal("NaN"),
        lambda m: m * Money.of("2", "EUR"),
    ],
    ids=["mul", "rmul", "div", "allocate", "bool", "nan", "money"],
)
def test_bad_factors_raise_validation_error(operation: Callable[[Money], Any]) -> None:
    with pytest.raises(ValidationError) as info:
        operation(Money.of("10", "EUR"))
    assert info.value.path == "$.factor"


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        "NaN",
        "Infinity",
        10**18,
        -(10**18),
        "1e30",
        "999999999999999999.995",  # rounds up to the limit
        "12,50",
        "",
        "twelve",
        None,
        True,
        b"12",
        [12],
    ],
    ids=repr,
)
def test_non_finite_huge_and_non_numeric_amounts_are_rejected(amount: Any) -> None:
    with pytest.raises(ValidationError) as info:
        Money(amount, "EUR")
    assert info.value.path == "$.amount"


def test_the_largest_amount_below_the_limit_is_accepted() -> None:
    assert Money.of("999999999999999999.99", "EUR").amount == MAX_AMOUNT - Decimal("0.01")


@pytest.mark.parametrize(
    "operation",
    [lambda m: m * Decimal("1E+999990"), lambda m: m / Decimal("1E-999990"), lambda m: m * 10**6],
    ids=["mul-overflow", "div-overflow", "mul-too-large"],
)
def test_results_too_large_raise_validation_error(operation: Callable[[Money], Any]) -> None:
    with pytest.raises(ValidationError):
        operation(Money.of("1e17", "EUR"))


@pytest.mark.parametrize("currency", ["eur", "XAU", "EURO", "", None, 978], ids=repr)
def test_unknown_currencies_are_rejected(currency: Any) -> None:
    with pytest.raises(ValidationError) as info:
        Money.of("1", currency)
    assert info.value.path == "$.currency"


@pytest.mark.parametrize("divisor", [0, Decimal(0), Decimal("-0.00")], ids=repr)
def test_division_by_zero_raises_validation_error(divisor: Any) -> None:
    with pytest.raises(ValidationError) as info:
        Money.of("10", "EUR") / divisor
    assert info.value.path == "$.divisor"


MIXING = {
    "+": operator.add,
    "-": operator.sub,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@pytest.mark.parametrize("op", MIXING.values(), ids=MIXING.keys())
@given(codes=two_currencies, data=st.data())
def test_mixing_currencies_raises_currency_mismatch(
    op: Callable[[Money, Money], Any], codes: list[str], data: st.DataObject
) -> None:
    left = data.draw(money(codes[0]))
    right = data.draw(money(codes[1]))
    with pytest.raises(CurrencyMismatchError) as info:
        op(left, right)
    assert isinstance(info.value, ValidationError)
    assert isinstance(info.value, SfaError)
    assert codes[0] in str(info.value)
    assert codes[1] in str(info.value)


@given(two_currencies, st.integers(-(10**6), 10**6))
def test_equality_across_currencies_is_false_not_an_error(codes: list[str], n: int) -> None:
    left, right = Money.of(n, codes[0]), Money.of(n, codes[1])
    assert left != right
    assert not left == right  # noqa: SIM201 - == itself must not raise


def test_builtin_sum_of_mixed_currencies_raises_currency_mismatch() -> None:
    with pytest.raises(CurrencyMismatchError):
        sum([Money.of("1", "EUR"), Money.of("1", "USD")])


@given(money())
def test_money_is_hashable_and_equal_moneys_hash_equal(a: Money) -> None:
    again = Money(a.amount, a.currency)
    assert again == a
    assert hash(again) == hash(a)


@given(money())
def test_repr_and_str_show_amount_and_currency(a: Money) -> None:
    assert repr(a) == f"Money({str(a.amount)!r}, {a.currency!r})"
    assert str(a) == f"{a.amount} {a.currency}"
