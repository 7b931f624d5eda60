"""Forecast roll-ups: deals by category, period and group, cumulative up a hierarchy.

:func:`forecast` takes opportunities, their pipelines and the periods to report
(``calendar.periods(2027, "quarter")``), and groups the deals by owner, territory,
product line or a :class:`~sfakit.forecast.hierarchy.Hierarchy` (the manager chain, the
territory tree). A deal counts in the period that contains its close date, in its
category — the stage's default or its override (see :mod:`sfakit.forecast.extract`).
:func:`forecast_columns` does the same from pre-extracted columns; ``forecast`` calls it.

The :class:`ForecastReport` holds, for every period and group, a
:class:`~sfakit.forecast.figures.ForecastLine`: the group's ``own`` deals and its
``total`` (own plus every descendant, so a parent's total is always its own deals plus
its children's totals). :meth:`ForecastReport.deals` lists the deals behind any number,
and ``exclusions`` every deal left out and why. :func:`forecast_sums` builds the same
report from sums a database computed (a :class:`~sfakit.forecast.columns.Tally`): its
figures are the same, but it is not *itemised* — it counts deals without listing them.

>>> from datetime import date, datetime, timezone
>>> from sfakit.forecast.calendar import FiscalCalendar
>>> from sfakit.model import Money, Opportunity
>>> from sfakit.pipeline import standard_pipeline
>>> t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
>>> def deal(stage, amount, **more):
...     return Opportunity(name="Deal", account_id="acct_a", pipeline="standard", stage=stage,
...                        amount=Money.of(amount, "EUR"), close_date=date(2026, 2, 15),
...                        owner_id="rep_al", created_at=t0, **more)
>>> deals = [deal("closed_won", 1000), deal("negotiate", 500), deal("propose", 300),
...          deal("qualify", 200), deal("closed_lost", 9999, lost_reason="price")]
>>> report = forecast(deals, pipelines=standard_pipeline(), currency="EUR",
...                   periods=FiscalCalendar.monthly().periods(2026, "quarter"))
>>> line = report.line("FY2026-Q1", "rep_al")
>>> str(line.total.commit_forecast), str(line.total.open_pipeline), str(line.total.weighted)
('1500.00 EUR', '1000.00 EUR', '590.00 EUR')
>>> [e.reason.value for e in report.exclusions]
['lost']
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence

import attrs

from sfakit.errors import NotFoundError, ValidationError
from sfakit.forecast._checks import allowed
from sfakit.forecast.columns import (
    CATEGORY_CODES,
    COUNTED,
    WIDTH,
    Engine,
    ForecastColumns,
    Tally,
    tally,
)
from sfakit.forecast.currency import RateBasis, RateTable, money_of_minor
from sfakit.forecast.extract import Exclusion, ExclusionReason, check_periods, extract
from sfakit.forecast.figures import CUMULATIVE, Contribution, ForecastFigures, ForecastLine
from sfakit.forecast.hierarchy import Dimension, Hierarchy
from sfakit.forecast.periods import Period
from sfakit.model.currencies import MINOR_UNITS
from sfakit.model.opportunities import ForecastCategory, Opportunity
from sfakit.pipeline import Pipeline, PipelineSet

__all__ = ["ForecastReport", "forecast", "forecast_columns", "forecast_sums"]


@attrs.frozen(eq=False, repr=False)
class ForecastReport:
    """Forecast lines for every period and group; build one with :func:`forecast` or
    :func:`forecast_columns`.

    ``groups`` are in hierarchy order (or sorted, grouped flat), with None — deals no
    group takes — last when there are any; ``hierarchy`` is the hierarchy grouped by
    (None when flat). ``tally_engine`` says which engine summed. ``itemised`` is False
    for a report built from sums (:func:`forecast_sums`): it has every figure, but cannot
    list the deals behind them.
    """

    currency: str
    periods: tuple[Period, ...]
    dimension: Dimension | None
    groups: tuple[str | None, ...]
    exclusions: tuple[Exclusion, ...]
    hierarchy: Hierarchy | None
    _parents: tuple[int, ...]
    _labels: tuple[str | None, ...]
    _tally: Tally
    _totals: list[int]
    _columns: ForecastColumns | None
    _period_index: dict[str, int] = attrs.field(init=False)
    _group_index: dict[str | None, int] = attrs.field(init=False)
    _lines: dict[tuple[int, int], ForecastLine] = attrs.field(init=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_period_index", {p.name: i for i, p in enumerate(self.periods)})
        object.__setattr__(self, "_group_index", {g: i for i, g in enumerate(self.groups)})

    def __repr__(self) -> str:
        values = self._tally.values
        counted = sum(sum(values[k + 4 : k + 8]) for k in range(0, len(values), WIDTH))
        return (
            f"<ForecastReport {self.currency}: {len(self.periods)} periods x "
            f"{len(self.groups)} groups, {counted} deals counted>"
        )

    @property
    def tally_engine(self) -> Engine:
        return self._tally.engine

    @property
    def itemised(self) -> bool:
        """Whether the report knows the deals behind its figures (False: built from sums)."""
        return self._columns is not None

    def _itemised(self) -> ForecastColumns:
        if self._columns is None:
            raise ValidationError(
                "$.report.itemised",
                False,
                "an itemised report: this one was built from sums (forecast_sums) and "
                "counts its deals without listing them; build it from the deals to list them",
            )
        return self._columns

    # -- lookups ----------------------------------------------------------------------------

    def _period(self, period: Period | str) -> int:
        name = period.name if isinstance(period, Period) else period
        found = self._period_index.get(name) if isinstance(name, str) else None
        if found is None:
            names = ", ".join(p.name for p in self.periods)
            raise ValidationError("$.period", period, f"a period of this report: {names}")
        return found

    def _group(self, group: str | None) -> int:
        found = self._group_index.get(group) if group is None or isinstance(group, str) else None
        if found is None:
            raise NotFoundError("forecast group", str(group), field="key")
        return found

    def parent(self, group: str | None) -> str | None:
        """The group's parent in the hierarchy (None for a root or a flat group)."""
        index = self._parents[self._group(group)]
        return None if index < 0 else self.groups[index]

    def children(self, group: str | None) -> tuple[str | None, ...]:
        """The group's children in the hierarchy, in order."""
        index = self._group(group)
        return tuple(g for g, p in zip(self.groups, self._parents, strict=True) if p == index)

    def _subtree(self, index: int) -> set[int]:
        found = {index}
        changed = True
        while changed:
            before = len(found)
            found.update(i for i, p in enumerate(self._parents) if p in found)
            changed = len(found) != before
        return found

    # -- lines --------------------------------------------------------------------------------

    def _figures(self, values: list[int], period: int, group: int) -> ForecastFigures:
        start = (period * len(self.groups) + group) * WIDTH
        return ForecastFigures.from_sums(self.currency, values[start : start + WIDTH])

    def _line(self, period: int, group: int) -> ForecastLine:
        cached = self._lines.get((period, group))
        if cached is None:
            parent = self._parents[group]
            cached = ForecastLine(
                period=self.periods[period].name,
                group=self.groups[group],
                parent=None if parent < 0 else self.groups[parent],
                label=self._labels[group],
                own=self._figures(self._tally.values, period, group),
                total=self._figures(self._totals, period, group),
            )
            self._lines[period, group] = cached
        return cached

    def line(self, period: Period | str, group: str | None) -> ForecastLine:
        """The line of ``group`` (a rep id, territory key, product line; None for the deals
        no group takes) in ``period``."""
        return self._line(self._period(period), self._group(group))

    @property
    def lines(self) -> tuple[ForecastLine, ...]:
        """Every line, period by period, groups in order."""
        return tuple(
            self._line(p, g) for p in range(len(self.periods)) for g in range(len(self.groups))
        )

    def total(self, period: Period | str | None = None) -> ForecastFigures:
        """Everything counted in ``period`` (every period: None) — the sum of the roots'
        totals, which is also the sum of every group's own figures."""
        periods = range(len(self.periods)) if period is None else [self._period(period)]
        sums = [0] * WIDTH
        roots = [g for g, p in enumerate(self._parents) if p < 0]
        for p in periods:
            for g in roots:
                start = (p * len(self.groups) + g) * WIDTH
                for k in range(WIDTH):
                    sums[k] += self._totals[start + k]
        return ForecastFigures.from_sums(self.currency, sums)

    # -- explanations -----------------------------------------------------------------------

    def deals(
        self,
        period: Period | str,
        group: str | None,
        category: ForecastCategory | str | None = None,
        *,
        cumulative: bool = True,
        own_only: bool = False,
    ) -> tuple[Contribution, ...]:
        """The deals behind a number of the line of ``group`` in ``period``.

        With ``category`` None, every deal counted in the line's ``total`` (or ``own``
        with ``own_only``). With a category and ``cumulative`` (the default), the deals
        of that cumulative figure — ``"commit"`` lists closed and commit deals, the
        commit forecast; without ``cumulative``, that category's deals only. Their
        amounts add up to the figure exactly.
        """
        cols = self._itemised()
        p = self._period(period)
        g = self._group(group)
        wanted_groups = {g} if own_only else self._subtree(g)
        if category is None:
            codes = set(range(len(COUNTED)))
        else:
            chosen = _counted(category)
            parts = CUMULATIVE[chosen] if cumulative else (chosen,)
            codes = {CATEGORY_CODES[c] for c in parts}
        name = self.periods[p].name
        found = []
        rows = zip(cols.periods, cols.groups, cols.categories, strict=True)
        for row, (row_period, row_group, code) in enumerate(rows):
            if row_period == p and row_group in wanted_groups and code in codes:
                found.append(
                    Contribution(
                        deal_id=cols.deal_ids[row],
                        period=name,
                        group=self.groups[int(row_group)],
                        category=COUNTED[int(code)],
                        amount=money_of_minor(int(cols.amounts[row]), self.currency),
                        weighted=money_of_minor(int(cols.weighted[row]), self.currency),
                        amount_missing=bool(cols.missing[row]),
                    )
                )
        return tuple(found)

    def excluded(self, reason: ExclusionReason | str) -> tuple[str, ...]:
        """The ids of the deals left out for ``reason`` (lost, omitted, no_close_date,
        outside_periods)."""
        self._itemised()
        try:
            chosen = ExclusionReason(reason)
        except ValueError:
            raise ValidationError(
                "$.reason", reason, f"one of {allowed(ExclusionReason)}"
            ) from None
        for exclusion in self.exclusions:
            if exclusion.reason is chosen:
                return exclusion.deal_ids
        return ()


