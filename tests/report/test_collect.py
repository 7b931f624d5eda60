"""``collect_report``: every number is the service's own answer, and what it cannot
answer is named with the reason."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

import sfakit
from sfakit import Sfa
from sfakit.codec import from_data, to_data
from sfakit.errors import NotFoundError, ValidationError
from sfakit.forecast import FiscalCalendar
from sfakit.pipeline import cycle_time, funnel, losses, win_rate
from sfakit.report import (
    NoData,
    SalesReport,
    Section,
    collect_report,
)

from .conftest import Opened
from .support import MALICIOUS, T0


def test_the_funnel_is_the_cumulative_funnel_of_the_pipeline(stocked: Opened) -> None:
    sfa = stocked.sfa
    report = collect_report(sfa)
    expected = sfa.analyse(funnel, "standard", cumulative=True)
    assert report.funnel is not None
    assert (report.funnel.deals, report.funnel.lost) == (expected.deals, expected.lost) == (9, 4)
    assert [(s.stage, s.reached) for s in report.funnel.stages] == [
        (step.stage, step.reached) for step in expected.steps
    ]
    assert [s.reached for s in report.funnel.stages] == [9, 8, 6, 4, 3]
    assert [s.share for s in report.funnel.stages] == [
        Decimal(step.reached) / Decimal(expected.deals) for step in expected.steps
    ]


def test_losses_per_stage_with_share_and_top_reasons(stocked: Opened) -> None:
    sfa = stocked.sfa
    report = collect_report(sfa)
    expected = sfa.analyse(losses, "standard")
    assert report.losses is not None
    assert report.losses.lost == expected.lost == 4
    assert len(report.losses.stages) == len(expected.rows)
    for got, row in zip(report.losses.stages, expected.rows, strict=True):
        assert (got.stage, got.lost, got.amounts, got.without_amount) == (
            row.stage,
            row.deals,
            row.amounts,
            row.without_amount,
        )
        assert got.reasons == row.reasons[:3]
        assert got.share == Decimal(row.deals) / Decimal(expected.lost)
    qualify = report.losses.stages[1]
    assert (qualify.stage, qualify.lost, qualify.reasons) == (
        "qualify",
        2,
        (("competitor", 1), ("price", 1)),
    )


def test_sales_cycle_and_win_rate(stocked: Opened) -> None:
    sfa = stocked.sfa
    cycle = collect_report(sfa).cycle
    rate, days = sfa.analyse(win_rate, "standard"), sfa.analyse(cycle_time, "standard")
    assert cycle is not None
    assert (cycle.won, cycle.lost, cycle.win_rate) == (rate.won, rate.lost, rate.rate)
    assert (cycle.timed_deals, cycle.average_days, cycle.median_days) == (
        days.count,
        days.mean,
        days.median,
    )
    assert (cycle.won, cycle.lost) == (3, 4)


def test_lead_conversion_by_region(stocked: Opened) -> None:
    sfa = stocked.sfa
    leads = collect_report(sfa).leads
    table = sfa.lead_conversion("region")
    assert leads is not None
    assert (leads.leads, leads.converted, leads.rate) == (
        table.total.leads,
        table.total.converted,
        table.total.rate,
    )
    assert [(r.region, r.leads, r.converted, r.rate) for r in leads.regions] == [
        (row.key, row.leads, row.converted, row.rate) for row in table.rows
    ]
    assert [(r.region, r.leads, r.converted) for r in leads.regions] == [
        ("north", 3, 1),
        ("south", 2, 2),
        (None, 1, 0),
    ]


def test_forecast_of_the_next_quarter_by_default(stocked: Opened) -> None:
    sfa = stocked.sfa
    report = collect_report(sfa, seed=7, runs=500)
    assert report.period.name == "FY2026-Q2"  # T0 is in FY2026-Q1 (calendar years)
    simulation = sfa.forecast_range("FY2026-Q2", seed=7, runs=500)
    closed = sfa.forecast("FY2026-Q2").total()
    forecast = report.forecast
    assert forecast is not None
    assert (forecast.p10, forecast.p50, forecast.p90, forecast.mean) == (
        simulation.p10,
        simulation.p50,
        simulation.p90,
        simulation.mean,
    )
    assert (forecast.currency, forecast.deals, forecast.runs, forecast.seed) == (
        "EUR",
        len(simulation.deals),
        500,
        7,
    )
    assert forecast.deals == 2
    assert (forecast.closed_won, forecast.closed_deals) == (closed.closed, closed.closed_deals)
    assert str(forecast.closed_won.amount) == "2500.50"


def test_period_and_currency_can_be_chosen(stocked: Opened) -> None:
    report = collect_report(stocked.sfa, period="FY2026-Q3", currency="USD")
    assert report.period.name == "FY2026-Q3"
    assert report.forecast is None  # nothing closes in Q3
    assert report.reason(Section.FORECAST) == "no open deal is expected to close in FY2026-Q3"
    in_usd = collect_report(stocked.sfa, currency="USD").forecast
    assert in_usd is not None
    assert in_usd.currency == "USD"
    assert in_usd.closed_won.currency == "USD"


def test_standing_orders_due_within_the_week_soonest_first(stocked: Opened) -> None:
    due = collect_report(stocked.sfa).standing_orders
    assert due is not None
    assert due.until == T0 + timedelta(days=7)
    # The later, cancelled, ended (ends_on passed) and paused ones are left out.
    assert tuple(order.id for order in due.orders) == stocked.book.due
    assert due.count == 2
    first, second = due.orders
    assert (first.local_date, first.timezone, first.account_name) == (
        date(2026, 3, 3),
        "Europe/Berlin",
        "Acme Lighting",
    )
    assert first.due_at == datetime(2026, 3, 3, 7, tzinfo=UTC)
    assert second.account_name == f"Brightside {MALICIOUS} & Co"
    two_days = collect_report(stocked.sfa, due_within=timedelta(days=2)).standing_orders
    assert two_days == attrs.evolve(due, until=T0 + timedelta(days=2), orders=due.orders[:1])


def test_standing_orders_overdue_are_listed(stocked: Opened) -> None:
    # A week later no scheduler pass has run: both are overdue, then a third is due.
    later = collect_report(stocked.sfa, as_of=T0 + timedelta(days=10)).standing_orders
    assert later is not None
    assert len(later.orders) == 3
    assert all(order.due_at < later.until for order in later.orders)
    assert [order.due_at for order in later.orders] == sorted(o.due_at for o in later.orders)


def test_the_report_round_trips_through_the_codec(stocked: Opened) -> None:
    report = collect_report(stocked.sfa)
    data = to_data(report)
    assert data["period"]["name"] == "FY2026-Q2"
    assert data["forecast"]["p50"]["currency"] == "EUR"
    assert from_data(SalesReport, data) == report


def test_the_same_book_gives_the_same_report(stocked: Opened) -> None:
    assert collect_report(stocked.sfa) == collect_report(stocked.sfa)


def test_an_empty_book_gives_a_reason_for_every_section(empty: Sfa) -> None:
    report = collect_report(empty)
    assert [gap.section for gap in report.no_data] == list(Section)
    for section in Section:
        assert report.reason(section)
    assert report.reason(Section.FUNNEL) == "no deals in pipeline 'standard' yet"
    assert report.reason(Section.LEADS) == "no leads yet"
    assert report.reason(Section.STANDING_ORDERS) == "no active standing orders"
    # The service's own error, as it said it: no rates to take the currency from.
    assert "$.currency" in (report.reason(Section.FORECAST) or "")
    assert from_data(SalesReport, to_data(report)) == report


def test_wrong_arguments_raise(empty: Sfa) -> None:
    with pytest.raises(ValidationError) as naive:
        collect_report(empty, as_of=datetime(2026, 3, 2, 9))
    assert naive.value.path == "$.as_of"
    with pytest.raises(ValidationError) as period:
        collect_report(empty, period="2026-Q1")
    assert period.value.path == "$.period"
    with pytest.raises(NotFoundError):
        collect_report(empty, pipeline="enterprise")
    for field, value in (("seed", -1), ("runs", 0), ("currency", "euro")):
        with pytest.raises(ValidationError) as bad:
            collect_report(empty, **{field: value})  # type: ignore[arg-type]
        assert bad.value.path == f"$.{field}"
    with pytest.raises(ValidationError) as window:
        collect_report(empty, due_within=timedelta(0))
    assert window.value.path == "$.due_within"


def test_a_report_needs_a_reason_for_each_missing_section() -> None:
    period = FiscalCalendar.monthly().period("FY2026-Q2")
    with pytest.raises(ValidationError) as missing:
        SalesReport(as_of=T0, pipeline="standard", period=period)
    assert "a reason for the missing section funnel" in str(missing.value)
    reasons = [NoData(section=s, reason="none") for s in Section]
    with pytest.raises(ValidationError):
        SalesReport(as_of=T0, pipeline="standard", period=period, no_data=reasons * 2)


def test_a_closed_storage_raises_instead_of_reporting_no_data(tmp_path: Path) -> None:
    sfa = sfakit.open(f"sqlite:///{tmp_path / 'crm.db'}", load_entry_points=False)
    sfa.close()
    with pytest.raises(ValidationError) as closed:
        collect_report(sfa, as_of=T0)
    assert closed.value.path == "$.storage"
