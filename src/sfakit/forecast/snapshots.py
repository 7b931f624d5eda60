"""Submitted forecasts, frozen as data for later comparison.

A :class:`ForecastSnapshot` is what was submitted for one period at one moment: for
every group in the submitter's view, the raw figures (amounts and deal counts per
category) and the adjusted commit forecast, best case forecast and open pipeline, with
the adjustments applied. It round-trips through :func:`sfakit.codec.to_data`, so it can
be stored as a document and compared with the actuals once the period is over
(:mod:`sfakit.forecast.accuracy`) — Salesforce's forecast submissions and
*ForecastingItem* history play the same role.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from sfakit.errors import NotFoundError, Problem, ValidationError
from sfakit.forecast.adjustments import Adjustment, adjust
from sfakit.forecast.figures import ForecastFigures, counted_category
from sfakit.forecast.hierarchy import Dimension
from sfakit.forecast.periods import Period
from sfakit.forecast.rollup import ForecastReport
from sfakit.model.checks import (
    aware_datetime,
    currency_code,
    enum_of,
    instance_of,
    optional,
    text,
    to_tuple,
    tuple_of,
)
from sfakit.model.money import Money
from sfakit.model.opportunities import ForecastCategory

__all__ = ["ForecastSnapshot", "SnapshotLine", "snapshot"]

_money = instance_of(Money, "Money")
_group = optional(text(max_length=200))


@attrs.frozen(kw_only=True)
class SnapshotLine:
    """One group's submitted forecast: raw ``figures`` (own and descendants) and the
    adjusted cumulative figures, with the adjustments that were applied to them."""

    group: str | None = attrs.field(validator=_group)
    parent: str | None = attrs.field(default=None, validator=_group)
    figures: ForecastFigures = attrs.field(
        validator=instance_of(ForecastFigures, "ForecastFigures")
    )
    commit: Money = attrs.field(validator=_money)
    best_case: Money = attrs.field(validator=_money)
    pipeline: Money = attrs.field(validator=_money)
    adjustments: tuple[Adjustment, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(instance_of(Adjustment, "an Adjustment"))
    )

    def forecast(self, category: ForecastCategory | str) -> Money:
        """The submitted (adjusted) cumulative figure; ``closed`` is never adjusted."""
        chosen = counted_category(category)
        if chosen is ForecastCategory.CLOSED:
            return self.figures.closed
        return getattr(self, chosen.value)  # type: ignore[no-any-return]

    def raw(self, category: ForecastCategory | str) -> Money:
        """The cumulative figure before adjustments."""
        return self.figures.forecast(category)


def _lines(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(instance_of(SnapshotLine, "a SnapshotLine"))(instance, attribute, value)
    seen: dict[str | None, int] = {}
    problems = []
    for i, line in enumerate(value):
        if line.group in seen:
            problems.append(
                Problem(
                    f"$.lines[{i}].group", f"a group not in lines[{seen[line.group]}]", line.group
                )
            )
        seen.setdefault(line.group, i)
        for name in ("commit", "best_case", "pipeline"):
            money = getattr(line, name)
            if money.currency != instance.currency:
                problems.append(
                    Problem(f"$.lines[{i}].{name}.currency", f"{instance.currency}", money.currency)
                )
        if line.figures.currency != instance.currency:
            problems.append(
                Problem(f"$.lines[{i}].figures.currency", instance.currency, line.figures.currency)
            )
    if problems:
        raise ValidationError.from_problems(problems, subject="forecast snapshot")


@attrs.frozen(kw_only=True)
class ForecastSnapshot:
    """A forecast submitted for ``period`` at ``taken_at``, as seen from ``view`` (None:
    the whole organisation), in ``currency``.

    >>> from datetime import date, datetime, timezone
    >>> from sfakit.codec import from_data, to_data
    >>> zero = ForecastFigures.zero("EUR")
    >>> snap = ForecastSnapshot(
    ...     period=Period(name="FY2027-Q1", start=date(2026, 2, 1), end=date(2026, 5, 1)),
    ...     currency="EUR", taken_at=datetime(2026, 2, 2, tzinfo=timezone.utc),
    ...     lines=[SnapshotLine(group="rep_al", figures=zero, commit=zero.closed,
    ...                         best_case=zero.closed, pipeline=zero.closed)])
    >>> from_data(ForecastSnapshot, to_data(snap)) == snap, snap.line("rep_al").group
    (True, 'rep_al')
    """

    period: Period = attrs.field(validator=instance_of(Period, "a Period"))
    currency: str = attrs.field(validator=currency_code)
    taken_at: datetime = attrs.field(validator=aware_datetime)
    submitted_by: str | None = attrs.field(default=None, validator=_group)
    view: str | None = attrs.field(default=None, validator=_group)
    dimension: Dimension | None = attrs.field(default=None, validator=optional(enum_of(Dimension)))
    lines: tuple[SnapshotLine, ...] = attrs.field(default=(), converter=to_tuple, validator=_lines)

    def line(self, group: str | None) -> SnapshotLine:
        """The line of ``group``, or :class:`~sfakit.errors.NotFoundError`."""
        for line in self.lines:
            if line.group == group:
                return line
        raise NotFoundError("snapshot line", str(group), field="group")

    @property
    def groups(self) -> tuple[str | None, ...]:
        return tuple(line.group for line in self.lines)


def snapshot(
    report: ForecastReport,
    period: Period | str,
    *,
    taken_at: datetime,
    submitted_by: str | None = None,
    view: str | None = None,
    adjustments: Iterable[Adjustment] = (),
) -> ForecastSnapshot:
    """Freeze ``report``'s ``period`` as seen from ``view`` with ``adjustments`` applied."""
    name = period.name if isinstance(period, Period) else period
    chosen = next((p for p in report.periods if p.name == name), None)
    if chosen is None:
        raise ValidationError(
            "$.period",
            period,
            f"a period of the report: {', '.join(p.name for p in report.periods)}",
        )
    adjusted = adjust(report, adjustments, view=view)
    lines = []
    groups = dict.fromkeys(f.group for f in adjusted.figures)
    for group in report.groups:
        if group not in groups:
            continue
        line = report.line(chosen, group)
        figures = {
            category: adjusted.figure(name, group, category)
            for category in (
                ForecastCategory.COMMIT,
                ForecastCategory.BEST_CASE,
                ForecastCategory.PIPELINE,
            )
        }
        applied = tuple(f.applied for f in figures.values() if f.applied is not None)
        lines.append(
            SnapshotLine(
                group=group,
                parent=line.parent,
                figures=line.total,
                commit=figures[ForecastCategory.COMMIT].adjusted,
                best_case=figures[ForecastCategory.BEST_CASE].adjusted,
                pipeline=figures[ForecastCategory.PIPELINE].adjusted,
                adjustments=applied,
            )
        )
    return ForecastSnapshot(
        period=chosen,
        currency=report.currency,
        taken_at=taken_at,
        submitted_by=submitted_by,
        view=view,
        dimension=report.dimension,
        lines=lines,
    )
