"""Quota attainment and coverage, per rep and rolled up a hierarchy.

For every line of a :class:`~sfakit.forecast.rollup.ForecastReport` grouped by owner
(flat or the manager chain) or by territory, :func:`attainment` finds the group's quota
for the period (:class:`~sfakit.model.Quota` by ``sales_rep_id``, or by
``territory_id`` — the node's stored territory in a territory hierarchy) and computes:

* **attainment** = closed won / quota;
* **commit coverage** = commit forecast (closed + commit) / quota: at 1 or more, the
  committed deals make quota;
* **pipeline coverage** = open pipeline / remaining quota (quota - closed): the
  "3x pipeline" rule of thumb.

In a hierarchy a group without a quota of its own takes the sum of its children's
quotas (``quota_source`` says which); figures are the line's totals (own deals plus
descendants). Quotas in another currency are converted with ``rates`` at the period's
first day. A ratio that cannot be computed is None with the reason — no quota, a zero
quota, nothing left to cover — never a ZeroDivisionError. Ratios are Decimals rounded
half-up to 4 places (``0.8125`` is 81.25 %).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from decimal import Decimal

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.forecast._checks import rounded_ratio
from sfakit.forecast.currency import RateTable
from sfakit.forecast.hierarchy import Dimension
from sfakit.forecast.periods import Period
from sfakit.forecast.rollup import ForecastReport
from sfakit.model.money import Money
from sfakit.model.territories import Quota

__all__ = ["Attainment", "AttainmentReport", "QuotaSource", "Ratio", "attainment"]


class QuotaSource(enum.StrEnum):
    """Where a group's quota came from."""

    OWN = "own"
    CHILDREN = "children"
    NONE = "none"


@attrs.frozen(kw_only=True)
class Ratio:
    """``numerator / denominator`` rounded to 4 places, or None with the ``reason``.

    >>> Ratio.of(Money.of(75, "EUR"), Money.of(100, "EUR")).value
    Decimal('0.7500')
    >>> Ratio.of(Money.of(75, "EUR"), Money.of(0, "EUR")).reason
    'the quota is zero'
    """

    value: Decimal | None
    numerator: Money
    denominator: Money | None
    reason: str | None = None

    @classmethod
    def of(
        cls, numerator: Money, denominator: Money | None, *, zero: str = "the quota is zero"
    ) -> Ratio:
        """The ratio; ``zero`` is the reason given when the denominator is zero."""
        if denominator is None:
            return cls(value=None, numerator=numerator, denominator=None, reason="no quota")
        if denominator.amount <= 0:
            reason = zero if denominator.is_zero() else f"{zero} (it is {denominator})"
            return cls(value=None, numerator=numerator, denominator=denominator, reason=reason)
        value = rounded_ratio(numerator.amount, denominator.amount)
        return cls(value=value, numerator=numerator, denominator=denominator)


@attrs.frozen(kw_only=True)
class Attainment:
    """One group in one period: its quota and how far its figures go."""

    period: str
    group: str | None
    quota: Money | None
    quota_source: QuotaSource
    closed: Money
    commit_forecast: Money
    open_pipeline: Money
    attainment: Ratio
    commit_coverage: Ratio
    pipeline_coverage: Ratio

    @property
    def remaining(self) -> Money | None:
        """Quota not yet closed (negative when exceeded; None without a quota)."""
        return None if self.quota is None else self.quota - self.closed


@attrs.frozen(kw_only=True, eq=False)
class AttainmentReport:
    """Every group's :class:`Attainment` for every period of the report."""

    lines: tuple[Attainment, ...]

    def line(self, period: str, group: str | None) -> Attainment:
        """The attainment of ``group`` in ``period``."""
        for found in self.lines:
            if found.period == period and found.group == group:
                return found
        raise ValidationError("$.line", (period, group), "a period and group of the report")