def _counted(category: object) -> ForecastCategory:
    try:
        chosen = ForecastCategory(category)  # type: ignore[arg-type]
    except ValueError:
        chosen = None
    if chosen not in CATEGORY_CODES:
        raise ValidationError("$.category", category, "closed, commit, best_case or pipeline")
    assert chosen is not None
    return chosen


def _depths(parents: Sequence[int]) -> list[int]:
    depths = [-1] * len(parents)
    for start in range(len(parents)):
        chain = []
        i = start
        while i >= 0 and depths[i] < 0:
            chain.append(i)
            i = parents[i]
        depth = depths[i] if i >= 0 else -1
        for j in reversed(chain):
            depth += 1
            depths[j] = depth
    return depths


def _cumulate(values: list[int], parents: Sequence[int], periods: int) -> list[int]:
    """Each group's total: its own sums plus those of every descendant."""
    totals = list(values)
    groups = len(parents)
    if all(p < 0 for p in parents):
        return totals
    depths = _depths(parents)
    for child in sorted(range(groups), key=lambda i: -depths[i]):
        parent = parents[child]
        if parent < 0:
            continue
        for period in range(periods):
            source = (period * groups + child) * WIDTH
            target = (period * groups + parent) * WIDTH
            totals[target : target + WIDTH] = map(
                operator.add, totals[target : target + WIDTH], totals[source : source + WIDTH]
            )
    return totals


