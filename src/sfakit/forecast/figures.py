"""The figures of one forecast line: per-category amounts with the deals behind them.

A :class:`ForecastFigures` keeps each counted category's *own* amount and deal count —
``closed`` (won), ``commit``, ``best_case`` and ``pipeline`` (open deals) — plus the
weighted pipeline and the number of deals whose amount was missing (counted as zero).
The forecast columns of Salesforce's collaborative forecasts, with **cumulative**
roll-ups, are derived from them:

* ``closed``: closed won;
* ``commit_forecast``: closed + commit;
* ``best_case_forecast``: closed + commit + best case;
* ``open_pipeline``: pipeline + best case + commit (open deals only);
* ``weighted``: amount x probability over the open deals.

Omitted and lost deals are never counted anywhere (a trap some CRMs fall into: summing
every deal with a close date in the period).

>>> f = ForecastFigures.from_sums("EUR", [1000_00, 500_00, 300_00, 200_00, 1, 2, 1, 4,
...                                      720_00, 1])
>>> str(f.commit_forecast), str(f.best_case_forecast), str(f.open_pipeline), f.deals
('1500.00 EUR', '1800.00 EUR', '1000.00 EUR', 8)
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.forecast.columns import COUNTED, WIDTH
from sfakit.forecast.currency import minor_of
from sfakit.model.checks import (
    currency_code,
    enum_of,
    instance_of,
    non_negative_int,
    optional,
    text,
)
from sfakit.model.currencies import MINOR_UNITS
from sfakit.model.money import Money
from sfakit.model.opportunities import ForecastCategory

__all__ = ["Contribution", "ForecastFigures", "ForecastLine"]

_money = instance_of(Money, "Money")
_AMOUNTS: Final = ("closed", "commit", "best_case", "pipeline")
#: Which own categories make up each cumulative figure (Salesforce's cumulative roll-ups).
CUMULATIVE: Final = {
    ForecastCategory.CLOSED: (ForecastCategory.CLOSED,),
    ForecastCategory.COMMIT: (ForecastCategory.CLOSED, ForecastCategory.COMMIT),
    ForecastCategory.BEST_CASE: (
        ForecastCategory.CLOSED,
        ForecastCategory.COMMIT,
        ForecastCategory.BEST_CASE,
    ),
    ForecastCategory.PIPELINE: (
        ForecastCategory.COMMIT,
        ForecastCategory.BEST_CASE,
        ForecastCategory.PIPELINE,
    ),
}


def counted_category(value: object, path: str = "$.category") -> ForecastCategory:
    """``value`` as one of the counted categories, or a ValidationError."""
    try:
        category = ForecastCategory(value)  # type: ignore[arg-type]
    except ValueError:
        category = None
    if category not in COUNTED:
        raise ValidationError(path, value, "closed, commit, best_case or pipeline")
    assert category is not None
    return category


@attrs.frozen(kw_only=True)
class ForecastFigures:
    """Own amounts and deal counts per counted category, in one currency.

    >>> from sfakit.codec import from_data, to_data
    >>> zero = ForecastFigures.zero("EUR")
    >>> from_data(ForecastFigures, to_data(zero)) == zero, zero.deals
    (True, 0)
    """

    currency: str = attrs.field(validator=currency_code)
    closed: Money = attrs.field(validator=_money)
    commit: Money = attrs.field(validator=_money)
    best_case: Money = attrs.field(validator=_money)
    pipeline: Money = attrs.field(validator=_money)
    weighted: Money = attrs.field(validator=_money)
    closed_deals: int = attrs.field(default=0, validator=non_negative_int)
    commit_deals: int = attrs.field(default=0, validator=non_negative_int)
    best_case_deals: int = attrs.field(default=0, validator=non_negative_int)
    pipeline_deals: int = attrs.field(default=0, validator=non_negative_int)
    missing_amounts: int = attrs.field(default=0, validator=non_negative_int)

    def __attrs_post_init__(self) -> None:
        problems = [
            Problem(f"$.{name}.currency", f"{self.currency}, the figures' currency", m.currency)
            for name in (*_AMOUNTS, "weighted")
            if (m := getattr(self, name)).currency != self.currency
        ]
        if self.missing_amounts > self.deals:
            problems.append(
                Problem(
                    "$.missing_amounts",
                    f"at most the {self.deals} deals counted",
                    self.missing_amounts,
                )
            )
        if problems:
            raise ValidationError.from_problems(problems, subject="forecast figures")

    @classmethod
    def zero(cls, currency: str) -> ForecastFigures:
        """No deals at all."""
        return cls.from_sums(currency, [0] * WIDTH)

    @classmethod
    def from_sums(cls, currency: str, sums: Sequence[int]) -> ForecastFigures:
        """Figures from the ten sums of a :class:`~sfakit.forecast.columns.Tally` cell
        (amounts in minor units)."""
        shift = -MINOR_UNITS[currency]

        def money(minor: int) -> Money:
            return Money(Decimal(minor).scaleb(shift), currency)

        return cls(
            currency=currency,
            closed=money(sums[0]),
            commit=money(sums[1]),
            best_case=money(sums[2]),
            pipeline=money(sums[3]),
            closed_deals=sums[4],
            commit_deals=sums[5],
            best_case_deals=sums[6],
            pipeline_deals=sums[7],
            weighted=money(sums[8]),
            missing_amounts=sums[9],
        )

    def sums(self) -> list[int]:
        """The ten sums (amounts in minor units), the inverse of :meth:`from_sums`."""
        return [
            *(minor_of(getattr(self, name)) for name in _AMOUNTS),
            self.closed_deals,
            self.commit_deals,
            self.best_case_deals,
            self.pipeline_deals,
            minor_of(self.weighted),
            self.missing_amounts,
        ]

    def __add__(self, other: object) -> ForecastFigures:
        if not isinstance(other, ForecastFigures):
            return NotImplemented
        if other.currency != self.currency:
            raise ValidationError("$.currency", other.currency, f"{self.currency}, to add figures")
        return ForecastFigures.from_sums(
            self.currency, [a + b for a, b in zip(self.sums(), other.sums(), strict=True)]
        )

    # -- by category ------------------------------------------------------------------------

    def amount(self, category: ForecastCategory | str) -> Money:
        """The category's own amount (not cumulative)."""
        return getattr(self, _AMOUNT_FIELD[counted_category(category)])  # type: ignore[no-any-return]

    def count(self, category: ForecastCategory | str) -> int:
        """How many deals are in the category."""
        return getattr(self, _COUNT_FIELD[counted_category(category)])  # type: ignore[no-any-return]

    def forecast(self, category: ForecastCategory | str) -> Money:
        """The cumulative forecast figure of ``category``: closed, commit forecast, best
        case forecast or open pipeline.

        >>> f = ForecastFigures.from_sums("EUR", [100, 200, 300, 400, 1, 1, 1, 1, 0, 0])
        >>> [str(f.forecast(c)) for c in ("closed", "commit", "best_case", "pipeline")]
        ['1.00 EUR', '3.00 EUR', '6.00 EUR', '9.00 EUR']
        """
        parts = CUMULATIVE[counted_category(category)]
        return Money.sum((self.amount(c) for c in parts), currency=self.currency)

    def forecast_deals(self, category: ForecastCategory | str) -> int:
        """How many deals make up :meth:`forecast` of ``category``."""
        return sum(self.count(c) for c in CUMULATIVE[counted_category(category)])

    @property
    def commit_forecast(self) -> Money:
        """Closed won plus commit."""
        return self.closed + self.commit

    @property
    def best_case_forecast(self) -> Money:
        """Closed won plus commit plus best case."""
        return self.closed + self.commit + self.best_case

    @property
    def open_pipeline(self) -> Money:
        """Every open deal counted: pipeline plus best case plus commit."""
        return self.pipeline + self.best_case + self.commit

    @property
    def deals(self) -> int:
        """How many deals were counted."""
        return self.closed_deals + self.commit_deals + self.best_case_deals + self.pipeline_deals

    @property
    def open_deals(self) -> int:
        """How many open deals were counted."""
        return self.commit_deals + self.best_case_deals + self.pipeline_deals


