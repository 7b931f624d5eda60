"""Forecasting through the service: one call per question a sales director asks.

* :meth:`~Forecasting.forecast` — commit, best case, pipeline and weighted figures of one
  or more fiscal periods (``"FY2027-Q1"``), by territory (rolled up the stored territory
  tree), owner, manager (rolled up ``SalesRep.manager_id``) or product line;
* :meth:`~Forecasting.attainment` — the same against the stored :class:`~sfakit.model.Quota` s;
* :meth:`~Forecasting.forecast_range` — P10/P50/P90 and a histogram of what the period's
  open deals may bring (Monte Carlo; timing from the Kaplan-Meier time to close of the
  stored history), reproducible by seed;
* :meth:`~Forecasting.submit_forecast` and :meth:`~Forecasting.forecast_accuracy` —
  snapshots kept as submitted, judged later against what was won.

The fiscal calendar and the exchange rates are settings (``fiscal-calendar``,
``exchange-rates``). With no calendar stored, fiscal years are calendar years
(:meth:`FiscalCalendar.monthly() <sfakit.forecast.FiscalCalendar.monthly>`, January
start, FY2026 = 2026). Each call reads everything it needs in one transaction.

**Push-down.** Where the backend offers :attr:`~sfakit.storage.Capability.AGGREGATE`
and no rules-DSL ``where`` criteria are given, no deal is loaded. The **closed** deals
of each period: one ``GROUP BY pipeline, stage, <grouping field>`` per period (plus the
amount's currency; filtered on the close date alone, so that the database walks that
index) gives their count and amount per category, lost deals included as a count. The
**open** deals, in one narrow aggregate over the periods that have any, grouped by deal
id: a weighted figure is rounded once per deal (amount x probability), so no sum can
give it, but the index columns hold every input of that rounding — stage, category
override, close date, grouping field, amount, and the probability override in basis
points (the derived index ``probability_basis_points``) — so their documents are not
read. An override finer than a basis point (12.345 %: the index marks it
``FINER_THAN_BASIS_POINTS``) is the exception: such a deal is read and weighed by the
pure core. Deals in a currency other than the forecast's are converted one by one (each
at its close date's rate, the closed ones from a like per-deal aggregate). Both parts
meet in :func:`~sfakit.forecast.forecast_sums`, so every figure is identical to the
in-memory path (the test suite checks this on every backend); such a report is not
*itemised*: it counts its deals without listing them. ``itemised=True`` (or ``where``
criteria, or a backend without aggregates) reads every deal of the periods and gives a
report whose :meth:`~sfakit.forecast.ForecastReport.deals` names the deals behind each
figure.

**Submissions** are appended to the stream ``forecast-submissions``: a submission is a
fact that never changes, several managers may submit at once without conflicting (unlike
one setting rewritten per submission), and the stream keeps them in commit order, so the
latest submission of a period is the last one read.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final, TypeVar

import attrs

from sfakit.codec import from_data, from_json, to_data
from sfakit.errors import ValidationError
from sfakit.forecast import (
    CATEGORY_CODES,
    AccuracyPoint,
    AccuracyReport,
    Adjustment,
    AttainmentReport,
    Dimension,
    Exclusion,
    ExclusionReason,
    FiscalCalendar,
    ForecastFigures,
    ForecastReport,
    ForecastSnapshot,
    Hierarchy,
    Period,
    RateTable,
    Tally,
    accuracy,
    attainment,
    forecast,
    forecast_sums,
    manager_hierarchy,
    snapshot,
    territory_hierarchy,
)
from sfakit.forecast import Engine as TallyEngine
from sfakit.forecast._checks import round_half_up
from sfakit.forecast.columns import WIDTH
from sfakit.forecast.recurring import RecurringProjection, project_recurring
from sfakit.forecast.stats import (
    DealChance,
    Engine,
    Simulation,
    SurvivalTable,
    simulate,
    time_to_close,
)
from sfakit.model import (
    ForecastCategory,
    Money,
    Opportunity,
    Quota,
    SalesRep,
    Setting,
    StageChange,
    StandingOrder,
    StandingOrderStatus,
    setting_id,
)
from sfakit.model.currencies import MINOR_UNITS
from sfakit.pipeline import Deals, Pipeline, Stage
from sfakit.rules import Criteria, compile_criteria
from sfakit.service.routing import TERRITORY_TREE
from sfakit.service.selling import Selling
from sfakit.storage.api import Capability, In, Range, Transaction
from sfakit.storage.catalog import FINER_THAN_BASIS_POINTS
from sfakit.storage.common import every_page
from sfakit.territory import TerritoryTree

_PROJECTED_STATUSES = (StandingOrderStatus.ACTIVE, StandingOrderStatus.PAUSED)

__all__ = [
    "EXCHANGE_RATES",
    "FISCAL_CALENDAR",
    "FORECAST_SUBMISSIONS",
    "GROUPINGS",
    "Forecasting",
]

T = TypeVar("T")

#: The setting that holds the fiscal calendar.
FISCAL_CALENDAR: Final = "fiscal-calendar"
#: The setting that holds the dated exchange rates.
EXCHANGE_RATES: Final = "exchange-rates"
#: The stream submitted forecasts are appended to.
FORECAST_SUBMISSIONS: Final = "forecast-submissions"
#: What a forecast can be grouped by.
GROUPINGS: Final = ("territory", "owner", "manager", "product_line")
_OMITTED: Final = ForecastCategory.OMITTED
_IDS_PER_QUERY: Final = 500
#: The index columns that classify an open deal and weigh it (the grouping field follows).
_OPEN_COLUMNS: Final = (
    "id",
    "pipeline",
    "stage",
    "forecast_category_override",
    "probability_basis_points",
    "close_date",
)


@attrs.frozen
class _Plan:
    """What one forecast question resolves to: periods, grouping, currency, rates."""

    periods: tuple[Period, ...]
    grouping: Dimension | Hierarchy
    currency: str
    rates: RateTable | None

    @property
    def field(self) -> str:
        grouping = self.grouping
        return (grouping.dimension if isinstance(grouping, Hierarchy) else grouping).field


class Forecasting(Selling):
    """Mixed into :class:`~sfakit.Sfa`; needs ``storage``, ``pipelines`` and ``now``
    (from :class:`~sfakit.service.selling.Selling`) and ``save_setting`` (from
    :class:`~sfakit.service.routing.Routing`)."""

    save_setting: Callable[..., int]

    # -- settings -------------------------------------------------------------------

    def set_fiscal_calendar(self, calendar: FiscalCalendar, *, expected_version: int | None) -> int:
        """Store the fiscal calendar; returns its new version (``expected_version`` None
        creates it, else it must be the version read: see ``save_setting``)."""
        if not isinstance(calendar, FiscalCalendar):
            raise ValidationError("$.calendar", calendar, "a FiscalCalendar")
        return self.save_setting(FISCAL_CALENDAR, calendar, expected_version=expected_version)

    def fiscal_calendar(self) -> FiscalCalendar:
        """The stored fiscal calendar; calendar-year months when none is stored."""
        with self.storage.transaction(readonly=True) as tx:
            return _calendar(tx)

    def set_exchange_rates(self, rates: RateTable, *, expected_version: int | None) -> int:
        """Store the dated exchange rates (their corporate currency is the default
        forecast currency); returns the new version."""
        if not isinstance(rates, RateTable):
            raise ValidationError("$.rates", rates, "a RateTable")
        return self.save_setting(EXCHANGE_RATES, rates, expected_version=expected_version)

    def exchange_rates(self) -> RateTable | None:
        """The stored exchange rates, or None."""
        with self.storage.transaction(readonly=True) as tx:
            return _stored(tx, RateTable, EXCHANGE_RATES)

    # -- one call per question ------------------------------------------------------

    def forecast(
        self,
        period: str | Sequence[str],
        *,
        by: str = "territory",
        currency: str | None = None,
        where: Criteria | None = None,
        itemised: bool = False,
    ) -> ForecastReport:
        """The :class:`~sfakit.forecast.ForecastReport` of ``period`` (a name such as
        ``"FY2027-Q1"``, or several) by ``territory`` (the stored tree, rolled up; flat
        by ``territory_id`` when no tree is stored), ``owner``, ``manager`` or
        ``product_line``, in ``currency`` (default: the rates' corporate currency), over
        the deals of the service's pipelines closing in the period that match ``where``.

        Lost and omitted deals are never counted; ``report.exclusions`` counts them.
        ``itemised=True`` reads every deal so that ``report.deals(...)`` can list them.
        """
        with self.storage.transaction(readonly=True) as tx:
            plan = self._plan(tx, period, by, currency)
            return self._report(tx, plan, where=where, itemised=itemised)

    def attainment(
        self, period: str | Sequence[str], *, by: str = "territory", currency: str | None = None
    ) -> AttainmentReport:
        """Attainment, commit and pipeline coverage of every group of :meth:`forecast`
        against the stored quotas of the period (by rep for ``owner`` and ``manager``,
        by territory for ``territory``; a group without a quota of its own takes its
        children's)."""
        with self.storage.transaction(readonly=True) as tx:
            plan = self._plan(tx, period, by, currency)
            if by == "product_line":
                raise ValidationError("$.by", by, "territory, owner or manager (quotas are)")
            report = self._report(tx, plan, where=None, itemised=False)
            names = tuple(p.name for p in plan.periods)
            quotas = every_page(tx, Quota, where={"period": In(names)})
        return attainment(report, quotas, rates=plan.rates)

    def recurring_revenue(
        self, period: str | Sequence[str], *, currency: str | None = None
    ) -> RecurringProjection:
        """What the stored standing orders will bring in each period, from their
        schedules, not counting occurrences already ordered — reported apart from the
        pipeline forecast (see :mod:`sfakit.forecast.recurring`)."""
        with self.storage.transaction(readonly=True) as tx:
            plan = self._plan(tx, period, "owner", currency)
            standing = every_page(tx, StandingOrder, where={"status": In(_PROJECTED_STATUSES)})
        return project_recurring(standing, plan.periods, currency=plan.currency, rates=plan.rates)

    def forecast_range(
        self,
        period: str,
        *,
        seed: int,
        runs: int = 10_000,
        by: str = "territory",
        group: str | None = None,
        where: Criteria | None = None,
        currency: str | None = None,
        engine: Engine | str = Engine.AUTO,
    ) -> Simulation:
        """What the open deals closing in ``period`` may bring: a seeded Monte Carlo
        :class:`~sfakit.forecast.stats.Simulation` (P10/P50/P90, histogram).

        Each deal is won with its probability (its override while open, else its
        stage's) and closes inside the period with the Kaplan-Meier chance learned from
        its pipeline's stored history, given its age now — or surely, when the history
        has no estimate for a deal that old. ``group`` narrows it to one group of
        :meth:`forecast` ``by`` (a territory with everything below it, a manager's team).
        """
        if not isinstance(period, str):
            raise ValidationError("$.period", period, "one period name such as FY2027-Q1")
        with self.storage.transaction(readonly=True) as tx:
            plan = self._plan(tx, period, by, currency)
            deals = self._open_deals(tx, plan, where, group)
            tables = {
                key: self._survival(tx, self.pipelines.get(key))
                for key in sorted({d.pipeline for d in deals})
            }
        now = self.now()
        chances = [
            _chance(deal, self.pipelines.get(deal.pipeline), tables[deal.pipeline], plan, now)
            for deal in deals
        ]
        return simulate(chances, seed=seed, runs=runs, engine=engine, currency=plan.currency)

    def submit_forecast(
        self,
        period: str,
        *,
        by: str = "territory",
        submitted_by: str | None,
        view: str | None = None,
        adjustments: Iterable[Adjustment] = (),
        currency: str | None = None,
    ) -> ForecastSnapshot:
        """Freeze :meth:`forecast` of ``period`` as seen from ``view`` (a group; None:
        everything) with ``adjustments`` applied, and store it as submitted now by
        ``submitted_by``. Returns the :class:`~sfakit.forecast.ForecastSnapshot`."""
        if not isinstance(period, str):
            raise ValidationError("$.period", period, "one period name such as FY2027-Q1")
        with self.storage.transaction() as tx:
            plan = self._plan(tx, period, by, currency)
            report = self._report(tx, plan, where=None, itemised=False)
            now = self.now()
            submitted = snapshot(
                report,
                period,
                taken_at=now,
                submitted_by=submitted_by,
                view=view,
                adjustments=adjustments,
            )
            tx.append(FORECAST_SUBMISSIONS, {"by": by, "snapshot": to_data(submitted)}, at=now)
        return submitted

    def forecast_snapshots(
        self,
        *,
        period: str | None = None,
        by: str | None = None,
        submitted_by: str | None = None,
    ) -> list[ForecastSnapshot]:
        """The submitted snapshots (of ``period``, grouped ``by``, by ``submitted_by``
        when given), oldest first."""
        if by is not None:
            _check_by(by)
        with self.storage.transaction(readonly=True) as tx:
            return [
                snap
                for grouping, snap in _submissions(tx)
                if (by is None or grouping == by)
                and (period is None or snap.period.name == period)
                and (submitted_by is None or snap.submitted_by == submitted_by)
            ]

    def forecast_accuracy(
        self,
        period: str | Sequence[str] | None = None,
        *,
        by: str = "territory",
        category: ForecastCategory | str = ForecastCategory.COMMIT,
        submitted_by: str | None = None,
    ) -> AccuracyReport:
        """How good the submitted forecasts were: the latest snapshot of each period
        (grouped ``by``, from ``submitted_by`` when given) against what was won in it,
        by close date (:func:`~sfakit.forecast.accuracy`: MAPE, WMAPE, bias). Without
        ``period``, every period that has ended."""
        _check_by(by)
        wanted = _names(period) if period is not None else None
        today = self.now().astimezone(UTC).date()
        with self.storage.transaction(readonly=True) as tx:
            latest: dict[str, ForecastSnapshot] = {}
            for grouping, snap in _submissions(tx):
                if grouping != by:
                    continue
                if submitted_by is not None and snap.submitted_by != submitted_by:
                    continue
                name = snap.period.name
                if wanted is None and snap.period.end > today:
                    continue
                if wanted is not None and name not in wanted:
                    continue
                latest[name] = snap
            if not latest:
                raise ValidationError(
                    "$.period",
                    period,
                    f"a period with a forecast submitted by {by} (see submit_forecast)"
                    + ("" if period is not None else " that has ended"),
                )
            snaps = list(latest.values())
            points: list[AccuracyPoint] = []
            for snap in snaps:
                plan = self._plan(tx, (), by, snap.currency, periods=(snap.period,))
                actuals = self._report(tx, plan, where=None, itemised=False, open_deals=False)
                points.extend(accuracy([snap], actuals, category=category).points)
        return AccuracyReport(
            category=ForecastCategory(category), currency=snaps[0].currency, points=tuple(points)
        )

    # -- planning -------------------------------------------------------------------

    def _plan(
        self,
        tx: Transaction,
        period: str | Sequence[str],
        by: str,
        currency: str | None,
        *,
        periods: tuple[Period, ...] | None = None,
    ) -> _Plan:
        _check_by(by)
        if periods is None:
            calendar = _calendar(tx)
            periods = tuple(calendar.period(name) for name in _names(period))
        # In order of their start, as the report puts them (its cells are indexed so).
        periods = tuple(sorted(periods, key=lambda p: p.start))
        rates = _stored(tx, RateTable, EXCHANGE_RATES)
        if currency is None:
            if rates is None:
                raise ValidationError(
                    "$.currency",
                    None,
                    "a currency code such as 'EUR' (no exchange rates are stored to take "
                    "the corporate currency from)",
                )
            currency = rates.corporate
        if not isinstance(currency, str) or currency not in MINOR_UNITS:
            raise ValidationError("$.currency", currency, "an ISO 4217 currency code such as 'EUR'")
        grouping: Dimension | Hierarchy
        if by == "territory":
            tree = _stored(tx, TerritoryTree, TERRITORY_TREE)
            grouping = Dimension.TERRITORY if tree is None else territory_hierarchy(tree)
        elif by == "manager":
            grouping = manager_hierarchy(_org_chart(every_page(tx, SalesRep)))
        else:
            grouping = Dimension(by)
        return _Plan(periods, grouping, currency, rates)

    # -- computing ------------------------------------------------------------------

    def _report(
        self,
        tx: Transaction,
        plan: _Plan,
        *,
        where: Criteria | None,
        itemised: bool,
        open_deals: bool = True,
    ) -> ForecastReport:
        pushed = (
            where is None and not itemised and Capability.AGGREGATE in self.storage.capabilities
        )
        if pushed:
            return self._summed(tx, plan, open_deals=open_deals)
        stages = None if open_deals else self._stage_keys(closed=True)
        deals = self._deals_of(tx, plan, stages)
        if not open_deals:
            deals = [d for d in deals if self._is_closed(d)]
        deals = _matching(deals, where, self.now())
        return forecast(
            deals,
            pipelines=self.pipelines,
            periods=plan.periods,
            currency=plan.currency,
            by=plan.grouping,
            rates=plan.rates,
        )

    def _stage_keys(self, *, closed: bool) -> tuple[str, ...]:
        return tuple(
            sorted({s.key for p in self.pipelines for s in p.stages if s.is_closed == closed})
        )

    def _is_closed(self, deal: Opportunity) -> bool:
        pipeline = self.pipelines.get(deal.pipeline)
        return deal.stage in pipeline and pipeline.stage(deal.stage).is_closed

    def _deals_of(
        self, tx: Transaction, plan: _Plan, stages: tuple[str, ...] | None
    ) -> list[Opportunity]:
        """The deals of the service's pipelines closing in the plan's periods."""
        keys = In(tuple(p.key for p in self.pipelines))
        found: list[Opportunity] = []
        for period in plan.periods:
            where: dict[str, Any] = {
                "pipeline": keys,
                "close_date": Range(period.start, period.end),
            }
            if stages is not None:
                where["stage"] = In(stages)
            found.extend(every_page(tx, Opportunity, where=where))
        return found

    def _summed(self, tx: Transaction, plan: _Plan, *, open_deals: bool) -> ForecastReport:
        """The report from GROUP BY sums of the closed deals and per-deal rows of the open."""
        sums = _Sums(plan)
        pipelines = {p.key: p for p in self.pipelines}
        open_periods: list[Period] = []
        open_stages: set[str] = set()
        for index, period in enumerate(plan.periods):
            # Filtered on the close date alone, so that the database walks that index;
            # deals of other pipelines are grouped apart and skipped here.
            where: dict[str, Any] = {"close_date": Range(period.start, period.end)}
            foreign: set[str] = set()
            for row in tx.aggregate(
                Opportunity, group_by=["pipeline", "stage", plan.field], sum=["amount"], where=where
            ):
                pipeline_key, stage_key, value, currency = row.key
                if pipeline_key not in pipelines:
                    continue
                stage = _stage(pipelines[pipeline_key], stage_key)
                if not stage.is_closed:
                    open_stages.add(stage_key)  # read below, deal by deal
                    if not open_periods or open_periods[-1] is not period:
                        open_periods.append(period)
                elif stage.forecast_category is _OMITTED:
                    sums.lost += row.count
                elif currency is not None and currency != plan.currency:
                    foreign.add(stage_key)
                else:
                    total = row.sums.get("amount", 0)
                    minor = 0 if currency is None else _minor(Decimal(total), currency)
                    missing = row.count if currency is None else 0
                    sums.add(
                        index,
                        value,
                        stage.forecast_category,
                        count=row.count,
                        minor=minor,
                        weighted=0,
                        missing=missing,
                    )
            if foreign:
                # Converted one by one, as in memory: per deal, at its close date's rate.
                for row in tx.aggregate(
                    Opportunity,
                    group_by=["pipeline", "stage", plan.field, "close_date", "id"],
                    sum=["amount"],
                    where={**where, "stage": In(tuple(sorted(foreign)))},
                ):
                    pipeline_key, stage_key, value, day, _, currency = row.key
                    if pipeline_key not in pipelines or currency in (None, plan.currency):
                        continue
                    stage = _stage(pipelines[pipeline_key], stage_key)
                    if not stage.is_closed or stage.forecast_category is _OMITTED:
                        continue
                    amount = Money(Decimal(row.sums.get("amount", 0)), currency)
                    minor = _minor(_converted(amount, plan, day).amount, plan.currency)
                    sums.add(
                        index,
                        value,
                        stage.forecast_category,
                        count=1,
                        minor=minor,
                        weighted=0,
                        missing=0,
                    )
        if open_deals and open_periods:
            self._add_open(tx, sums, open_periods, open_stages)
        return sums.report(self)

    def _add_open(
        self, tx: Transaction, sums: _Sums, open_periods: list[Period], open_stages: set[str]
    ) -> None:
        """Add the open deals of ``open_periods`` to ``sums`` one by one, as the pure core
        classifies them, from a narrow per-deal aggregate of index columns.

        A weighted figure is rounded per deal, so no sum can give it: one row per deal
        (grouped by its id) carries what the rounding needs — the category override, the
        probability override in basis points, the amount and its currency, the close date
        for the period and the exchange rate — without reading the deal's document.
        """
        plan = sums.plan
        pipelines = {p.key: p for p in self.pipelines}
        span = Range(open_periods[0].start, open_periods[-1].end)
        where = {"stage": In(tuple(sorted(open_stages))), "close_date": span}
        # Caches: per (pipeline, stage) its category and probability (None: not an open
        # stage of the service's pipelines), per close date its period (-1: none asked).
        stages: dict[tuple[str, str], tuple[ForecastCategory, int, int] | None] = {}
        periods: dict[date, int] = {}
        digits = MINOR_UNITS[plan.currency]
        finer: list[str] = []
        for row in tx.aggregate(
            Opportunity, group_by=[*_OPEN_COLUMNS, plan.field], sum=["amount"], where=where
        ):
            deal_id, pipeline_key, stage_key, override, points, day, value, currency = row.key
            try:
                info = stages[pipeline_key, stage_key]
            except KeyError:
                info = stages[pipeline_key, stage_key] = _open_stage(
                    pipelines.get(pipeline_key), stage_key
                )
            if info is None:
                continue
            index = periods.get(day)
            if index is None:
                index = periods[day] = _period_index(plan.periods, day)
            if index < 0:
                continue  # between two of the periods asked for
            if points == FINER_THAN_BASIS_POINTS:
                finer.append(deal_id)  # read below, for its exact override
                continue
            category, numerator, denominator = info
            if override is not None:
                category = ForecastCategory(override)
            if category is _OMITTED:
                sums.omitted += 1
                continue
            if currency is None:
                minor = 0
            elif currency == plan.currency:
                minor = int(Decimal(row.sums["amount"]).scaleb(digits))
            else:
                amount = Money(Decimal(row.sums["amount"]), currency)
                minor = _minor(_converted(amount, plan, day).amount, plan.currency)
            weighted = 0
            if category is not ForecastCategory.CLOSED:
                if points is not None:
                    numerator, denominator = points, 10_000
                weighted = round_half_up(minor * numerator, denominator)
            sums.add(
                index,
                value,
                category,
                count=1,
                minor=minor,
                weighted=weighted,
                missing=1 if currency is None else 0,
            )
        # Overrides finer than a basis point: the pure core weighs these deals. In chunks,
        # as a database caps the parameters of one statement.
        for start in range(0, len(finer), _IDS_PER_QUERY):
            chunk = In(tuple(finer[start : start + _IDS_PER_QUERY]))
            sums.opened.extend(every_page(tx, Opportunity, where={"id": chunk}))

    def _open_deals(
        self, tx: Transaction, plan: _Plan, where: Criteria | None, group: str | None
    ) -> list[Opportunity]:
        """The counted open deals of the plan's period, in ``group`` if given."""
        deals = _matching(
            self._deals_of(tx, plan, self._stage_keys(closed=False)), where, self.now()
        )
        chosen = []
        for deal in deals:
            pipeline = self.pipelines.get(deal.pipeline)
            if deal.stage not in pipeline:
                raise pipeline.unknown_stage("$.opportunities.stage", deal.stage)
            if pipeline.stage(deal.stage).is_closed:
                continue
            if pipeline.forecast_category_of(deal) is _OMITTED:
                continue
            if group is None or _in_group(plan.grouping, getattr(deal, plan.field), group):
                chosen.append(deal)
        if group is not None:
            _check_group(plan.grouping, group)
        return chosen

    def _survival(self, tx: Transaction, pipeline: Pipeline) -> SurvivalTable:
        where = {"pipeline": pipeline.key}
        history = Deals.of(
            pipeline,
            every_page(tx, Opportunity, where=where),
            every_page(tx, StageChange, where=where, order_by="at"),
        )
        return time_to_close(history, as_of=self.now())


class _Sums:
    """Tally cells gathered from aggregate rows, and from the few open deals read whole
    (``opened``: their overrides are finer than the index holds)."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.hierarchy = plan.grouping if isinstance(plan.grouping, Hierarchy) else None
        self.cells: dict[tuple[int, Any], list[int]] = {}
        self.nodes: dict[str | None, int] = {}  # the hierarchy node each value matches
        self.lost = 0
        self.omitted = 0
        self.opened: list[Opportunity] = []

    def _group(self, value: str | None) -> Any:
        if self.hierarchy is None:
            return value
        try:
            return self.nodes[value]
        except KeyError:
            found = self.hierarchy.match_index(value)
            node = self.nodes[value] = found if found >= 0 else len(self.hierarchy)
            return node

    def _cell(self, period: int, group: Any) -> list[int]:
        return self.cells.setdefault((period, group), [0] * WIDTH)

    def add(
        self,
        period: int,
        value: str | None,
        category: ForecastCategory,
        *,
        count: int,
        minor: int,
        weighted: int,
        missing: int,
    ) -> None:
        cell = self._cell(period, self._group(value))
        code = CATEGORY_CODES[category]
        cell[code] += minor
        cell[4 + code] += count
        cell[8] += weighted
        cell[9] += missing

    def report(self, service: Forecasting) -> ForecastReport:
        plan = self.plan
        omitted = self.omitted
        if self.opened:
            # The open deals go through the pure core, which rounds per deal.
            opened = forecast(
                self.opened,
                pipelines=service.pipelines,
                periods=plan.periods,
                currency=plan.currency,
                by=plan.grouping,
                rates=plan.rates,
            )
            omitted += len(opened.excluded(ExclusionReason.OMITTED))
            for index, period in enumerate(opened.periods):
                for group in opened.groups:
                    own = opened.line(period, group).own
                    key: Any = group
                    if self.hierarchy is not None:
                        key = len(self.hierarchy) if group is None else self.hierarchy.index(group)
                    cell = self._cell(index, key)
                    for k, value in enumerate(_values(own)):
                        cell[k] += value
        groups: Hierarchy | list[str | None]
        if self.hierarchy is not None:
            groups = self.hierarchy
            order: list[Any] = list(range(len(self.hierarchy) + 1))
        else:
            groups = sorted({g for _, g in self.cells}, key=lambda v: (v is None, v or ""))
            order = list(groups)
        values: list[int] = []
        zero = [0] * WIDTH
        for index in range(len(plan.periods)):
            for key in order:
                values.extend(self.cells.get((index, key), zero))
        exclusions = [
            Exclusion(reason=reason, count=count)
            for reason, count in (
                (ExclusionReason.LOST, self.lost),
                (ExclusionReason.OMITTED, omitted),
            )
            if count
        ]
        return forecast_sums(
            Tally(len(plan.periods), len(order), values, TallyEngine.PYTHON),
            periods=plan.periods,
            groups=groups,
            currency=plan.currency,
            dimension=plan.grouping if isinstance(plan.grouping, Dimension) else None,
            exclusions=exclusions,
        )


# -- helpers ---------------------------------------------------------------------------


def _check_by(by: object) -> None:
    if by not in GROUPINGS:
        raise ValidationError("$.by", by, f"one of {', '.join(GROUPINGS)}")


def _names(period: object) -> tuple[str, ...]:
    if isinstance(period, str):
        return (period,)
    if not isinstance(period, Sequence) or not period:
        raise ValidationError(
            "$.period", period, "a period name such as FY2027-Q1, or a list of them"
        )
    for i, name in enumerate(period):
        if not isinstance(name, str):
            raise ValidationError(f"$.period[{i}]", name, "a period name such as FY2027-Q1")
    return tuple(period)


def _org_chart(reps: list[SalesRep]) -> list[SalesRep]:
    """Reps in org-chart order: each manager before their reports (by id), so a report
    by manager reads from the top down. Reps caught in a manager cycle come last, where
    :func:`~sfakit.forecast.manager_hierarchy` reports the cycle."""
    known = {rep.id for rep in reps}
    reports: dict[str | None, list[SalesRep]] = {}
    for rep in sorted(reps, key=lambda r: r.id):
        manager = rep.manager_id if rep.manager_id in known else None
        reports.setdefault(manager, []).append(rep)
    ordered: list[SalesRep] = []
    pending = list(reversed(reports.get(None, [])))
    while pending:
        rep = pending.pop()
        ordered.append(rep)
        pending.extend(reversed(reports.get(rep.id, [])))
    seen = {rep.id for rep in ordered}
    return ordered + [rep for rep in sorted(reps, key=lambda r: r.id) if rep.id not in seen]


def _stored(tx: Transaction, kind: type[T], name: str) -> T | None:
    found = tx.find(Setting, setting_id(name))
    if found is None:
        return None
    if found.kind != kind.__name__:
        raise ValidationError(f"$.{name}.kind", found.kind, repr(kind.__name__))
    return from_json(kind, found.data)


def _calendar(tx: Transaction) -> FiscalCalendar:
    return _stored(tx, FiscalCalendar, FISCAL_CALENDAR) or FiscalCalendar.monthly()


def _submissions(tx: Transaction) -> Iterable[tuple[str, ForecastSnapshot]]:
    after = 0
    while True:
        entries = tx.read(FORECAST_SUBMISSIONS, after=after, limit=1000)
        for entry in entries:
            yield str(entry.data["by"]), from_data(ForecastSnapshot, entry.data["snapshot"])
        if len(entries) < 1000:
            return
        after = entries[-1].position


def _stage(pipeline: Pipeline, key: str) -> Stage:
    if key not in pipeline:
        raise pipeline.unknown_stage("$.opportunities.stage", key)
    return pipeline.stage(key)


def _open_stage(pipeline: Pipeline | None, key: str) -> tuple[ForecastCategory, int, int] | None:
    """An open stage's category and probability as ``(category, numerator,
    denominator)`` of the weighting fraction (the probability over 100); None for a
    closed stage or another pipeline's."""
    if pipeline is None:
        return None
    stage = _stage(pipeline, key)
    if stage.is_closed:
        return None
    numerator, denominator = stage.probability.as_integer_ratio()
    return stage.forecast_category, numerator, 100 * denominator


def _period_index(periods: Sequence[Period], day: date) -> int:
    """The index of the period holding ``day`` (the periods in order of their start),
    or -1."""
    found = bisect_right([p.start for p in periods], day) - 1
    return found if found >= 0 and day < periods[found].end else -1


def _minor(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(MINOR_UNITS[currency]))


def _converted(amount: Money, plan: _Plan, day: Any) -> Money:
    if plan.rates is None:
        raise ValidationError(
            "$.amount.currency",
            amount.currency,
            f"{plan.currency}, the forecast currency, or store exchange rates "
            f"(set_exchange_rates) to convert {amount.currency}",
        )
    return plan.rates.convert(amount, plan.currency, on=day)


def _values(figures: ForecastFigures) -> list[int]:
    """A line's own figures back as the ten integers of a tally cell."""
    currency = figures.currency
    return [
        _minor(figures.closed.amount, currency),
        _minor(figures.commit.amount, currency),
        _minor(figures.best_case.amount, currency),
        _minor(figures.pipeline.amount, currency),
        figures.closed_deals,
        figures.commit_deals,
        figures.best_case_deals,
        figures.pipeline_deals,
        _minor(figures.weighted.amount, currency),
        figures.missing_amounts,
    ]


def _matching(deals: list[Opportunity], where: Criteria | None, now: datetime) -> list[Opportunity]:
    if where is None:
        return deals
    try:
        rule = compile_criteria(where, Opportunity)
    except ValidationError as exc:
        raise exc.under("$.where") from None
    return [d for d in deals if rule.matches(d, now=now)]


def _in_group(grouping: Dimension | Hierarchy, value: str | None, group: str) -> bool:
    if isinstance(grouping, Dimension):
        return value == group
    node = grouping.node_of(value)
    return node is not None and group in grouping.path(node)


def _check_group(grouping: Dimension | Hierarchy, group: object) -> None:
    if isinstance(grouping, Hierarchy) and group not in grouping:
        raise ValidationError(
            "$.group", group, f"a group of the hierarchy: {', '.join(grouping.keys)}"
        )


def _moment(day: Any) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _chance(
    deal: Opportunity, pipeline: Pipeline, table: SurvivalTable, plan: _Plan, now: datetime
) -> DealChance:
    """The deal's chance to be won (stage probability or override) and to close in the
    period (Kaplan-Meier, given its age now; surely when the history cannot say)."""
    period = plan.periods[0]
    amount = deal.amount
    if amount is None:
        amount = Money.zero(plan.currency)
    elif amount.currency != plan.currency:
        amount = _converted(amount, plan, deal.close_date)
    zero = timedelta(0)
    age = max(now - deal.created_at, zero)
    opens, ends = max(_moment(period.start) - now, zero), max(_moment(period.end) - now, zero)
    closes = Decimal(0)
    if ends > zero:
        by_end = table.close_probability(age, ends)
        by_start = table.close_probability(age, opens)
        if by_end.probability is None or (by_end.beyond_data and by_end.probability == 0):
            closes = Decimal(1)  # the history says nothing about deals this old
        else:
            closes = max(by_end.probability - (by_start.probability or Decimal(0)), Decimal(0))
    return DealChance(
        deal=deal.id,
        amount=amount,
        win_probability=pipeline.probability_of(deal) / 100,
        close_probability=closes,
    )
