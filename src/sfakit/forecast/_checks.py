"""Small validators and converters shared by the forecast modules."""

from __future__ import annotations

import enum
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

import attrs

from sfakit.errors import ValidationError

E = TypeVar("E", bound=enum.Enum)


def to_enum(kind: type[E]) -> Callable[[Any], Any]:
    """Converter: a member's value (``"quarter"``) becomes the member; anything else is
    left for the validator to refuse with the list of allowed values."""

    def convert(value: Any) -> Any:
        if isinstance(value, kind):
            return value
        try:
            return kind(value)
        except (ValueError, TypeError):
            return value

    return convert


def month_number(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A month number from 1 (January) to 12 (December)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 12:
        raise ValidationError(
            f"$.{attribute.name}", value, "a month number from 1 (January) to 12 (December)"
        )


def allowed(kind: type[enum.Enum]) -> str:
    """The values of ``kind``, for error messages."""
    return ", ".join(str(member.value) for member in kind)


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to a whole number, halves away from zero
    (Decimal's ``ROUND_HALF_UP``, the Money rule), exactly.

    >>> round_half_up(5, 2), round_half_up(-5, 2), round_half_up(7, 3)
    (3, -3, 2)
    """
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return -quotient if numerator < 0 else quotient


def rounded_ratio(
    numerator: Fraction | Decimal | int, denominator: Fraction | Decimal | int
) -> Decimal:
    """``numerator / denominator`` rounded once, half-up, to 4 places, from the exact value.

    >>> rounded_ratio(Decimal(2), Decimal(3)), rounded_ratio(Decimal(-1), Decimal(8))
    (Decimal('0.6667'), Decimal('-0.1250'))
    """
    scaled = Fraction(numerator) / Fraction(denominator) * 10_000
    return Decimal(round_half_up(scaled.numerator, scaled.denominator)).scaleb(-4)