_AMOUNT_FIELD: Final = dict(zip(COUNTED, _AMOUNTS, strict=True))
_COUNT_FIELD: Final = {c: f"{name}_deals" for c, name in _AMOUNT_FIELD.items()}


@attrs.frozen(kw_only=True)
class ForecastLine:
    """One group in one period: its ``own`` deals and its ``total`` — own plus every
    descendant in a hierarchy (equal to ``own`` when grouped flat). ``group`` None
    collects the deals with no value for the dimension (or none the hierarchy places).

    >>> zero = ForecastFigures.zero("EUR")
    >>> ForecastLine(period="FY2027-Q1", group="rep_al", own=zero, total=zero).parent is None
    True
    """

    period: str = attrs.field(validator=text(max_length=20))
    group: str | None = attrs.field(validator=optional(text(max_length=200)))
    parent: str | None = attrs.field(default=None, validator=optional(text(max_length=200)))
    label: str | None = attrs.field(default=None, validator=optional(text(max_length=200)))
    own: ForecastFigures = attrs.field(validator=instance_of(ForecastFigures, "ForecastFigures"))
    total: ForecastFigures = attrs.field(validator=instance_of(ForecastFigures, "ForecastFigures"))


def _to_category(value: Any) -> Any:
    try:
        return ForecastCategory(value)
    except ValueError:
        return value


@attrs.frozen(kw_only=True)
class Contribution:
    """One deal behind a forecast number: where it counts and with how much.

    >>> Contribution(deal_id="opp_a", period="FY2027-Q1", group="rep_al",
    ...              category="commit", amount=Money.of(5, "EUR"), weighted=Money.of(4, "EUR"),
    ...              amount_missing=False).category
    <ForecastCategory.COMMIT: 'commit'>
    """

    deal_id: str = attrs.field(validator=text(max_length=200))
    period: str = attrs.field(validator=text(max_length=20))
    group: str | None = attrs.field(validator=optional(text(max_length=200)))
    category: ForecastCategory = attrs.field(
        converter=_to_category, validator=enum_of(ForecastCategory)
    )
    amount: Money = attrs.field(validator=_money)
    weighted: Money = attrs.field(validator=_money)
    amount_missing: bool = attrs.field(validator=instance_of(bool, "true or false"))
