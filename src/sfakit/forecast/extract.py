"""From opportunities to :class:`~sfakit.forecast.columns.ForecastColumns`.

Each deal is classified once, in this order:

1. its category: the stage's default, or the deal's override while the stage is open
   (closed stages ignore overrides: won is ``closed``, lost is ``omitted``);
2. lost (a lost stage) and omitted deals are left out, and listed as such;
3. a deal with no close date, or one outside every requested period, is left out and
   listed as such;
4. its group: the dimension's value, or the hierarchy node it matches (neither: the
   group None, so that totals stay complete);
5. its amount, converted to the forecast currency (at the close date, or the period's
   first day) and rounded once; a missing amount counts as zero and is counted;
6. its weighted amount: amount x probability / 100 (the override while open, else the
   stage's), rounded half-up per deal, so that weighted totals add up exactly.

Nothing is dropped silently: every deal given is either in the columns or in one
:class:`Exclusion`.
"""

from __future__ import annotations

import bisect
import enum
import itertools
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.forecast._checks import round_half_up
from sfakit.forecast.columns import CATEGORY_CODES, ForecastColumns
from sfakit.forecast.currency import RateBasis, RateTable, convert_minor
from sfakit.forecast.hierarchy import Dimension, Hierarchy
from sfakit.forecast.periods import Period
from sfakit.model.checks import enum_of, non_negative_int, text, to_tuple, tuple_of
from sfakit.model.currencies import MINOR_UNITS
from sfakit.model.opportunities import ForecastCategory, Opportunity
from sfakit.pipeline import Pipeline, PipelineSet

__all__ = ["Exclusion", "ExclusionReason"]

_OMITTED: Final = ForecastCategory.OMITTED


class ExclusionReason(enum.StrEnum):
    """Why a deal is not in any forecast figure."""

    LOST = "lost"
    OMITTED = "omitted"
    NO_CLOSE_DATE = "no_close_date"
    OUTSIDE_PERIODS = "outside_periods"


def _to_reason(value: object) -> object:
    try:
        return ExclusionReason(value)  # type: ignore[arg-type]
    except ValueError:
        return value


def _count(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    non_negative_int(instance, attribute, value)
    if instance.deal_ids and value != len(instance.deal_ids):
        raise ValidationError(
            "$.count", value, f"{len(instance.deal_ids)}, the number of deal_ids listed"
        )


@attrs.frozen(kw_only=True)
class Exclusion:
    """The deals left out of a forecast for one reason: ``count`` of them, with their
    ids in ``deal_ids`` — unless the report was summed by a database
    (:func:`~sfakit.forecast.rollup.forecast_sums`), which counts them without listing.

    >>> Exclusion(reason="lost", deal_ids=["opp_a"]).reason
    <ExclusionReason.LOST: 'lost'>
    >>> Exclusion(reason="lost", deal_ids=["opp_a", "opp_b"]).count
    2
    >>> Exclusion(reason="lost", count=40).deal_ids
    ()
    """

    reason: ExclusionReason = attrs.field(converter=_to_reason, validator=enum_of(ExclusionReason))
    deal_ids: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(text(max_length=200))
    )
    count: int = attrs.field(
        default=attrs.Factory(lambda self: len(self.deal_ids), takes_self=True), validator=_count
    )


@attrs.frozen
class Extracted:
    """What :func:`extract` found: the columns, the flat groups they index (empty for a
    hierarchy, whose nodes they index), and the exclusions."""

    columns: ForecastColumns
    groups: tuple[str | None, ...]
    exclusions: tuple[Exclusion, ...]


