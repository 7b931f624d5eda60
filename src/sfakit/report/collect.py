"""Gathering a sales report from the service: one public call per section.

Every figure comes from the service's own answer to one question — ``analyse`` with
:func:`~sfakit.pipeline.funnel` (cumulative), :func:`~sfakit.pipeline.losses`,
:func:`~sfakit.pipeline.win_rate` and :func:`~sfakit.pipeline.cycle_time`;
``lead_conversion("region")``; ``forecast_range`` and ``forecast`` of the period; and a
query of the standing orders by their indexed ``next_due_at`` — so a report can always
be checked against the call it copies, and it agrees with ``sfakit analytics`` and
``sfakit forecast``.

The pipeline sections and lead conversion cover everything stored; ``as_of`` picks the
forecast period (by default the fiscal quarter after the one holding ``as_of``, in UTC)
and the window of standing orders due. The simulation itself ages the open deals at the
service's clock, as ``forecast_range`` always does.

A section the service cannot answer (its error message: no exchange rates to choose the
forecast currency from, say) or that has nothing to count (no deal yet) is left out and
its reason kept in :attr:`SalesReport.no_data <sfakit.report.SalesReport.no_data>`.
Arguments that are wrong — a naive ``as_of``, a period name that is not one, an unknown
pipeline — raise, as the service does; so does a storage that fails (``StorageError``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Final, TypeVar
from zoneinfo import ZoneInfo

from sfakit.errors import PluginError, SfaError, StorageError, ValidationError
from sfakit.forecast import FiscalCalendar, Period, PeriodKind
from sfakit.forecast.stats.simulation import MAX_RUNS
from sfakit.model import Account, StandingOrder, StandingOrderStatus
from sfakit.model.currencies import MINOR_UNITS
from sfakit.pipeline import cycle_time, funnel, losses, win_rate
from sfakit.report.model import (
    DealsLost,
    DueStandingOrder,
    DueStandingOrders,
    ForecastRange,
    FunnelStage,
    LeadConversion,
    NoData,
    PipelineFunnel,
    RegionConversion,
    SalesCycle,
    SalesReport,
    Section,
    StageLoss,
)
from sfakit.service import Sfa
from sfakit.storage.api import In, Range, Transaction
from sfakit.storage.common import every_page

__all__ = ["DEFAULT_RUNS", "TOP_REASONS", "collect_report"]

T = TypeVar("T")

#: Monte Carlo runs of the forecast range unless told otherwise: a fifth of
#: ``forecast_range``'s default, so that the report stays quick; the seed keeps it
#: reproducible.
DEFAULT_RUNS: Final = 2000
#: How many lost reasons each stage of the losses keeps, most frequent first.
TOP_REASONS: Final = 3
#: Account names are read this many ids per query (databases cap a statement's values).
_IDS_PER_QUERY: Final = 500
_CTX: Final = Context(prec=28, rounding=ROUND_HALF_EVEN)


class _EmptySectionError(Exception):
    """A section with nothing to count: its reason goes to the report, not to the caller."""


def _share(part: int, whole: int) -> Decimal | None:
    return None if whole == 0 else _CTX.divide(Decimal(part), Decimal(whole))


def _whole(value: object, path: str, low: int, high: int | None = None) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        upper = f" and at most {high:,}" if high is not None else ""
        raise ValidationError(path, value, f"a whole number >= {low}{upper}")
    return value


def _moment(as_of: object, sfa: Sfa) -> datetime:
    if as_of is None:
        return sfa.now()
    if not isinstance(as_of, datetime) or as_of.utcoffset() is None:
        raise ValidationError(
            "$.as_of", as_of, "a timezone-aware datetime (a naive datetime is ambiguous)"
        )
    return as_of


def _next_quarter(calendar: FiscalCalendar, moment: datetime) -> Period:
    """The fiscal quarter after the one holding ``moment``'s day in UTC.

    >>> from datetime import datetime, timezone
    >>> from sfakit.forecast import FiscalCalendar
    >>> _next_quarter(FiscalCalendar.monthly(), datetime(2026, 3, 2, tzinfo=timezone.utc)).name
    'FY2026-Q2'
    """
    current = calendar.period_of(moment.astimezone(UTC).date(), PeriodKind.QUARTER)
    return calendar.period_of(current.end, PeriodKind.QUARTER)


def collect_report(
    sfa: Sfa,
    *,
    as_of: datetime | None = None,
    period: str | None = None,
    pipeline: str | None = None,
    seed: int = 0,
    runs: int = DEFAULT_RUNS,
    due_within: timedelta = timedelta(days=7),
    currency: str | None = None,
) -> SalesReport:
    """The :class:`~sfakit.report.SalesReport` of the book stored behind ``sfa``.

    ``pipeline`` defaults to the service's first; ``period`` (a fiscal period name such
    as ``FY2027-Q1``) to the quarter after the one holding ``as_of`` (default: the
    service's clock). The forecast range is ``runs`` runs from ``seed``, in ``currency``
    (default: the stored exchange rates' corporate currency, as ``forecast_range``); the
    standing orders listed are the active ones next due before ``as_of + due_within``.
    """
    moment = _moment(as_of, sfa)
    _whole(seed, "$.seed", 0)
    _whole(runs, "$.runs", 1, MAX_RUNS)
    if not isinstance(due_within, timedelta) or due_within <= timedelta(0):
        raise ValidationError("$.due_within", due_within, "a positive timedelta")
    if currency is not None and (not isinstance(currency, str) or currency not in MINOR_UNITS):
        raise ValidationError("$.currency", currency, "an ISO 4217 currency code such as 'EUR'")
    chosen = sfa.pipelines.pipelines[0] if pipeline is None else sfa.pipelines.get(pipeline)
    calendar = sfa.fiscal_calendar()
    forecast_period = _next_quarter(calendar, moment) if period is None else calendar.period(period)
    gaps: list[NoData] = []

    def section(name: Section, compute: Callable[[], T]) -> T | None:
        try:
            return compute()
        except (StorageError, PluginError):
            raise  # the storage failing says nothing about the book
        except (_EmptySectionError, SfaError) as exc:
            gaps.append(NoData(section=name, reason=str(exc)))
            return None

    key = chosen.key
    return SalesReport(
        as_of=moment,
        pipeline=key,
        period=forecast_period,
        funnel=section(Section.FUNNEL, lambda: _funnel(sfa, key)),
        losses=section(Section.LOSSES, lambda: _losses(sfa, key)),
        cycle=section(Section.CYCLE, lambda: _cycle(sfa, key)),
        leads=section(Section.LEADS, lambda: _leads(sfa)),
        forecast=section(
            Section.FORECAST,
            lambda: _forecast(sfa, forecast_period, seed=seed, runs=runs, currency=currency),
        ),
        standing_orders=section(
            Section.STANDING_ORDERS, lambda: _due(sfa, until=moment + due_within)
        ),
        no_data=gaps,
    )


# -- one section each ------------------------------------------------------------------


def _funnel(sfa: Sfa, pipeline: str) -> PipelineFunnel:
    result = sfa.analyse(funnel, pipeline, cumulative=True)
    if result.deals == 0:
        raise _EmptySectionError(f"no deals in pipeline {pipeline!r} yet")
    return PipelineFunnel(
        deals=result.deals,
        lost=result.lost,
        stages=tuple(
            FunnelStage(
                stage=step.stage, reached=step.reached, share=_share(step.reached, result.deals)
            )
            for step in result.steps
        ),
    )


def _losses(sfa: Sfa, pipeline: str) -> DealsLost:
    result = sfa.analyse(losses, pipeline)
    if result.lost == 0:
        raise _EmptySectionError(f"no deal of pipeline {pipeline!r} has been lost yet")
    return DealsLost(
        lost=result.lost,
        stages=tuple(
            StageLoss(
                stage=row.stage,
                lost=row.deals,
                share=_share(row.deals, result.lost),
                amounts=row.amounts,
                without_amount=row.without_amount,
                reasons=row.reasons[:TOP_REASONS],
            )
            for row in result.rows
        ),
    )


def _cycle(sfa: Sfa, pipeline: str) -> SalesCycle:
    rate = sfa.analyse(win_rate, pipeline)
    if rate.won + rate.lost == 0:
        raise _EmptySectionError(f"no deal of pipeline {pipeline!r} has been closed yet")
    days = sfa.analyse(cycle_time, pipeline)
    return SalesCycle(
        won=rate.won,
        lost=rate.lost,
        win_rate=rate.rate,
        timed_deals=days.count,
        average_days=days.mean,
        median_days=days.median,
    )


def _leads(sfa: Sfa) -> LeadConversion:
    table = sfa.lead_conversion("region")
    total = table.total
    if total.leads == 0:
        raise _EmptySectionError("no leads yet")
    return LeadConversion(
        leads=total.leads,
        converted=total.converted,
        rate=total.rate,
        regions=tuple(
            RegionConversion(
                region=row.key, leads=row.leads, converted=row.converted, rate=row.rate
            )
            for row in table.rows
        ),
    )


def _forecast(
    sfa: Sfa, period: Period, *, seed: int, runs: int, currency: str | None
) -> ForecastRange:
    simulation = sfa.forecast_range(period.name, seed=seed, runs=runs, currency=currency)
    if not simulation.deals:
        raise _EmptySectionError(f"no open deal is expected to close in {period.name}")
    closed = sfa.forecast(period.name, currency=simulation.currency).total(period.name)
    return ForecastRange(
        currency=simulation.currency,
        deals=len(simulation.deals),
        runs=simulation.runs,
        seed=simulation.seed,
        p10=simulation.p10,
        p50=simulation.p50,
        p90=simulation.p90,
        mean=simulation.mean,
        closed_won=closed.closed,
        closed_deals=closed.closed_deals,
    )


def _due(sfa: Sfa, *, until: datetime) -> DueStandingOrders:
    active = StandingOrderStatus.ACTIVE
    with sfa.storage.transaction(readonly=True) as tx:
        if tx.count(StandingOrder, where={"status": active}) == 0:
            raise _EmptySectionError("no active standing orders")
        due = every_page(
            tx,
            StandingOrder,
            where={"status": active, "next_due_at": Range(None, until)},
            order_by="next_due_at",
        )
        names = _account_names(tx, {order.account_id for order in due})
    orders = []
    for order in due:
        assert order.next_due_at is not None  # Range(None, until) leaves out unset ones
        zone = order.schedule.timezone
        local_date = order.next_due_at.astimezone(ZoneInfo(zone)).date()
        if order.ends_on is not None and local_date > order.ends_on:
            continue  # ended: its next occurrence is after its last day
        orders.append(
            DueStandingOrder(
                id=order.id,
                account_id=order.account_id,
                account_name=names.get(order.account_id),
                local_date=local_date,
                timezone=zone,
                due_at=order.next_due_at.astimezone(UTC),
            )
        )
    return DueStandingOrders(until=until.astimezone(UTC), orders=tuple(orders))


def _account_names(tx: Transaction, ids: Iterable[str]) -> dict[str, str]:
    wanted = sorted(ids)
    names: dict[str, str] = {}
    for start in range(0, len(wanted), _IDS_PER_QUERY):
        chunk = In(tuple(wanted[start : start + _IDS_PER_QUERY]))
        names.update((a.id, a.name) for a in every_page(tx, Account, where={"id": chunk}))
    return names
