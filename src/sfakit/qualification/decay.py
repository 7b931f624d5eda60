"""Exponential decay of engagement points: half the points every half-life.

``factor = 2 ** -(age / half_life)``, computed with :mod:`decimal` (not floats) so that a
score is the same on every machine: the age (in microseconds) is split into whole
half-lives ``k`` and a remainder ``r``, and ``factor = g(r) / 2**k`` with ``g(r) =
exp(-r · ln 2 / half_life)`` — correctly rounded to 20 significant digits (28 for the
division), and never below one half inside a half-life. So the factor is
exactly ``1/2`` at one half-life (``1/4`` at two …), and it never increases with age,
even after rounding. Decayed points are rounded half-even to the scorecard's decimal
places. An event in the future (a negative age) does not decay: scorecards do not count
such events at all.

>>> from datetime import timedelta
>>> decay_factor(timedelta(days=30), timedelta(days=30))
Decimal('0.5')
>>> decay_points(Decimal("10"), timedelta(days=45), timedelta(days=30))
Decimal('3.54')
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Final

from sfakit.errors import ValidationError

__all__ = ["decay_factor", "decay_points"]

_CTX: Final = Context(prec=28, rounding=ROUND_HALF_EVEN)
# exp dominates the cost of scoring engagement; 20 digits are far more than points need.
_EXP_CTX: Final = Context(prec=20, rounding=ROUND_HALF_EVEN)
_LN2: Final = _CTX.ln(Decimal(2))
_ONE: Final = Decimal(1)
_HALF: Final = Decimal("0.5")
_ZERO: Final = Decimal(0)
_US: Final = timedelta(microseconds=1)
# Past 64 half-lives a factor is below 6e-20: no point of a scorecard survives rounding.
_MAX_HALVINGS: Final = 64
_POWERS_OF_TWO: Final = tuple(Decimal(2**k) for k in range(_MAX_HALVINGS))


def factor_for(age_us: int, half_life_us: int) -> Decimal:
    """The decay factor for an age and a half-life in whole microseconds (half-life > 0)."""
    if age_us <= 0:
        return _ONE
    halvings, rest = divmod(age_us, half_life_us)
    if halvings >= _MAX_HALVINGS:
        return _ZERO
    if rest == 0:
        within = _ONE
    else:
        exponent = _CTX.divide(_CTX.multiply(Decimal(rest), _LN2), Decimal(half_life_us))
        # exp is correctly rounded, but ln 2 is not exact: keep g >= 1/2 inside a
        # half-life, so the factor cannot dip below its value at the next half-life.
        within = max(_EXP_CTX.exp(_CTX.minus(exponent)), _HALF)
    # Dividing (rather than multiplying by a rounded 0.5**k) makes g(r → half-life)/2**k
    # and 1/2**(k+1) the same correctly rounded quotient at the boundary.
    return _CTX.divide(within, _POWERS_OF_TWO[halvings])


def decayed_units(units: int, factor: Decimal) -> int:
    """``units`` (points in the scorecard's smallest step) times ``factor``, rounded half-even."""
    if factor == _ONE:
        return units
    return int(_CTX.multiply(Decimal(units), factor).to_integral_value(ROUND_HALF_EVEN))


def _microseconds(value: object, path: str, *, positive: bool) -> int:
    if not isinstance(value, timedelta):
        raise ValidationError(path, value, "a timedelta")
    micros = value // _US
    if positive and micros <= 0:
        raise ValidationError(path, value, "a positive duration")
    return micros


def decay_factor(age: timedelta, half_life: timedelta) -> Decimal:
    """``2 ** -(age / half_life)``: 1 for an age of zero or less, 1/2 at one half-life.

    >>> from datetime import timedelta
    >>> decay_factor(timedelta(days=15), timedelta(days=30))
    Decimal('0.70710678118654752440')
    """
    return factor_for(
        _microseconds(age, "$.age", positive=False),
        _microseconds(half_life, "$.half_life", positive=True),
    )


def decay_points(
    points: Decimal, age: timedelta, half_life: timedelta, *, places: int = 2
) -> Decimal:
    """``points`` decayed over ``age``, rounded half-even to ``places`` decimals.

    >>> from datetime import timedelta
    >>> decay_points(Decimal("10"), timedelta(days=60), timedelta(days=30))
    Decimal('2.50')
    """
    if not isinstance(points, Decimal) or not points.is_finite():
        raise ValidationError("$.points", points, "a finite Decimal")
    if not isinstance(places, int) or isinstance(places, bool) or not 0 <= places <= 6:
        raise ValidationError("$.places", places, "a whole number of decimal places from 0 to 6")
    factor = decay_factor(age, half_life)
    step = Decimal(1).scaleb(-places)
    exact = _CTX.multiply(points, factor)
    return exact.quantize(step, rounding=ROUND_HALF_EVEN, context=_CTX)