def _currency(value: object) -> str:
    if not isinstance(value, str) or value not in MINOR_UNITS:
        raise ValidationError("$.currency", value, "an ISO 4217 currency code such as 'EUR'")
    return value


def forecast_columns(
    columns: ForecastColumns,
    *,
    periods: Iterable[Period],
    groups: Hierarchy | Sequence[str | None],
    currency: str,
    dimension: Dimension | None = None,
    exclusions: Iterable[Exclusion] = (),
    engine: Engine | str = Engine.AUTO,
) -> ForecastReport:
    """A forecast from pre-extracted columns (see :mod:`sfakit.forecast.columns`).

    ``columns.periods`` index ``periods`` in order of their start; ``columns.groups``
    index ``groups`` — with a :class:`Hierarchy`, its nodes in order, and one more index,
    ``len(hierarchy)``, for deals no node takes (the group None).
    """
    ordered = check_periods(periods)
    code = _currency(currency)
    keys, parents, labels, dimension = _grouping(groups, dimension)
    counted = tally(columns, periods=len(ordered), groups=len(keys), engine=engine)
    return _report(
        counted,
        ordered=ordered,
        code=code,
        groups=groups,
        keys=keys,
        parents=parents,
        labels=labels,
        dimension=dimension,
        exclusions=exclusions,
        columns=columns,
    )