def check_periods(periods: Iterable[Period]) -> tuple[Period, ...]:
    """The periods in order of their start; overlapping or repeated ones are an error."""
    items = list(periods)
    for i, period in enumerate(items):
        if not isinstance(period, Period):
            raise ValidationError(f"$.periods[{i}]", period, "a Period (calendar.periods(...))")
    if not items:
        raise ValidationError("$.periods", [], "at least one Period")
    ordered = sorted(items, key=lambda p: p.start)
    problems: list[Problem] = []
    names: set[str] = set()
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end:
            problems.append(
                Problem(
                    f"$.periods[{items.index(after)}]",
                    f"a period that does not overlap {before.name} ({before})",
                    after.name,
                )
            )
    for i, period in enumerate(items):
        if period.name in names:
            problems.append(Problem(f"$.periods[{i}].name", "a name not given before", period.name))
        names.add(period.name)
    if problems:
        raise ValidationError.from_problems(problems, subject="forecast periods")
    return tuple(ordered)


def _pipelines(pipelines: Pipeline | PipelineSet) -> dict[str, Pipeline]:
    if isinstance(pipelines, Pipeline):
        return {pipelines.key: pipelines}
    if isinstance(pipelines, PipelineSet):
        return {p.key: p for p in pipelines}
    raise ValidationError("$.pipelines", pipelines, "a Pipeline or a PipelineSet")


# Per (pipeline, stage): is closed, the stage's category, its probability as a fraction.
_StageInfo = tuple[bool, ForecastCategory, int, int]


def _stage_info(by_key: dict[str, Pipeline], opportunity: Opportunity, index: int) -> _StageInfo:
    pipeline = by_key.get(opportunity.pipeline)
    if pipeline is None:
        raise ValidationError(
            f"$.opportunities[{index}].pipeline",
            opportunity.pipeline,
            f"one of the pipelines given: {', '.join(by_key)}",
        )
    if opportunity.stage not in pipeline:
        raise pipeline.unknown_stage(f"$.opportunities[{index}].stage", opportunity.stage)
    stage = pipeline.stage(opportunity.stage)
    numerator, denominator = stage.probability.as_integer_ratio()
    return stage.is_closed, stage.forecast_category, numerator, denominator


