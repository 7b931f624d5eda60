"""Each section as a table and a sentence: what text and HTML both show, laid out by each.

Keeping the cells here means the page and the terminal never disagree on a number.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sfakit.report._format import amounts, days, group, moment, money, percent, plural
from sfakit.report.model import (
    DealsLost,
    DueStandingOrders,
    ForecastRange,
    LeadConversion,
    PipelineFunnel,
    SalesCycle,
    SalesReport,
    Section,
)


class Table(NamedTuple):
    """Column ``headers``, ``rows`` of cells, which columns hold numbers (aligned right),
    and an optional ``total`` row."""

    headers: tuple[str, ...]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()
    total: list[str] | None = None


class Body(NamedTuple):
    """A section's content: a sentence ``before`` its table, the table, one ``after``."""

    before: str | None
    table: Table | None
    after: str | None = None


def _funnel(result: PipelineFunnel) -> Body:
    rows = [[s.stage, str(s.reached), percent(s.share)] for s in result.stages]
    note = (
        f"{plural(result.deals, 'deal')} entered the funnel, {result.lost} of them lost; "
        "a deal counts in every stage up to the furthest it reached."
    )
    return Body(note, Table(("stage", "reached", "of deals"), rows, frozenset({1, 2})))


def _losses(result: DealsLost) -> Body:
    rows = [
        [
            group(s.stage),
            str(s.lost),
            percent(s.share),
            amounts(s.amounts, s.without_amount),
            ", ".join(f"{group(reason)} ({n})" for reason, n in s.reasons) or "-",
        ]
        for s in result.stages
    ]
    headers = ("lost after", "deals", "share", "amount", "top reasons")
    return Body(f"{plural(result.lost, 'deal')} lost.", Table(headers, rows, frozenset({1, 2})))


def _cycle(result: SalesCycle) -> Body:
    rows = [
        ["won deals", str(result.won)],
        ["lost deals", str(result.lost)],
        ["win rate", percent(result.win_rate)],
        ["average cycle (days)", days(result.average_days)],
        ["median cycle (days)", days(result.median_days)],
    ]
    note = f"Cycle: days from creation to close of {plural(result.timed_deals, 'won deal')}."
    return Body(None, Table(("", "value"), rows, frozenset({1})), note)


def _leads(result: LeadConversion) -> Body:
    rows = [
        [group(r.region), str(r.leads), str(r.converted), percent(r.rate)] for r in result.regions
    ]
    total = ["total", str(result.leads), str(result.converted), percent(result.rate)]
    headers = ("region", "leads", "converted", "rate")
    return Body(None, Table(headers, rows, frozenset({1, 2, 3}), total))


def _forecast(result: ForecastRange) -> Body:
    rows = [
        ["P10 (90% of runs above)", money(result.p10)],
        ["P50 (median)", money(result.p50)],
        ["P90 (10% of runs above)", money(result.p90)],
        ["mean", money(result.mean)],
        [f"closed won so far ({result.closed_deals})", money(result.closed_won)],
    ]
    note = (
        f"From {plural(result.deals, 'open deal')}, "
        f"{result.runs:,} simulated runs (seed {result.seed})."
    )
    return Body(None, Table(("", "amount"), rows, frozenset({1})), note)


def _due(result: DueStandingOrders, as_of: datetime, limit: int) -> Body:
    head = f"{result.count} due by {moment(result.until)}."
    if not result.orders:
        return Body(head, None)
    rows = [
        [
            order.id,
            order.account_name or order.account_id,
            order.local_date.isoformat(),
            order.timezone,
            moment(order.due_at) + (" (overdue)" if order.due_at < as_of else ""),
        ]
        for order in result.orders[:limit]
    ]
    headers = ("standing order", "account", "local date", "time zone", "due")
    left = result.count - limit
    return Body(head, Table(headers, rows), f"… and {left} more" if left > 0 else None)


def body(report: SalesReport, section: Section, *, limit: int) -> Body | None:
    """What ``section`` of ``report`` shows (standing orders: at most ``limit`` rows);
    None when the section has no data."""
    if section is Section.FUNNEL:
        return None if report.funnel is None else _funnel(report.funnel)
    if section is Section.LOSSES:
        return None if report.losses is None else _losses(report.losses)
    if section is Section.CYCLE:
        return None if report.cycle is None else _cycle(report.cycle)
    if section is Section.LEADS:
        return None if report.leads is None else _leads(report.leads)
    if section is Section.FORECAST:
        return None if report.forecast is None else _forecast(report.forecast)
    due = report.standing_orders
    return None if due is None else _due(due, report.as_of, limit)


def heading(report: SalesReport, section: Section) -> str:
    """The title of ``section`` in ``report``."""
    period = report.period
    if section is Section.FORECAST:
        last = period.last_day.isoformat()
        return f"Forecast {period.name} ({period.start.isoformat()} to {last})"
    if section is Section.STANDING_ORDERS:
        due = report.standing_orders
        within = None if due is None else due.until - report.as_of
        if within is None or within == timedelta(days=7):
            return "Standing orders due next week"
        return f"Standing orders due within {_duration(within)}"
    return {
        Section.FUNNEL: f"Funnel of pipeline {report.pipeline}",
        Section.LOSSES: "Where deals are lost",
        Section.CYCLE: "Sales cycle",
        Section.LEADS: "Lead conversion by region",
    }[section]


def _duration(span: timedelta) -> str:
    if span % timedelta(days=1) == timedelta(0):
        return plural(span.days, "day")
    if span % timedelta(hours=1) == timedelta(0):
        return plural(span // timedelta(hours=1), "hour")
    return str(span)
