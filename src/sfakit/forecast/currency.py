"""Dated exchange rates as data, and exact conversion between currencies.

A :class:`RateTable` has a corporate currency and, for each other currency, a history of
:class:`DatedRate` s: from ``effective`` on (until the next one starts), one unit of the
corporate currency is worth ``rate`` units of that currency — Salesforce's
*DatedConversionRate* (``StartDate``, ``ConversionRate``; advanced currency management).
The corporate currency itself is always 1 and has no entries.

Converting divides by the source currency's rate and multiplies by the target's, using
the rates in effect on the given day, and rounds **once** (half-up, to the target's
minor units: the :class:`~sfakit.model.Money` rule) from the exact quotient — so no
intermediate rounding through the corporate currency. A day before a currency's first
rate is a :class:`MissingRateError` naming the currency and the day.

Forecasts convert each deal at its **close date** by default (Salesforce converts
opportunity amounts with the dated rate of the close date); ``RateBasis.PERIOD_START``
uses one rate per period instead (the rate in effect on the period's first day), so
that all deals of a period convert alike.

>>> from datetime import date
>>> rates = RateTable.of("EUR", {"USD": [("2026-01-01", "1.10"), ("2026-07-01", "1.20")]})
>>> rates.convert(Money.of("110", "USD"), "EUR", on=date(2026, 3, 1))
Money('100.00', 'EUR')
>>> rates.convert(Money.of("120", "USD"), "EUR", on=date(2026, 7, 1))
Money('100.00', 'EUR')
>>> rates.convert(Money.of("1", "USD"), "EUR", on=date(2025, 12, 31))
Traceback (most recent call last):
...
sfakit.forecast.currency.MissingRateError: $.rates.USD: got datetime.date(2025, 12, 31); expected
a USD rate in effect on 2025-12-31 (the first USD rate starts on 2026-01-01)
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.forecast._checks import round_half_up
from sfakit.model.checks import currency_code, plain_date, to_decimal, to_tuple
from sfakit.model.currencies import MINOR_UNITS
from sfakit.model.money import Money

__all__ = [
    "CurrencyRates",
    "DatedRate",
    "MissingRateError",
    "RateBasis",
    "RateTable",
]


class RateBasis(enum.StrEnum):
    """Which day's rate converts a deal: its close date (the default, as Salesforce's
    dated exchange rates do) or the first day of its forecast period."""

    CLOSE_DATE = "close_date"
    PERIOD_START = "period_start"


class MissingRateError(ValidationError):
    """No rate of ``currency`` is in effect on ``day``.

    >>> err = MissingRateError("JPY", date(2026, 1, 1))
    >>> err.currency, err.day, err.path
    ('JPY', datetime.date(2026, 1, 1), '$.rates.JPY')
    """

    currency: str
    day: date
    first: date | None

    def __init__(self, currency: str, day: date, *, first: date | None = None) -> None:
        hint = (
            f" (the first {currency} rate starts on {first.isoformat()})"
            if first is not None
            else f" (the table has no {currency} rates)"
        )
        super().__init__(
            f"$.rates.{currency}",
            day,
            f"a {currency} rate in effect on {day.isoformat()}{hint}",
        )
        self.currency = currency
        self.day = day
        self.first = first

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_missing, (self.currency, self.day, self.first))


def _rebuild_missing(currency: str, day: date, first: date | None) -> MissingRateError:
    return MissingRateError(currency, day, first=first)


def _positive_rate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ValidationError(
            f"$.{attribute.name}", value, "a positive Decimal rate (a string such as '1.0842')"
        )


@attrs.frozen(kw_only=True)
class DatedRate:
    """From ``effective`` on, one unit of the corporate currency is worth ``rate`` units.

    >>> DatedRate(effective=date(2026, 1, 1), rate="1.0842").rate
    Decimal('1.0842')
    """

    effective: date = attrs.field(validator=plain_date)
    rate: Decimal = attrs.field(converter=to_decimal, validator=_positive_rate)


def _dated_rates(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, tuple):
        raise ValidationError("$.history", value, "a list of DatedRate")
    problems: list[Problem] = []
    for index, item in enumerate(value):
        if not isinstance(item, DatedRate):
            problems.append(Problem(f"$.history[{index}]", "a DatedRate", item))
        elif index and isinstance(value[index - 1], DatedRate):
            before = value[index - 1].effective
            if item.effective <= before:
                problems.append(
                    Problem(
                        f"$.history[{index}].effective",
                        f"a date after history[{index - 1}] ({before.isoformat()}): "
                        "rates in order of their effective dates, one per day",
                        item.effective,
                    )
                )
    if not value:
        problems.append(Problem("$.history", "at least one DatedRate", []))
    if problems:
        raise ValidationError.from_problems(problems)


@attrs.frozen(kw_only=True)
class CurrencyRates:
    """The rate history of one currency, oldest first.

    >>> usd = CurrencyRates(currency="USD", history=[DatedRate(effective=date(2026, 1, 1),
    ...                                                        rate="1.1")])
    >>> usd.rate_on(date(2026, 5, 1))
    Decimal('1.1')
    """

    currency: str = attrs.field(validator=currency_code)
    history: tuple[DatedRate, ...] = attrs.field(converter=to_tuple, validator=_dated_rates)
    _days: tuple[date, ...] = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_days", tuple(r.effective for r in self.history))

    def rate_on(self, day: date) -> Decimal:
        """The rate in effect on ``day``, or :class:`MissingRateError`."""
        index = bisect.bisect_right(self._days, day) - 1
        if index < 0:
            raise MissingRateError(self.currency, day, first=self._days[0])
        return self.history[index].rate


def _currency_rates(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, tuple):
        raise ValidationError("$.rates", value, "a list of CurrencyRates")
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(value):
        if not isinstance(item, CurrencyRates):
            problems.append(Problem(f"$.rates[{index}]", "a CurrencyRates", item))
            continue
        if item.currency in seen:
            problems.append(
                Problem(
                    f"$.rates[{index}].currency",
                    f"a currency not listed before (rates[{seen[item.currency]}])",
                    item.currency,
                )
            )
        seen.setdefault(item.currency, index)
        if item.currency == instance.corporate:
            problems.append(
                Problem(
                    f"$.rates[{index}].currency",
                    "another currency than the corporate one (its rate is always 1)",
                    item.currency,
                )
            )
    if problems:
        raise ValidationError.from_problems(problems, subject="rate table")


@attrs.frozen(kw_only=True)
class RateTable:
    """A corporate currency and the dated rates of the others.

    >>> from sfakit.codec import from_data, to_data
    >>> table = RateTable.of("EUR", {"USD": [("2026-01-01", "1.10")]})
    >>> to_data(table)["rates"][0]["history"]
    [{'effective': '2026-01-01', 'rate': '1.10'}]
    >>> from_data(RateTable, to_data(table)) == table
    True
    """

    corporate: str = attrs.field(validator=currency_code)
    rates: tuple[CurrencyRates, ...] = attrs.field(
        default=(), converter=to_tuple, validator=_currency_rates
    )
    _by_currency: dict[str, CurrencyRates] = attrs.field(
        init=False, eq=False, repr=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_currency", {r.currency: r for r in self.rates})

    @classmethod
    def of(
        cls,
        corporate: str,
        rates: Mapping[str, Iterable[tuple[date | str, Decimal | int | str]]],
    ) -> RateTable:
        """Build a table from ``{currency: [(effective, rate), ...]}`` (ISO date strings
        and Decimal strings are accepted).

        >>> RateTable.of("USD", {"JPY": [("2026-01-01", "155")]}).currencies
        ('USD', 'JPY')
        """
        built = []
        for currency, history in rates.items():
            entries = []
            for index, (day, rate) in enumerate(history):
                where = f"$.rates.{currency}[{index}]"
                try:
                    effective = date.fromisoformat(day) if isinstance(day, str) else day
                    entries.append(DatedRate(effective=effective, rate=rate))
                except ValueError as exc:
                    if isinstance(exc, ValidationError):
                        raise exc.under(where) from None
                    raise ValidationError(
                        f"{where}.effective", day, "an ISO 8601 date such as 2026-01-01"
                    ) from None
            try:
                built.append(CurrencyRates(currency=currency, history=entries))
            except ValidationError as exc:
                raise exc.under(f"$.rates.{currency}") from None
        return cls(corporate=corporate, rates=built)

    @property
    def currencies(self) -> tuple[str, ...]:
        """The corporate currency, then every currency with rates."""
        return (self.corporate, *self._by_currency)

    def rate(self, currency: str, day: date) -> Decimal:
        """Units of ``currency`` per corporate unit on ``day`` (1 for the corporate one).

        >>> RateTable.of("EUR", {}).rate("EUR", date(2026, 1, 1))
        Decimal('1')
        """
        if currency == self.corporate:
            return Decimal(1)
        rates = self._by_currency.get(currency)
        if rates is None:
            raise MissingRateError(currency, day)
        return rates.rate_on(day)

    def factor(self, source: str, target: str, day: date) -> Fraction:
        """The exact factor that turns an amount in ``source`` into ``target`` on ``day``."""
        return Fraction(self.rate(target, day)) / Fraction(self.rate(source, day))

    def convert(self, amount: Money, target: str, *, on: date) -> Money:
        """``amount`` in ``target``, at the rates in effect ``on`` that day, rounded once
        half-up to ``target``'s minor units.

        >>> rates = RateTable.of("USD", {"JPY": [("2026-01-01", "155.5")]})
        >>> rates.convert(Money.of("1000", "JPY"), "USD", on=date(2026, 2, 1))
        Money('6.43', 'USD')
        >>> rates.convert(Money.of("6.43", "USD"), "JPY", on=date(2026, 2, 1))
        Money('1000', 'JPY')
        """
        if not isinstance(amount, Money):
            raise ValidationError("$.amount", amount, "Money")
        if target not in MINOR_UNITS:
            raise ValidationError("$.target", target, "an ISO 4217 currency code such as 'EUR'")
        if amount.currency == target:
            return amount
        minor = convert_minor(
            _minor(amount), amount.currency, target, self.factor(amount.currency, target, on)
        )
        return money_of_minor(minor, target)


def _minor(amount: Money) -> int:
    return int(amount.amount.scaleb(MINOR_UNITS[amount.currency]))


def convert_minor(minor: int, source: str, target: str, factor: Fraction) -> int:
    """An amount in minor units of ``source`` converted by ``factor`` to minor units of
    ``target``, rounded once, half-up."""
    shift = MINOR_UNITS[target] - MINOR_UNITS[source]
    exact = Fraction(minor) * factor * (Fraction(10) ** shift)
    return round_half_up(exact.numerator, exact.denominator)


def money_of_minor(minor: int, currency: str) -> Money:
    """Money from an amount in minor units (``1999`` EUR cents → 19.99 EUR)."""
    return Money(Decimal(minor).scaleb(-MINOR_UNITS[currency]), currency)


def minor_of(amount: Money) -> int:
    """The amount in minor units (19.99 EUR → ``1999``)."""
    return _minor(amount)