def forecast_sums(
    counted: Tally,
    *,
    periods: Iterable[Period],
    groups: Hierarchy | Sequence[str | None],
    currency: str,
    dimension: Dimension | None = None,
    exclusions: Iterable[Exclusion] = (),
) -> ForecastReport:
    """A forecast from sums already made — per period, group and category, as
    :func:`~sfakit.forecast.columns.tally` makes them (a database's ``GROUP BY``, say).

    ``counted`` has a cell per period (in order of their start) and group (as for
    :func:`forecast_columns`: with a :class:`Hierarchy`, its nodes and one more for the
    deals no node takes). The report rolls up exactly as one built from the deals; it is
    not itemised (:meth:`ForecastReport.deals` needs the deals).

    >>> from sfakit.forecast.calendar import FiscalCalendar
    >>> sums = Tally(1, 1, [0, 500_00, 0, 0, 0, 2, 0, 0, 400_00, 0], Engine.PYTHON)
    >>> q1 = FiscalCalendar.monthly().periods(2026, "quarter")[:1]
    >>> report = forecast_sums(sums, periods=q1, groups=["rep_al"], currency="EUR")
    >>> str(report.line("FY2026-Q1", "rep_al").total.commit_forecast), report.itemised
    ('500.00 EUR', False)
    """
    ordered = check_periods(periods)
    code = _currency(currency)
    if not isinstance(counted, Tally):
        raise ValidationError("$.counted", counted, "a Tally")
    keys, parents, labels, dimension = _grouping(groups, dimension)
    if (counted.periods, counted.groups) != (len(ordered), len(keys)):
        raise ValidationError(
            "$.counted",
            (counted.periods, counted.groups),
            f"sums for {len(ordered)} periods x {len(keys)} groups",
        )
    if len(counted.values) != counted.periods * counted.groups * WIDTH:
        raise ValidationError(
            "$.counted.values", len(counted.values), f"{WIDTH} values per period and group"
        )
    return _report(
        counted,
        ordered=ordered,
        code=code,
        groups=groups,
        keys=keys,
        parents=parents,
        labels=labels,
        dimension=dimension,
        exclusions=exclusions,
        columns=None,
    )


def _grouping(
    groups: Hierarchy | Sequence[str | None], dimension: Dimension | None
) -> tuple[tuple[str | None, ...], tuple[int, ...], tuple[str | None, ...], Dimension | None]:
    """The group keys, parent indexes and labels (a hierarchy gets a last group None)."""
    if isinstance(groups, Hierarchy):
        keys: tuple[str | None, ...] = (*groups.keys, None)
        parents: tuple[int, ...] = (*groups.parent_indexes, -1)
        labels: tuple[str | None, ...] = (*(n.label for n in groups.nodes), None)
        dimension = groups.dimension
    else:
        keys = tuple(groups)
        for i, key in enumerate(keys):
            if key is not None and not isinstance(key, str):
                raise ValidationError(f"$.groups[{i}]", key, "a group key (a string) or None")
        if len(set(keys)) != len(keys):
            raise ValidationError("$.groups", list(keys), "each group once")
        parents = (-1,) * len(keys)
        labels = (None,) * len(keys)
    return keys, parents, labels, dimension


