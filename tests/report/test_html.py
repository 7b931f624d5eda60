"""``render_html``: one well-formed, self-contained page; every text escaped; three
charts; the same report, the same bytes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser

import pytest

import sfakit
from sfakit import ManualClock, Money, Sfa
from sfakit.forecast import RateTable
from sfakit.model import Account, ForecastCategory, Lead, OrderLine, Product, RecurrenceSpec
from sfakit.pipeline import Pipeline, PipelineSet, Stage
from sfakit.report import SalesReport, Section, collect_report, render_html

from .conftest import Opened
from .support import MALICIOUS, T0

#: Elements HTML5 never closes.
VOID = frozenset({"meta", "link", "br", "hr", "img", "input", "source", "wbr"})


class Structure(HTMLParser):
    """Checks that every element is closed in order, and collects the tags and attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(page: str) -> Structure:
    structure = Structure()
    structure.feed(page)
    structure.close()
    assert structure.problems == []
    assert structure.open == []
    return structure


@pytest.fixture
def report(stocked: Opened) -> SalesReport:
    return collect_report(stocked.sfa)


def test_the_page_is_well_formed_html5(report: SalesReport) -> None:
    page = render_html(report)
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    structure = parsed(page)
    tags = [tag for tag, _ in structure.elements]
    assert tags[:3] == ["html", "head", "meta"]
    assert tags.count("section") == len(Section)
    assert tags.count("style") == 1


def test_nothing_is_fetched_from_elsewhere(report: SalesReport) -> None:
    page = render_html(report)
    assert "http://" not in page
    assert "https://" not in page
    structure = parsed(page)
    assert not [tag for tag, _ in structure.elements if tag in {"script", "link", "img", "iframe"}]
    assert not [
        (tag, attrs)
        for tag, attrs in structure.elements
        if {"src", "href", "xlink:href"} & set(attrs)
    ]
    assert "@import" not in page
    assert "url(" not in page


def test_three_accessible_charts(report: SalesReport) -> None:
    page = render_html(report)
    assert page.count("<svg") == 3
    structure = parsed(page)
    charts = [attrs for tag, attrs in structure.elements if tag == "svg"]
    assert all(chart["role"] == "img" for chart in charts)
    labels = [chart["aria-label"] or "" for chart in charts]
    assert labels[0].startswith("Funnel of pipeline standard")
    assert "prospect 9; qualify 8; propose 6; negotiate 4; closed_won 3" in labels[0]
    assert "qualify 2" in labels[1]
    forecast = report.forecast
    assert forecast is not None
    assert f"P50 (median): {forecast.p50.amount:,} EUR" in labels[2]
    assert "closed won so far: 2,500.50 EUR" in labels[2]
    # Each chart starts with its <title>, the same summary for readers without aria.
    for svg in re.findall(r"<svg[^>]*>(.*?)</svg>", page, re.S):
        assert svg.startswith("<title>")


def test_the_funnel_bars_decrease_along_the_path(report: SalesReport) -> None:
    funnel_svg = render_html(report).split("<svg", 2)[1]
    widths = [float(w) for w in re.findall(r'class="bar"[^>]*width="([\d.]+)"', funnel_svg)]
    assert len(widths) == 5
    assert widths == sorted(widths, reverse=True)
    assert widths[0] == 360


def test_the_tables_hold_the_numbers(report: SalesReport) -> None:
    text = "".join(parsed(render_html(report)).text)
    assert "As of 2026-03-02 09:00 UTC" in text
    forecast = report.forecast
    assert forecast is not None
    for value in (forecast.p10, forecast.p50, forecast.p90, forecast.mean, forecast.closed_won):
        assert f"{value.amount:,} EUR" in text
    for number in ("88.9%", "42.9%", "100.0%", "2,000.00 EUR", "Europe/Berlin"):
        assert number in text


def test_the_page_does_not_depend_on_the_storage(stocked: Opened, url: str) -> None:
    page = render_html(collect_report(stocked.sfa))
    assert url not in page
    assert "sqlite" not in page
    assert "memory" not in page


def test_the_same_report_gives_the_same_page(report: SalesReport) -> None:
    assert render_html(report) == render_html(report)


def test_the_same_book_gives_the_same_page(stocked: Opened) -> None:
    first = render_html(collect_report(stocked.sfa))
    assert render_html(collect_report(stocked.sfa)) == first


def test_an_empty_book_gives_a_page_without_charts(empty: Sfa) -> None:
    page = render_html(collect_report(empty))
    parsed(page)
    assert "<svg" not in page
    assert page.count('<p class="no-data">no data: ') == len(Section)


# -- escaping --------------------------------------------------------------------------


@pytest.fixture
def hostile() -> Iterator[Sfa]:
    """A book whose stage, lost reason, region, account and pipeline names are markup."""
    stage = Stage(
        key=MALICIOUS, label="Evil", probability=50, forecast_category=ForecastCategory.BEST_CASE
    )
    won = Stage(
        key="won",
        label="Won",
        probability=100,
        forecast_category=ForecastCategory.CLOSED,
        is_closed=True,
        is_won=True,
    )
    lost = Stage(
        key="lost",
        label="Lost",
        probability=0,
        forecast_category=ForecastCategory.OMITTED,
        is_closed=True,
    )
    pipeline = Pipeline(
        key=f"p{MALICIOUS}", label="Evil", stages=(stage, won, lost), lost_reasons=(MALICIOUS,)
    )
    clock = ManualClock(T0 - timedelta(days=30))
    with sfakit.open(
        "memory://", clock=clock, load_entry_points=False, pipelines=PipelineSet((pipeline,))
    ) as sfa:
        sfa.set_exchange_rates(RateTable.of("EUR", {}), expected_version=None)
        account = sfa.create(Account, name=MALICIOUS)
        for n in range(2):
            deal = sfa.open_opportunity(
                name="deal",
                account_id=account.id,
                by="rep",
                amount=Money.of(100, "EUR"),
                close_date=(T0 + timedelta(days=40)).date(),
            )
            if n == 0:
                clock.advance(timedelta(days=2))
                sfa.close_lost(deal.id, reason=MALICIOUS, expected_version=deal.version, by="rep")
        sfa.create(Lead, last_name="Roe", region=MALICIOUS)
        bulb = sfa.create(Product, sku="B", name="Bulb", unit_price=Money.of(1, "EUR"))
        sfa.create_standing_order(
            account_id=account.id,
            currency="EUR",
            lines=[OrderLine(product_id=bulb.id, quantity=1, unit_price=bulb.unit_price)],
            schedule=RecurrenceSpec(
                rule="FREQ=WEEKLY", start=T0 + timedelta(days=1), timezone="Europe/Berlin"
            ),
        )
        clock.set(T0)
        yield sfa


def test_every_text_from_the_book_is_escaped(hostile: Sfa) -> None:
    report = collect_report(hostile)
    assert report.no_data == ()
    page = render_html(report)
    assert "<script" not in page
    assert "alert(1)</" not in page
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    # In tables, headings, chart labels, bar tooltips and aria-labels alike.
    assert page.count(escaped) >= 8
    assert f'aria-label="Funnel of pipeline p{escaped}' in page
    assert f"<title>{escaped}: 2 deals</title>" in page
    structure = parsed(page)
    assert MALICIOUS in " ".join(structure.text)  # and it reads as it was written
