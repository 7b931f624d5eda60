"""Exact numbers shared by the statistics: fractions in, decimals and Money out.

Every estimate is computed exactly (``Fraction``) and rounded once, at the end: to 28
significant digits (half-even, the ``decimal`` default) for probabilities and days, and
half-up to the currency's minor units for Money, as :class:`~sfakit.model.Money` does.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction
from typing import Any, Final

import attrs

from sfakit.errors import ValidationError
from sfakit.model.currencies import MINOR_UNITS
from sfakit.model.money import Money

__all__ = [
    "DAY_US",
    "days",
    "decimal_of",
    "minor_units",
    "money_of_minor",
    "non_negative_decimal",
    "positive_decimal",
    "sqrt_of",
    "unit_interval",
]

_CTX: Final = Context(prec=28, rounding=ROUND_HALF_EVEN)
_US: Final = timedelta(microseconds=1)
#: Microseconds in a day: durations become days by one exact division.
DAY_US: Final = 86_400_000_000

_UNIT_EXPECTED: Final = "a Decimal probability from 0 to 1 (an int or numeric string; no float)"


def decimal_of(value: Fraction) -> Decimal:
    """``value`` to 28 significant digits (exact when it fits)."""
    return _CTX.divide(Decimal(value.numerator), Decimal(value.denominator))


def sqrt_of(value: Fraction) -> Decimal:
    """The square root of a non-negative ``value``, to 28 significant digits."""
    return _CTX.sqrt(decimal_of(value))


def days(value: object, path: str) -> Decimal:
    """A duration as days: a ``timedelta`` (exact to the microsecond), or a Decimal or int
    count of days. Negative durations and floats are refused."""
    if isinstance(value, timedelta):
        result = _CTX.divide(Decimal(value // _US), Decimal(DAY_US))
    elif isinstance(value, Decimal) and value.is_finite():
        result = value
    elif isinstance(value, int) and not isinstance(value, bool):
        result = Decimal(value)
    else:
        result = None
    if result is None or result < 0:
        raise ValidationError(
            path, value, "a duration >= 0: a timedelta, or days as a Decimal or int (no float)"
        )
    return result


def minor_units(money: Money) -> int:
    """The amount in the currency's minor units (cents), exactly."""
    return int(money.amount.scaleb(money.minor_units))


def money_of_minor(units: Fraction | int, currency: str) -> Money:
    """Money from an exact count of minor units, rounded half-up (away from zero) to a
    whole minor unit, as Money rounds: one rounding, however many digits ``units`` has."""
    value = Fraction(units)
    whole, rest = divmod(abs(value.numerator), value.denominator)
    if 2 * rest >= value.denominator:
        whole += 1
    if value < 0:
        whole = -whole
    return Money(Decimal(whole).scaleb(-MINOR_UNITS[currency]), currency)


def _path(attribute: attrs.Attribute[Any]) -> str:
    return f"$.{attribute.name}"


def unit_interval(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A Decimal probability from 0 to 1 inclusive."""
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= 1:
        raise ValidationError(_path(attribute), value, _UNIT_EXPECTED)


def non_negative_decimal(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ValidationError(_path(attribute), value, "a Decimal >= 0 (no float)")


def positive_decimal(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ValidationError(_path(attribute), value, "a Decimal > 0 (no float)")
