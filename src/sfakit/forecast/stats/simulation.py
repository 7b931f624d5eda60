"""Monte Carlo simulation of a forecast period: the distribution of the amount won.

Each open deal is a :class:`DealChance`: an amount and two probabilities, that it is won
(from its stage, its override, or a learned model) and that it closes inside the period
(from :meth:`SurvivalTable.close_probability
<sfakit.forecast.stats.survival.SurvivalTable.close_probability>`, say). Taken as
independent, a deal counts in a run with probability ``win * close`` — a Bernoulli
trial per deal and run. :func:`simulate` runs ``runs`` such periods and returns the mean,
P10/P50/P90 (linear interpolation, as NumPy's and Excel's ``PERCENTILE.INC``), extremes,
standard deviation and a histogram, beside ``expected``, the exact expectation
``Σ win * close * amount`` that the mean converges to.

Amounts are :class:`~sfakit.model.Money` in one currency. Inside, they are whole minor
units (cents), so run totals are exact integers; the statistics are computed exactly
from them and rounded half-up to the currency once, as Money does.

Two engines, chosen by ``engine``: ``"numpy"`` (``sfakit[numeric]``) compares blocks of
raw 32-bit words from numpy's PCG64 bit generator with each deal's ``p * 2**32``;
``"python"`` uses ``random.Random(seed)`` with no dependency; ``"auto"`` takes numpy when
it can be imported. Each is reproducible: the same inputs, seed and engine give the same
result. (NumPy promises identical streams only on the same build; this engine reads the
raw PCG64 stream seeded by SeedSequence, fixed algorithms, and no floating-point
sampling method, which is what can change between versions.) The two engines draw
differently, so their samples differ; both have the same distribution. A probability is
resolved to 2**-32 by numpy and 2**-53 by Python; 0 and 1 are exact in both.

>>> from sfakit.model import Money
>>> deals = [DealChance(deal="opp_a", amount=Money.of(1000, "EUR"), win_probability=1),
...          DealChance(deal="opp_b", amount=Money.of(500, "EUR"), win_probability=0)]
>>> result = simulate(deals, seed=7, runs=100, engine="python")
>>> result.mean, result.p10, result.p90, result.histogram[0].count
(Money('1000.00', 'EUR'), Money('1000.00', 'EUR'), Money('1000.00', 'EUR'), 100)
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, InvalidOperation, Overflow
from fractions import Fraction
from typing import Any, Final

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.forecast.stats._numbers import minor_units, money_of_minor, sqrt_of, unit_interval
from sfakit.forecast.stats._sampling import (
    INT64_MAX,
    numpy_available,
    numpy_totals,
    python_totals,
    summarise,
)
from sfakit.model.checks import (
    currency_code,
    enum_of,
    instance_of,
    non_negative_int,
    text,
    to_decimal,
    to_tuple,
    tuple_of,
)
from sfakit.model.money import Money

__all__ = ["DealChance", "Engine", "HistogramBin", "Simulation", "simulate"]

#: The probability a deal counts, whatever the caller's decimal context is.
_PRODUCT: Final = Context(prec=28, rounding=ROUND_HALF_EVEN)
#: Products and sums of the inputs without rounding (Inexact is trapped, never hidden).
_EXACT: Final = Context(prec=200, traps=[Inexact, InvalidOperation, Overflow])

#: The most runs one simulation may ask for (the totals are kept in memory).
MAX_RUNS: Final = 10_000_000
MAX_BINS: Final = 1000

_money = instance_of(Money, "Money")


class Engine(enum.StrEnum):
    """How :func:`simulate` draws: numpy when importable (``AUTO``), or forced.

    >>> Engine("python") is Engine.PYTHON
    True
    """

    AUTO = "auto"
    NUMPY = "numpy"
    PYTHON = "python"


@attrs.frozen(kw_only=True)
class DealChance:
    """One open deal in a simulation: its ``amount``, the probability it is won
    (``win_probability``) and that it closes inside the period (``close_probability``,
    1 when the period is certain), both from 0 to 1. ``deal`` names it (an opportunity
    id, or any label).

    >>> from sfakit.model import Money
    >>> DealChance(deal="opp_a", amount=Money.of(100, "EUR"), win_probability="0.5",
    ...            close_probability="0.8").probability
    Decimal('0.40')
    """

    deal: str = attrs.field(validator=text(max_length=200))
    amount: Money = attrs.field(validator=_money)
    win_probability: Decimal = attrs.field(converter=to_decimal, validator=unit_interval)
    close_probability: Decimal = attrs.field(
        default=Decimal(1), converter=to_decimal, validator=unit_interval
    )

    @property
    def probability(self) -> Decimal:
        """The probability that the deal counts in a run: won and closed in the period."""
        return _PRODUCT.multiply(self.win_probability, self.close_probability)


@attrs.frozen(kw_only=True)
class HistogramBin:
    """How many runs ended with a total in ``[low, high)`` (``[low, high]`` for the last
    bin of a histogram, as in ``numpy.histogram``).

    >>> from sfakit.model import Money
    >>> HistogramBin(low=Money.of(0, "EUR"), high=Money.of(10, "EUR"), count=3).count
    3
    """

    low: Money = attrs.field(validator=_money)
    high: Money = attrs.field(validator=_money)
    count: int = attrs.field(validator=non_negative_int)


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationError(f"$.{attribute.name}", value, "a whole number >= 1")


@attrs.frozen(kw_only=True)
class Simulation:
    """The outcome of :func:`simulate`: the distribution of the period's won amount over
    ``runs`` runs drawn by ``engine`` (numpy or python) from ``seed``, with the ``deals``
    it was given and ``expected``, the exact expectation the ``mean`` estimates.

    ``histogram`` has at most the bins asked for, of one width in whole minor units, from
    the smallest total to (at least) the largest; their counts add up to ``runs``. When
    every run has the same total it is one bin, ``[total, total]``.
    """

    currency: str = attrs.field(validator=currency_code)
    runs: int = attrs.field(validator=_positive)
    seed: int = attrs.field(validator=non_negative_int)
    engine: Engine = attrs.field(validator=enum_of(Engine))
    deals: tuple[DealChance, ...] = attrs.field(
        converter=to_tuple, validator=tuple_of(instance_of(DealChance, "a DealChance"))
    )
    expected: Money = attrs.field(validator=_money)
    mean: Money = attrs.field(validator=_money)
    std_dev: Money = attrs.field(validator=_money)
    minimum: Money = attrs.field(validator=_money)
    p10: Money = attrs.field(validator=_money)
    p50: Money = attrs.field(validator=_money)
    p90: Money = attrs.field(validator=_money)
    maximum: Money = attrs.field(validator=_money)
    histogram: tuple[HistogramBin, ...] = attrs.field(
        converter=to_tuple, validator=tuple_of(instance_of(HistogramBin, "a HistogramBin"))
    )

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        if self.engine is Engine.AUTO:
            problems.append(Problem("$.engine", "the engine used: numpy or python", "auto"))
        for name in ("expected", "mean", "std_dev", "minimum", "p10", "p50", "p90", "maximum"):
            money: Money = getattr(self, name)
            if money.currency != self.currency:
                problems.append(Problem(f"$.{name}.currency", repr(self.currency), money.currency))
        for i, deal in enumerate(self.deals):
            if deal.amount.currency != self.currency:
                problems.append(
                    Problem(
                        f"$.deals[{i}].amount.currency", repr(self.currency), deal.amount.currency
                    )
                )
        if not problems:
            order = (self.minimum, self.p10, self.p50, self.p90, self.maximum)
            if any(a > b for a, b in itertools.pairwise(order)):
                problems.append(
                    Problem("$.p50", "minimum <= p10 <= p50 <= p90 <= maximum", str(self.p50))
                )
        counted = sum(b.count for b in self.histogram)
        if counted != self.runs:
            problems.append(
                Problem("$.histogram", f"bin counts adding up to runs ({self.runs})", counted)
            )
        if problems:
            raise ValidationError.from_problems(problems, subject="simulation")


def _engine(value: object) -> Engine:
    if isinstance(value, str) and value in Engine._value2member_map_:
        return Engine(value)
    raise ValidationError("$.engine", value, "one of auto, numpy, python (an Engine)")


def _whole(value: object, path: str, low: int, high: int | None) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        upper = f" and at most {high:,}" if high is not None else ""
        raise ValidationError(path, value, f"a whole number >= {low}{upper}")
    return value


def simulate(
    deals: Iterable[DealChance],
    *,
    seed: int,
    runs: int = 10_000,
    engine: Engine | str = Engine.AUTO,
    bins: int = 20,
    currency: str | None = None,
) -> Simulation:
    """Simulate ``runs`` periods of ``deals`` (all in one currency; ``currency`` is needed
    when there are none) with ``engine`` from ``seed``; a histogram of at most ``bins``.

    ``engine="numpy"`` raises a ValidationError when numpy cannot be imported, or when
    the amounts are too large for int64 minor units; ``"auto"`` then uses ``"python"``.

    >>> from sfakit.model import Money
    >>> simulate([], seed=1, runs=10, currency="USD").p50
    Money('0.00', 'USD')
    """
    chosen = _engine(engine)
    _whole(seed, "$.seed", 0, None)
    _whole(runs, "$.runs", 1, MAX_RUNS)
    _whole(bins, "$.bins", 1, MAX_BINS)
    items = tuple(deals)
    unit = _currency(items, currency)
    amounts = [minor_units(d.amount) for d in items]
    fits = sum(abs(a) for a in amounts) <= INT64_MAX
    if chosen is Engine.AUTO:
        chosen = Engine.NUMPY if fits and numpy_available() else Engine.PYTHON
    elif chosen is Engine.NUMPY:
        if not numpy_available():
            raise ValidationError(
                "$.engine", "numpy", "python or auto: numpy cannot be imported (sfakit[numeric])"
            )
        if not fits:
            raise ValidationError(
                "$.engine",
                "numpy",
                "python or auto: the amounts add up to more than int64 minor units hold",
            )
    sample = numpy_totals if chosen is Engine.NUMPY else python_totals
    chances = [float(d.probability) for d in items]
    summary = summarise(sample(chances, amounts, runs, seed), bins)
    expected = _expectation(items, amounts)
    digits = Money.zero(unit).minor_units

    def money(units: Fraction | int) -> Money:
        return money_of_minor(units, unit)

    return Simulation(
        currency=unit,
        runs=runs,
        seed=seed,
        engine=chosen,
        deals=items,
        expected=money(expected),
        mean=money(summary.mean),
        std_dev=Money(sqrt_of(summary.variance).scaleb(-digits), unit),
        minimum=money(summary.minimum),
        p10=money(summary.p10),
        p50=money(summary.p50),
        p90=money(summary.p90),
        maximum=money(summary.maximum),
        histogram=tuple(
            HistogramBin(low=money(low), high=money(high), count=count)
            for low, high, count in summary.histogram
        ),
    )


def _expectation(items: tuple[DealChance, ...], amounts: list[int]) -> Fraction:
    """Sum of win * close * amount, exactly (in decimals while they stay exact)."""
    try:
        total = Decimal(0)
        for deal, amount in zip(items, amounts, strict=True):
            chance = _EXACT.multiply(deal.win_probability, deal.close_probability)
            total = _EXACT.add(total, _EXACT.multiply(chance, amount))
    except Inexact:  # inputs with hundreds of digits: fractions, slower but still exact
        return sum(
            (
                Fraction(d.win_probability) * Fraction(d.close_probability) * a
                for d, a in zip(items, amounts, strict=True)
            ),
            Fraction(0),
        )
    return Fraction(total)


def _currency(items: tuple[DealChance, ...], currency: str | None) -> str:
    if currency is not None:
        currency_code(None, _CURRENCY, currency)
    for i, item in enumerate(items):
        if not isinstance(item, DealChance):
            raise ValidationError(f"$.deals[{i}]", item, "a DealChance")
        if currency is None:
            currency = item.amount.currency
        elif item.amount.currency != currency:
            raise ValidationError(
                f"$.deals[{i}].amount.currency",
                item.amount.currency,
                f"{currency!r}, the currency of the simulation (convert amounts first)",
            )
    if currency is None:
        raise ValidationError("$.currency", None, "a currency code when there are no deals")
    return currency


_CURRENCY = attrs.fields(Simulation).currency
