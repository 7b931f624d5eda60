"""The sales report: a stored book of business at a glance, as text or one HTML page.

:func:`collect_report` asks the service the questions a sales manager asks first —
the funnel, where deals are lost, how long the sales cycle is and how many deals are
won, which regions' leads convert, what the next quarter may bring (P10/P50/P90), which
standing orders are due next week — and keeps the answers in a :class:`SalesReport`.
:func:`render_text` prints it; :func:`render_html` makes one self-contained page with
inline SVG charts. ``sfakit report`` on the command line does both.

A section the book cannot answer yet says so, with the reason:

>>> from datetime import datetime, timezone
>>> import sfakit
>>> with sfakit.open("memory://") as sfa:
...     report = collect_report(sfa, as_of=datetime(2026, 3, 2, 9, tzinfo=timezone.utc))
>>> report.period.name, report.funnel is None
('FY2026-Q2', True)
>>> report.reason(Section.FUNNEL)
"no deals in pipeline 'standard' yet"
>>> print(render_text(report).splitlines()[0])
Sales report as of 2026-03-02 09:00 UTC, pipeline standard
>>> render_html(report).count("<svg")
0
"""

from __future__ import annotations

from sfakit.report.collect import collect_report
from sfakit.report.html import render_html
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
from sfakit.report.svg import Bar, bar_chart, range_chart
from sfakit.report.text import render_text

__all__ = [
    "Bar",
    "DealsLost",
    "DueStandingOrder",
    "DueStandingOrders",
    "ForecastRange",
    "FunnelStage",
    "LeadConversion",
    "NoData",
    "PipelineFunnel",
    "RegionConversion",
    "SalesCycle",
    "SalesReport",
    "Section",
    "StageLoss",
    "bar_chart",
    "collect_report",
    "range_chart",
    "render_html",
    "render_text",
]
