"""Money: a ``Decimal`` amount in one ISO 4217 currency.

Amounts are quantised to the currency's minor units (2 digits for EUR, 0 for JPY, 3 for
KWD) with **half-up** rounding (``ROUND_HALF_UP``: halves go away from zero), which is
how invoices and most tax authorities round a line amount. Every operation that can
produce more digits (multiplying by a quantity, dividing) rounds the same way;
:meth:`Money.allocate` splits an amount without losing a cent.

Amounts of different currencies never mix: adding, subtracting or ordering them raises
:class:`~sfakit.errors.CurrencyMismatchError`; equality between them is simply false.
A float is refused, never converted.

>>> Money.of("19.999", "EUR")
Money('20.00', 'EUR')
>>> Money.of("10", "EUR") * 3 + Money.of("0.5", "EUR")
Money('30.50', 'EUR')
>>> Money.sum([], currency="USD")
Money('0.00', 'USD')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, Overflow
from typing import Final

import attrs

from sfakit.errors import CurrencyMismatchError, ValidationError
from sfakit.model.checks import currency_code
from sfakit.model.currencies import MINOR_UNITS

__all__ = ["MAX_AMOUNT", "Money"]

#: The largest absolute amount accepted (10**18): sums of many such amounts stay exact
#: in the 34-digit context used for arithmetic.
MAX_AMOUNT: Final = Decimal(10) ** 18

_CONTEXT: Final = Context(prec=34, rounding=ROUND_HALF_UP, traps=[InvalidOperation, Overflow])
_QUANTUM: Final = {digits: Decimal(1).scaleb(-digits) for digits in range(5)}
_AMOUNT_EXPECTED: Final = (
    f"a finite Decimal, int or numeric string with absolute value below {MAX_AMOUNT:,} "
    "(floats are refused: use Decimal('0.1'), not 0.1)"
)


def _amount_from(value: object, path: str) -> Decimal:
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationError(path, value, _AMOUNT_EXPECTED) from None
    else:
        raise ValidationError(path, value, _AMOUNT_EXPECTED)
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise ValidationError(path, value, _AMOUNT_EXPECTED)
    return amount


_FACTOR_TOO_LARGE: Final = "a factor that keeps the result within the Decimal range"


def _quantize(amount: Decimal, currency: str) -> Decimal:
    result = amount.quantize(_QUANTUM[MINOR_UNITS[currency]], context=_CONTEXT)
    return result.copy_abs() if result.is_zero() else result


def _factor(value: object, operation: str) -> Decimal:
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise ValidationError(
        "$.factor", value, f"a finite Decimal or int to {operation} Money by (floats are refused)"
    )


@attrs.frozen(order=False, repr=False)
class Money:
    """An amount of money. Build it with :meth:`of` or ``Money(Decimal("9.99"), "EUR")``.

    The constructor quantises ``amount`` to the currency's minor units (half-up).
    """

    amount: Decimal
    currency: str = attrs.field(validator=currency_code)

    def __attrs_post_init__(self) -> None:
        amount = _quantize(_amount_from(self.amount, "$.amount"), self.currency)
        if abs(amount) >= MAX_AMOUNT:  # 999999999999999999.995 rounds up to the limit
            raise ValidationError("$.amount", self.amount, _AMOUNT_EXPECTED)
        object.__setattr__(self, "amount", amount)

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        """``Money.of("12.50", "EUR")``: the readable constructor."""
        return cls(amount, currency)  # type: ignore[arg-type]  # the constructor converts

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Nothing, in ``currency``."""
        return cls(Decimal(0), currency)

    @classmethod
    def sum(cls, amounts: Iterable[Money], *, currency: str) -> Money:
        """Add up ``amounts``, all in ``currency``; an empty iterable gives zero."""
        total = cls.zero(currency)
        for amount in amounts:
            total = total + amount
        return total

    @property
    def minor_units(self) -> int:
        """Digits after the decimal point in this currency."""
        return MINOR_UNITS[self.currency]

    def is_zero(self) -> bool:
        return self.amount.is_zero()

    def _same_currency(self, other: Money, operation: str) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(self.currency, other.currency, operation=operation)

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "add")
        return Money(_CONTEXT.add(self.amount, other.amount), self.currency)

    def __radd__(self, other: object) -> Money:
        # Lets the builtin ``sum(amounts)`` start from its integer 0.
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "subtract")
        return Money(_CONTEXT.subtract(self.amount, other.amount), self.currency)

    def __mul__(self, factor: object) -> Money:
        if isinstance(factor, Money):
            raise ValidationError(
                "$.factor", factor, "a Decimal or int (Money times Money has no meaning)"
            )
        value = _factor(factor, "multiply")
        try:
            product = _CONTEXT.multiply(self.amount, value)
        except Overflow:
            raise ValidationError("$.factor", factor, _FACTOR_TOO_LARGE) from None
        return Money(product, self.currency)

    __rmul__ = __mul__

    def __truediv__(self, divisor: object) -> Money:
        value = _factor(divisor, "divide")
        if value.is_zero():
            raise ValidationError("$.divisor", divisor, "a non-zero Decimal or int")
        try:
            quotient = _CONTEXT.divide(self.amount, value)
        except Overflow:
            raise ValidationError("$.divisor", divisor, _FACTOR_TOO_LARGE) from None
        return Money(quotient, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def _compare(self, other: object, operation: str) -> Decimal | None:
        if not isinstance(other, Money):
            return None
        self._same_currency(other, operation)
        return other.amount

    def __lt__(self, other: object) -> bool:
        amount = self._compare(other, "compare")
        return NotImplemented if amount is None else self.amount < amount

    def __le__(self, other: object) -> bool:
        amount = self._compare(other, "compare")
        return NotImplemented if amount is None else self.amount <= amount

    def __gt__(self, other: object) -> bool:
        amount = self._compare(other, "compare")
        return NotImplemented if amount is None else self.amount > amount

    def __ge__(self, other: object) -> bool:
        amount = self._compare(other, "compare")
        return NotImplemented if amount is None else self.amount >= amount

    def allocate(self, weights: Sequence[Decimal | int]) -> tuple[Money, ...]:
        """Split into parts proportional to ``weights`` that add up exactly to this amount.

        Leftover minor units go to the parts with the largest remainders, earliest first.

        >>> [str(m.amount) for m in Money.of("100", "EUR").allocate([1, 1, 1])]
        ['33.34', '33.33', '33.33']
        """
        factors = [_factor(w, "allocate") for w in weights]
        expected = "a non-empty list of weights >= 0 with a positive sum"
        try:
            total_weight = Decimal(0)
            for f in factors:
                total_weight = _CONTEXT.add(total_weight, f)
        except Overflow:
            raise ValidationError("$.weights", list(weights), expected) from None
        if not factors or any(f < 0 for f in factors) or total_weight == 0:
            raise ValidationError("$.weights", list(weights), expected)
        quantum = _QUANTUM[self.minor_units]
        units = int(_CONTEXT.divide(self.amount, quantum))
        try:
            exact = [
                _CONTEXT.divide(_CONTEXT.multiply(Decimal(units), f), total_weight) for f in factors
            ]
        except Overflow:
            raise ValidationError("$.weights", list(weights), expected) from None
        shares = [int(e) for e in exact]  # int() truncates toward zero, for negative amounts too
        leftover = units - sum(shares)
        step = 1 if leftover > 0 else -1
        order = sorted(range(len(exact)), key=lambda i: -abs(exact[i] - shares[i]))
        for i in order[: abs(leftover)]:
            shares[i] += step
        return tuple(Money(Decimal(s) * quantum, self.currency) for s in shares)

    def __repr__(self) -> str:
        return f"Money({str(self.amount)!r}, {self.currency!r})"

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def __format__(self, spec: str) -> str:
        return f"{format(self.amount, spec)} {self.currency}" if spec else str(self)
