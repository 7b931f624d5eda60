"""Owner and manager adjustments, layered on the raw forecast the way Salesforce's
collaborative forecasts layer them.

An :class:`Adjustment` changes one cumulative figure (``commit``, ``best_case`` or
``pipeline``: the commit forecast, best case forecast or open pipeline; ``closed`` is
what was won and is never adjusted) of one group in one period by ``delta``, with who
made it, when and why. It is made in a ``view``: the group's own (an **owner
adjustment**: a rep adjusting their forecast, a manager their team's total) or one of
its ancestors' (a **manager adjustment** of a subordinate's figure).

:func:`adjust` computes every figure *as seen from* a view, bottom-up:

1. a group's ``rolled_up`` figure is its own deals' figure plus its children's
   *adjusted* figures in the same view (so a manager's total includes the adjustments
   made to their reps);
2. of the adjustments to that figure visible in the view — those made in the group's
   own view or in an ancestor's up to the viewer — the one from the **most senior** view
   wins, and among those the **latest** (``at``; equal times: the one given last);
   ``adjusted = rolled_up + delta``; the others are kept as ``superseded``.

So a manager's adjustment overrides the rep's in the manager's view and above, while the
rep still sees their own; an adjustment made above the viewer is not visible to them.
The raw figures are never changed: each :class:`AdjustedFigure` carries ``raw`` (no
adjustments anywhere), ``rolled_up``, ``adjusted`` and the adjustments behind them.

The ``delta`` is kept rather than the adjusted amount, so an adjustment stays meaningful
when deals change after it was made; :meth:`AdjustedForecast.adjustment_to` computes the
delta that brings a figure to a wanted amount.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.forecast.figures import counted_category
from sfakit.forecast.periods import parse_period_name
from sfakit.forecast.rollup import ForecastReport
from sfakit.model.checks import aware_datetime, enum_of, instance_of, optional, text
from sfakit.model.money import Money
from sfakit.model.opportunities import ForecastCategory

__all__ = ["AdjustedFigure", "AdjustedForecast", "Adjustment", "adjust"]

ADJUSTABLE = (ForecastCategory.COMMIT, ForecastCategory.BEST_CASE, ForecastCategory.PIPELINE)


def _adjustable(value: object) -> object:
    try:
        category = ForecastCategory(value)  # type: ignore[arg-type]
    except ValueError:
        return value
    return category


def _check_adjustable(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in ADJUSTABLE:
        raise ValidationError(
            "$.category",
            value,
            "commit, best_case or pipeline (closed is what was won: it is not adjusted)",
        )


def _period(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    parse_period_name(value)


@attrs.frozen(kw_only=True)
class Adjustment:
    """A judgement on one figure: ``delta`` added to ``group``'s ``category`` figure in
    ``period``, made in ``view`` by ``by`` at ``at`` for ``reason``.

    >>> from datetime import datetime, timezone
    >>> from sfakit.codec import from_data, to_data
    >>> a = Adjustment(period="FY2027-Q1", group="rep_al", category="commit",
    ...                delta=Money.of(-500, "EUR"), view="rep_mia", by="rep_mia",
    ...                at=datetime(2027, 1, 20, tzinfo=timezone.utc), reason="slips to Q2")
    >>> from_data(Adjustment, to_data(a)) == a, a.is_owner_adjustment
    (True, False)
    """

    period: str = attrs.field(validator=_period)
    group: str = attrs.field(validator=text(max_length=200))
    category: ForecastCategory = attrs.field(
        converter=_adjustable, validator=[enum_of(ForecastCategory), _check_adjustable]
    )
    delta: Money = attrs.field(validator=instance_of(Money, "Money"))
    view: str = attrs.field(validator=text(max_length=200))
    by: str = attrs.field(validator=text(max_length=200))
    at: datetime = attrs.field(validator=aware_datetime)
    reason: str | None = attrs.field(default=None, validator=optional(text(max_length=2000)))

    @property
    def is_owner_adjustment(self) -> bool:
        """Made in the group's own view (else by a manager above it)."""
        return self.view == self.group


@attrs.frozen(kw_only=True)
class AdjustedFigure:
    """One figure of one group and period as seen from a view."""

    period: str
    group: str | None
    category: ForecastCategory
    raw: Money
    rolled_up: Money
    adjusted: Money
    applied: Adjustment | None
    superseded: tuple[Adjustment, ...]

    @property
    def change(self) -> Money:
        """``adjusted - raw``: every adjustment's effect on this figure, own and below."""
        return self.adjusted - self.raw


