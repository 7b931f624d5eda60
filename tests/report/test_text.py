"""``render_text``: the report's numbers, as a newcomer reads them in a terminal."""

from __future__ import annotations

from datetime import timedelta

import attrs

from sfakit import Sfa
from sfakit.report import (
    DueStandingOrder,
    Section,
    collect_report,
    render_text,
)

from .conftest import Opened
from .support import T0


def _section(text: str, title: str) -> str:
    """The lines of the section headed ``title`` (up to the next blank line)."""
    start = text.index(title + "\n")
    end = text.find("\n\n", start)
    return text[start : end if end >= 0 else None]


def test_every_section_shows_its_numbers(stocked: Opened) -> None:
    report = collect_report(stocked.sfa)
    text = render_text(report)
    assert text.startswith("Sales report as of 2026-03-02 09:00 UTC, pipeline standard\n")
    funnel = _section(text, "Funnel of pipeline standard")
    assert "9 deals entered the funnel, 4 of them lost" in funnel
    assert "qualify           8     88.9%" in funnel
    lost = _section(text, "Where deals are lost")
    assert "4 deals lost" in lost
    assert "qualify         2  50.0%  2,000.00 EUR  competitor (1), price (1)" in lost
    cycle = report.cycle
    assert cycle is not None
    shown = dict(line.rsplit(None, 1) for line in _section(text, "Sales cycle").splitlines()[4:9])
    assert shown == {
        "won deals": "3",
        "lost deals": "4",
        "win rate": "42.9%",
        "average cycle (days)": f"{cycle.average_days:.1f}",
        "median cycle (days)": f"{cycle.median_days:.1f}",
    }
    assert shown["median cycle (days)"] == "18.0"
    leads = _section(text, "Lead conversion by region")
    assert "south       2          2  100.0%" in leads
    assert "(none)      1          0    0.0%" in leads
    assert "total       6          3   50.0%" in leads
    forecast = _section(text, "Forecast FY2026-Q2 (2026-04-01 to 2026-06-30)")
    expected = report.forecast
    assert expected is not None
    for value in (expected.p10, expected.p50, expected.p90, expected.mean):
        assert f"{value.amount:,} EUR" in forecast
    assert "closed won so far (1)    2,500.50 EUR" in forecast
    assert "From 2 open deals, 2,000 simulated runs (seed 0)." in forecast
    due = _section(text, "Standing orders due next week")
    assert "2 due by 2026-03-09 09:00 UTC." in due
    assert "Acme Lighting" in due
    assert "2026-03-03 07:00 UTC" in due
    assert "no data" not in text


def test_no_floats_in_money(stocked: Opened) -> None:
    text = render_text(collect_report(stocked.sfa))
    assert "2500.5" not in text
    assert "2,500.50 EUR" in text


def test_a_long_list_of_standing_orders_is_cut(stocked: Opened) -> None:
    report = collect_report(stocked.sfa)
    due = report.standing_orders
    assert due is not None
    orders = tuple(
        attrs.evolve(due.orders[0], id=f"stdo_{n:02d}", account_name=f"Account {n:02d}")
        for n in range(13)
    )
    text = render_text(attrs.evolve(report, standing_orders=attrs.evolve(due, orders=orders)))
    listed = _section(text, "Standing orders due next week")
    assert "13 due by" in listed
    assert "Account 09" in listed
    assert "Account 10" not in listed
    assert listed.splitlines()[-1] == "… and 3 more"


def test_overdue_orders_say_so(stocked: Opened) -> None:
    text = render_text(collect_report(stocked.sfa, as_of=T0 + timedelta(days=3)))
    due = _section(text, "Standing orders due next week")
    assert "2026-03-03 07:00 UTC (overdue)" in due
    assert "2026-03-05 07:00 UTC (overdue)" in due


def test_another_window_is_named(stocked: Opened) -> None:
    text = render_text(collect_report(stocked.sfa, due_within=timedelta(days=2)))
    assert "Standing orders due within 2 days\n" in text
    assert "Standing orders due next week" not in text


def test_an_empty_book_says_no_data_for_each_section(empty: Sfa) -> None:
    report = collect_report(empty)
    text = render_text(report)
    assert text.count("\nno data: ") == len(Section)
    assert "Where deals are lost\n====================\nno data: no deal of pipeline" in text
    assert "Lead conversion by region\n=========================\nno data: no leads yet" in text
    assert "no data: no active standing orders" in text


def test_an_order_without_stored_account_shows_its_id(stocked: Opened) -> None:
    report = collect_report(stocked.sfa)
    due = report.standing_orders
    assert due is not None
    orphan: DueStandingOrder = attrs.evolve(due.orders[0], account_name=None)
    text = render_text(attrs.evolve(report, standing_orders=attrs.evolve(due, orders=(orphan,))))
    assert orphan.account_id in text