def _quota_key(report: ForecastReport, group: str | None) -> tuple[str, str] | None:
    """Which quotas belong to ``group``: ("rep", id) or ("territory", id)."""
    if group is None:
        return None
    if report.dimension is Dimension.OWNER:
        return ("rep", group)
    if report.hierarchy is not None:
        match = report.hierarchy.nodes[report.hierarchy.index(group)].match
        return None if match is None else ("territory", match)
    return ("territory", group)


def _own_quotas(
    report: ForecastReport, quotas: list[Quota], rates: RateTable | None
) -> dict[tuple[str, str, str], Money]:
    """Quota per (kind, id, period), converted to the report's currency."""
    periods = {p.name: p for p in report.periods}
    found: dict[tuple[str, str, str], Money] = {}
    problems: list[Problem] = []
    for i, quota in enumerate(quotas):
        period: Period | None = periods.get(quota.period)
        if period is None:
            continue
        amount = quota.amount
        if amount.currency != report.currency:
            if rates is None:
                problems.append(
                    Problem(
                        f"$.quotas[{i}].amount.currency",
                        f"{report.currency}, the report's currency, or pass rates= to convert",
                        amount.currency,
                    )
                )
                continue
            amount = rates.convert(amount, report.currency, on=period.start)
        key: tuple[str, str, str]
        if quota.sales_rep_id is not None:
            key = ("rep", quota.sales_rep_id, quota.period)
        else:
            assert quota.territory_id is not None  # a Quota has exactly one of the two
            key = ("territory", quota.territory_id, quota.period)
        found[key] = found[key] + amount if key in found else amount
    if problems:
        raise ValidationError.from_problems(problems, subject="quotas")
    return found


def attainment(
    report: ForecastReport, quotas: Iterable[Quota], *, rates: RateTable | None = None
) -> AttainmentReport:
    """Attainment, commit and pipeline coverage of every line of ``report`` (see the
    module docstring)."""
    if not isinstance(report, ForecastReport):
        raise ValidationError("$.report", report, "a ForecastReport")
    if report.dimension is Dimension.PRODUCT_LINE:
        raise ValidationError(
            "$.report.dimension", "product_line", "a report by owner or territory (quotas are)"
        )
    items = list(quotas)
    for i, quota in enumerate(items):
        if not isinstance(quota, Quota):
            raise ValidationError(f"$.quotas[{i}]", quota, "a Quota")
    own = _own_quotas(report, items, rates)
    lines = []
    for period in report.periods:
        effective: dict[str | None, tuple[Money | None, QuotaSource]] = {}
        for group in _children_first(report):
            key = _quota_key(report, group)
            mine = own.get((key[0], key[1], period.name)) if key is not None else None
            if mine is not None:
                effective[group] = (mine, QuotaSource.OWN)
                continue
            parts = [effective[c][0] for c in report.children(group)]
            known = [q for q in parts if q is not None]
            if known:
                effective[group] = (
                    Money.sum(known, currency=report.currency),
                    QuotaSource.CHILDREN,
                )
            else:
                effective[group] = (None, QuotaSource.NONE)
        for group in report.groups:
            target, source = effective[group]
            total = report.line(period, group).total
            remaining = None if target is None else target - total.closed
            lines.append(
                Attainment(
                    period=period.name,
                    group=group,
                    quota=target,
                    quota_source=source,
                    closed=total.closed,
                    commit_forecast=total.commit_forecast,
                    open_pipeline=total.open_pipeline,
                    attainment=Ratio.of(total.closed, target),
                    commit_coverage=Ratio.of(total.commit_forecast, target),
                    pipeline_coverage=Ratio.of(
                        total.open_pipeline,
                        remaining,
                        zero="nothing left to cover: closed deals meet the quota",
                    ),
                )
            )
    return AttainmentReport(lines=tuple(lines))


def _children_first(report: ForecastReport) -> list[str | None]:
    depth: dict[str | None, int] = {}
    for group in report.groups:
        d, g = 0, group
        while (g := report.parent(g)) is not None:
            d += 1
        depth[group] = d
    return sorted(report.groups, key=lambda g: -depth[g])