@attrs.frozen(kw_only=True, eq=False)
class AdjustedForecast:
    """Every figure of a report as seen from ``view`` (None: from the top, where every
    adjustment is visible). Look figures up with :meth:`figure`.
    """

    report: ForecastReport
    view: str | None
    figures: tuple[AdjustedFigure, ...]
    _index: dict[tuple[str, str | None, ForecastCategory], AdjustedFigure] = attrs.field(
        init=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        object.__setattr__(
            self, "_index", {(f.period, f.group, f.category): f for f in self.figures}
        )

    def figure(
        self, period: str, group: str | None, category: ForecastCategory | str
    ) -> AdjustedFigure:
        """The figure of ``group``'s ``category`` in ``period``."""
        chosen = counted_category(category)
        found = self._index.get((period, group, chosen))
        if found is None:
            raise ValidationError(
                "$.figure",
                (period, group, chosen.value),
                "a period, group in view and category (commit, best_case or pipeline)",
            )
        return found

    def adjustment_to(
        self,
        target: Money,
        *,
        period: str,
        group: str,
        category: ForecastCategory | str,
        by: str,
        at: datetime,
        reason: str | None = None,
    ) -> Adjustment:
        """The adjustment, made in this view, that brings the figure to ``target``
        (Salesforce asks for the adjusted amount; the delta is what is kept).
        """
        if self.view is None:
            raise ValidationError(
                "$.view", None, "a view (the adjuster's group): adjust from someone's forecast"
            )
        figure = self.figure(period, group, category)
        return Adjustment(
            period=period,
            group=group,
            category=figure.category,
            delta=target - figure.rolled_up,
            view=self.view,
            by=by,
            at=at,
            reason=reason,
        )


def _ancestry(report: ForecastReport, group: str | None) -> list[str | None]:
    chain = [group]
    while (parent := report.parent(chain[-1])) is not None:
        chain.append(parent)
    return chain


def _check(report: ForecastReport, items: list[Adjustment]) -> None:
    problems: list[Problem] = []
    periods = {p.name for p in report.periods}
    groups = set(report.groups)
    for i, adj in enumerate(items):
        where = f"$.adjustments[{i}]"
        if not isinstance(adj, Adjustment):
            problems.append(Problem(where, "an Adjustment", adj))
            continue
        if adj.period not in periods:
            problems.append(
                Problem(
                    f"{where}.period",
                    f"a period of the report: {', '.join(sorted(periods))}",
                    adj.period,
                )
            )
        if adj.group not in groups:
            problems.append(Problem(f"{where}.group", "a group of the report", adj.group))
        elif adj.view not in _ancestry(report, adj.group):
            problems.append(
                Problem(
                    f"{where}.view",
                    f"{adj.group!r} or one of its ancestors: "
                    f"{', '.join(str(g) for g in _ancestry(report, adj.group))}",
                    adj.view,
                )
            )
        if adj.delta.currency != report.currency:
            problems.append(
                Problem(
                    f"{where}.delta.currency",
                    f"{report.currency}, the report's currency",
                    adj.delta.currency,
                )
            )
    if problems:
        raise ValidationError.from_problems(problems, subject="adjustments")


def adjust(
    report: ForecastReport, adjustments: Iterable[Adjustment], *, view: str | None = None
) -> AdjustedForecast:
    """Layer ``adjustments`` on ``report`` as seen from ``view`` (a group; None: the top).
    See the module docstring for the rules.
    """
    if not isinstance(report, ForecastReport):
        raise ValidationError("$.report", report, "a ForecastReport")
    items = list(adjustments)
    _check(report, items)
    if view is not None and view not in report.groups:
        raise ValidationError("$.view", view, "a group of the report")
    in_view = _in_view(report, view)
    depth = {g: len(_ancestry(report, g)) for g in report.groups}
    children = {g: report.children(g) for g in report.groups}
    by_figure: dict[tuple[str, str | None, ForecastCategory], list[tuple[int, Adjustment]]] = {}
    for order, adj in enumerate(items):
        by_figure.setdefault((adj.period, adj.group, adj.category), []).append((order, adj))
    # Children before parents, so each rolled-up figure sees its children's adjusted ones.
    ordered = sorted(in_view, key=lambda g: -depth[g])
    figures: list[AdjustedFigure] = []
    for period in report.periods:
        for category in ADJUSTABLE:
            adjusted: dict[str | None, Money] = {}
            for group in ordered:
                line = report.line(period, group)
                rolled = line.own.forecast(category) + Money.sum(
                    (adjusted[c] for c in children[group]), currency=report.currency
                )
                visible = _visible(report, group, view)
                candidates = [
                    (order, adj)
                    for order, adj in by_figure.get((period.name, group, category), [])
                    if adj.view in visible
                ]
                applied = None
                if candidates:
                    # Most senior view first (smallest depth), then latest, then given last.
                    _, applied = max(candidates, key=lambda c: (-depth[c[1].view], c[1].at, c[0]))
                value = rolled if applied is None else rolled + applied.delta
                adjusted[group] = value
                figures.append(
                    AdjustedFigure(
                        period=period.name,
                        group=group,
                        category=category,
                        raw=line.total.forecast(category),
                        rolled_up=rolled,
                        adjusted=value,
                        applied=applied,
                        superseded=tuple(a for _, a in candidates if a is not applied),
                    )
                )
    return AdjustedForecast(report=report, view=view, figures=tuple(figures))


def _in_view(report: ForecastReport, view: str | None) -> list[str | None]:
    if view is None:
        return list(report.groups)
    found: list[str | None] = [view]
    i = 0
    while i < len(found):
        found.extend(report.children(found[i]))
        i += 1
    return found


def _visible(report: ForecastReport, group: str | None, view: str | None) -> set[str | None]:
    """The views whose adjustments of ``group`` the viewer sees: from the group up to the
    viewer (to the root for None)."""
    chain = _ancestry(report, group)
    if view is not None:
        chain = chain[: chain.index(view) + 1]
    return set(chain)
