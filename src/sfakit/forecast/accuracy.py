"""How good were the forecasts? Submitted snapshots against what was actually won.

:func:`accuracy` pairs each line of each :class:`~sfakit.forecast.snapshots.ForecastSnapshot`
with the closed-won amount of the same group and period in a report computed after the
period (``actuals``), and judges the snapshot's cumulative figure of ``category``
(the adjusted commit forecast by default). For each pair, ``error = forecast - actual``
(positive: over-forecast). Over a set of pairs — per group (a rep, or a team: a
manager's line), per period, or all:

* **MAPE**, mean absolute percentage error: the mean of ``|error| / |actual|`` over the
  pairs whose actual is not zero. A zero actual has no percentage error: such pairs
  are left out of MAPE and counted in ``zero_actuals``; with none left, MAPE is None.
* **WMAPE**, weighted MAPE: ``sum |error| / sum |actual|`` — large deals weigh more and
  zero actuals still count; None when every actual is zero.
* **bias**: ``sum error / sum |actual|`` — positive when the team over-forecasts; None
  when every actual is zero. ``total_error`` gives the same in money.

Ratios are Decimals rounded half-up to 4 places (0.125 is 12.5 %).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.forecast._checks import rounded_ratio
from sfakit.forecast.figures import counted_category
from sfakit.forecast.rollup import ForecastReport
from sfakit.forecast.snapshots import ForecastSnapshot
from sfakit.model.money import Money
from sfakit.model.opportunities import ForecastCategory

__all__ = ["AccuracyPoint", "AccuracyReport", "AccuracyStats", "accuracy"]


@attrs.frozen(kw_only=True)
class AccuracyPoint:
    """One group in one period: what was forecast, what was won, and the error.

    ``actual_found`` is False when the actuals report has no such group (counted as
    zero won).
    """

    period: str
    group: str | None
    forecast: Money
    actual: Money
    actual_found: bool = True

    @property
    def error(self) -> Money:
        """Forecast minus actual (positive: over-forecast)."""
        return self.forecast - self.actual

    @property
    def ape(self) -> Decimal | None:
        """``|error| / |actual|`` (rounded to 4 places), or None when the actual is zero."""
        exact = self.exact_ape()
        return None if exact is None else rounded_ratio(exact, 1)

    def exact_ape(self) -> Fraction | None:
        """``|error| / |actual|`` exactly, or None when the actual is zero."""
        if self.actual.is_zero():
            return None
        return Fraction(abs(self.error.amount)) / Fraction(abs(self.actual.amount))


@attrs.frozen(kw_only=True)
class AccuracyStats:
    """Accuracy over a set of points (a group's, a period's, or all of them)."""

    key: str | None
    points: int
    zero_actuals: int
    mape: Decimal | None
    wmape: Decimal | None
    bias: Decimal | None
    total_error: Money
    notes: tuple[str, ...] = ()

    @classmethod
    def of(cls, key: str | None, points: Iterable[AccuracyPoint], currency: str) -> AccuracyStats:
        """The statistics of ``points`` (see the module docstring)."""
        items = list(points)
        # The mean of the exact percentage errors, rounded once.
        apes = [ape for p in items if (ape := p.exact_ape()) is not None]
        zero = len(items) - len(apes)
        absolute_actual = sum((abs(p.actual.amount) for p in items), Decimal(0))
        absolute_error = sum((abs(p.error.amount) for p in items), Decimal(0))
        total_error = Money.sum((p.error for p in items), currency=currency)
        notes = []
        if zero:
            notes.append(f"{zero} of {len(items)} actuals are zero: left out of MAPE")
        undefined = absolute_actual.is_zero()
        if undefined:
            notes.append("every actual is zero: WMAPE and bias are undefined")
        return cls(
            key=key,
            points=len(items),
            zero_actuals=zero,
            mape=rounded_ratio(sum(apes, Fraction(0)), len(apes)) if apes else None,
            wmape=None if undefined else rounded_ratio(absolute_error, absolute_actual),
            bias=None if undefined else rounded_ratio(total_error.amount, absolute_actual),
            total_error=total_error,
            notes=tuple(notes),
        )


@attrs.frozen(kw_only=True, eq=False)
class AccuracyReport:
    """Every point, and the statistics per group, per period and overall."""

    category: ForecastCategory
    currency: str
    points: tuple[AccuracyPoint, ...]

    def _grouped(self, key: Callable[[AccuracyPoint], str | None]) -> tuple[AccuracyStats, ...]:
        buckets: dict[str | None, list[AccuracyPoint]] = {}
        for point in self.points:
            buckets.setdefault(key(point), []).append(point)
        return tuple(AccuracyStats.of(k, v, self.currency) for k, v in buckets.items())

    def by_group(self) -> tuple[AccuracyStats, ...]:
        """Per group (rep, team or territory) across periods, in first-seen order."""
        return self._grouped(lambda p: p.group)

    def by_period(self) -> tuple[AccuracyStats, ...]:
        """Per period across groups. In a hierarchy every level is a point; pick the
        leaves or one level with :meth:`overall` for a per-period figure without
        counting a rep and their team twice."""
        return self._grouped(lambda p: p.period)

    def overall(self, groups: Iterable[str | None] | None = None) -> AccuracyStats:
        """Every point (or those of ``groups``) together."""
        wanted = None if groups is None else set(groups)
        return AccuracyStats.of(
            None,
            (p for p in self.points if wanted is None or p.group in wanted),
            self.currency,
        )


def accuracy(
    snapshots: Iterable[ForecastSnapshot],
    actuals: ForecastReport,
    *,
    category: ForecastCategory | str = ForecastCategory.COMMIT,
) -> AccuracyReport:
    """Compare every snapshot line's ``category`` figure with what ``actuals`` closed."""
    chosen = counted_category(category)
    if not isinstance(actuals, ForecastReport):
        raise ValidationError("$.actuals", actuals, "a ForecastReport")
    items = list(snapshots)
    periods = {p.name for p in actuals.periods}
    problems: list[Problem] = []
    seen: dict[tuple[str, str | None], int] = {}
    for i, snap in enumerate(items):
        if not isinstance(snap, ForecastSnapshot):
            problems.append(Problem(f"$.snapshots[{i}]", "a ForecastSnapshot", snap))
            continue
        if snap.currency != actuals.currency:
            problems.append(
                Problem(
                    f"$.snapshots[{i}].currency",
                    f"{actuals.currency}, as the actuals",
                    snap.currency,
                )
            )
        if snap.period.name not in periods:
            problems.append(
                Problem(
                    f"$.snapshots[{i}].period.name",
                    "a period of the actuals report",
                    snap.period.name,
                )
            )
        for line in snap.lines:
            key = (snap.period.name, line.group)
            if key in seen:
                problems.append(
                    Problem(
                        f"$.snapshots[{i}]",
                        f"one snapshot per period: snapshots[{seen[key]}] already has "
                        f"{snap.period.name} (pick the one to judge, e.g. the last submitted)",
                        snap.period.name,
                    )
                )
                break
            seen[key] = i
    if problems:
        raise ValidationError.from_problems(problems, subject="accuracy")
    known = set(actuals.groups)
    points = []
    for snap in items:
        for line in snap.lines:
            found = line.group in known
            actual = (
                actuals.line(snap.period.name, line.group).total.closed
                if found
                else Money.zero(actuals.currency)
            )
            points.append(
                AccuracyPoint(
                    period=snap.period.name,
                    group=line.group,
                    forecast=line.forecast(chosen),
                    actual=actual,
                    actual_found=found,
                )
            )
    return AccuracyReport(category=chosen, currency=actuals.currency, points=tuple(points))