class _Extraction:
    """The state of one extraction: caches, the growing columns, the exclusions."""

    def __init__(
        self,
        *,
        pipelines: Pipeline | PipelineSet,
        periods: Sequence[Period],
        by: Dimension | Hierarchy,
        currency: str,
        rates: RateTable | None,
        basis: RateBasis,
    ) -> None:
        self.by_key = _pipelines(pipelines)
        self.starts = [p.start for p in periods]
        self.ends = [p.end for p in periods]
        self.currency = currency
        self.digits = MINOR_UNITS[currency]
        self.rates = rates
        self.at_close = basis is RateBasis.CLOSE_DATE
        self.field = (by.dimension if isinstance(by, Hierarchy) else by).field
        self.hierarchy = by if isinstance(by, Hierarchy) else None
        self.none_group = len(by) if isinstance(by, Hierarchy) else -1
        self.flat_codes: dict[str | None, int] = {}
        self.stage_cache: dict[tuple[str, str], _StageInfo] = {}
        self.period_cache: dict[date, int] = {}
        self.factor_cache: dict[tuple[str, date], Fraction] = {}
        self.excluded: dict[ExclusionReason, list[str]] = {r: [] for r in ExclusionReason}
        self.ids: list[str] = []
        self.periods: list[int] = []
        self.groups: list[int] = []
        self.categories: list[int] = []
        self.amounts: list[int] = []
        self.weighted: list[int] = []
        self.missing: list[bool] = []

    def add(self, index: int, opportunity: Opportunity) -> None:
        if not isinstance(opportunity, Opportunity):
            raise ValidationError(f"$.opportunities[{index}]", opportunity, "an Opportunity")
        key = (opportunity.pipeline, opportunity.stage)
        info = self.stage_cache.get(key)
        if info is None:
            info = self.stage_cache[key] = _stage_info(self.by_key, opportunity, index)
        closed, category, numerator, denominator = info
        if not closed and opportunity.forecast_category_override is not None:
            category = opportunity.forecast_category_override
        if category is _OMITTED:
            reason = ExclusionReason.LOST if closed else ExclusionReason.OMITTED
            self.excluded[reason].append(opportunity.id)
            return
        day = opportunity.close_date
        if day is None:
            self.excluded[ExclusionReason.NO_CLOSE_DATE].append(opportunity.id)
            return
        period = self.period_cache.get(day)
        if period is None:
            period = self.period_cache[day] = self.period_of(day)
        if period < 0:
            self.excluded[ExclusionReason.OUTSIDE_PERIODS].append(opportunity.id)
            return
        amount = opportunity.amount
        if amount is None:
            minor = 0
        elif amount.currency == self.currency:
            minor = int(amount.amount.scaleb(self.digits))
        else:
            on = day if self.at_close else self.starts[period]
            minor = self.converted(amount.amount, amount.currency, on, index, opportunity.id)
        code = CATEGORY_CODES[category]
        if code == 0:
            weighted = 0
        else:
            probability = opportunity.probability_override
            if probability is not None and not closed:
                numerator, denominator = probability.as_integer_ratio()
            weighted = round_half_up(minor * numerator, 100 * denominator)
        self.ids.append(opportunity.id)
        self.periods.append(period)
        self.groups.append(self.group_of(getattr(opportunity, self.field)))
        self.categories.append(code)
        self.amounts.append(minor)
        self.weighted.append(weighted)
        self.missing.append(amount is None)

    def period_of(self, day: date) -> int:
        found = bisect.bisect_right(self.starts, day) - 1
        return found if found >= 0 and day < self.ends[found] else -1

    def group_of(self, value: str | None) -> int:
        if self.hierarchy is None:
            return self.flat_codes.setdefault(value, len(self.flat_codes))
        group = self.hierarchy.match_index(value)
        return self.none_group if group < 0 else group

    def converted(self, amount: Decimal, source: str, on: date, index: int, deal: str) -> int:
        if self.rates is None:
            raise ValidationError(
                f"$.opportunities[{index}].amount.currency",
                source,
                f"{self.currency}, the forecast currency, or pass rates= (a RateTable) "
                f"to convert {source}",
            )
        factor = self.factor_cache.get((source, on))
        if factor is None:
            try:
                factor = self.rates.factor(source, self.currency, on)
            except ValidationError as exc:
                exc.add_note(f"converting deal {deal} ($.opportunities[{index}])")
                raise
            self.factor_cache[source, on] = factor
        minor = int(amount.scaleb(MINOR_UNITS[source]))
        return convert_minor(minor, source, self.currency, factor)

    def finish(self) -> Extracted:
        group_col = self.groups
        groups: tuple[str | None, ...] = ()
        if self.hierarchy is None:
            # Flat groups in sorted order (None last), whatever order the deals came in.
            codes = self.flat_codes
            groups = tuple(sorted(codes, key=lambda v: (v is None, v or "")))
            remap = [0] * len(groups)
            for new, value in enumerate(groups):
                remap[codes[value]] = new
            group_col = [remap[g] for g in group_col]
        columns = ForecastColumns(
            deal_ids=self.ids,
            periods=self.periods,
            groups=group_col,
            categories=self.categories,
            amounts=self.amounts,
            weighted=self.weighted,
            missing=self.missing,
        )
        exclusions = tuple(
            Exclusion(reason=reason, deal_ids=found)
            for reason, found in self.excluded.items()
            if found
        )
        return Extracted(columns, groups, exclusions)


def extract(
    opportunities: Iterable[Opportunity],
    *,
    pipelines: Pipeline | PipelineSet,
    periods: Sequence[Period],
    by: Dimension | Hierarchy,
    currency: str,
    rates: RateTable | None,
    basis: RateBasis,
) -> Extracted:
    """Classify every deal (see the module docstring) into columns and exclusions."""
    extraction = _Extraction(
        pipelines=pipelines, periods=periods, by=by, currency=currency, rates=rates, basis=basis
    )
    add = extraction.add
    for index, opportunity in enumerate(opportunities):
        add(index, opportunity)
    return extraction.finish()