def _report(
    counted: Tally,
    *,
    ordered: tuple[Period, ...],
    code: str,
    groups: Hierarchy | Sequence[str | None],
    keys: tuple[str | None, ...],
    parents: tuple[int, ...],
    labels: tuple[str | None, ...],
    dimension: Dimension | None,
    exclusions: Iterable[Exclusion],
    columns: ForecastColumns | None,
) -> ForecastReport:
    totals = _cumulate(counted.values, parents, len(ordered))
    if isinstance(groups, Hierarchy) and not _used(counted, len(keys) - 1):
        # Drop the "no node" group: nothing landed there.
        counted, totals = _without_last_group(counted, totals)
        keys, parents, labels = keys[:-1], parents[:-1], labels[:-1]
    return ForecastReport(
        code,
        ordered,
        dimension,
        keys,
        tuple(exclusions),
        groups if isinstance(groups, Hierarchy) else None,
        parents,
        labels,
        counted,
        totals,
        columns,
    )


def _used(counted: Tally, group: int) -> bool:
    for period in range(counted.periods):
        start = (period * counted.groups + group) * WIDTH
        if any(counted.values[start + 4 : start + 8]):
            return True
    return False


def _without_last_group(counted: Tally, totals: list[int]) -> tuple[Tally, list[int]]:
    groups = counted.groups

    def drop(values: list[int]) -> list[int]:
        kept: list[int] = []
        for period in range(counted.periods):
            start = period * groups * WIDTH
            kept.extend(values[start : start + (groups - 1) * WIDTH])
        return kept

    return Tally(counted.periods, groups - 1, drop(counted.values), counted.engine), drop(totals)


def _by(value: object) -> Dimension | Hierarchy:
    if isinstance(value, Hierarchy | Dimension):
        return value
    try:
        return Dimension(value)  # type: ignore[arg-type]
    except ValueError:
        raise ValidationError(
            "$.by", value, f"a Hierarchy or a dimension: one of {allowed(Dimension)}"
        ) from None


def forecast(
    opportunities: Iterable[Opportunity],
    *,
    pipelines: Pipeline | PipelineSet,
    periods: Iterable[Period],
    currency: str,
    by: Dimension | Hierarchy | str = Dimension.OWNER,
    rates: RateTable | None = None,
    rate_basis: RateBasis | str = RateBasis.CLOSE_DATE,
    engine: Engine | str = Engine.AUTO,
) -> ForecastReport:
    """Roll ``opportunities`` up by category, period and group (see the module docstring).

    Amounts in another currency than ``currency`` need ``rates``; they convert at the
    close date's rate (``rate_basis="period_start"``: at the period's first day).
    """
    ordered = check_periods(periods)
    code = _currency(currency)
    grouping = _by(by)
    if rates is not None and not isinstance(rates, RateTable):
        raise ValidationError("$.rates", rates, "a RateTable or None")
    try:
        basis = RateBasis(rate_basis)
    except ValueError:
        raise ValidationError("$.rate_basis", rate_basis, f"one of {allowed(RateBasis)}") from None
    found = extract(
        opportunities,
        pipelines=pipelines,
        periods=ordered,
        by=grouping,
        currency=code,
        rates=rates,
        basis=basis,
    )
    groups: Hierarchy | Sequence[str | None] = (
        grouping if isinstance(grouping, Hierarchy) else found.groups
    )
    return forecast_columns(
        found.columns,
        periods=ordered,
        groups=groups,
        currency=code,
        dimension=grouping if isinstance(grouping, Dimension) else None,
        exclusions=found.exclusions,
        engine=engine,
    )
