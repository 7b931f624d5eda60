"""The sales report as one self-contained HTML5 page: readable offline, printable,
with three inline SVG charts and the tables they draw.

Nothing is fetched: no script, stylesheet, font or image from anywhere else, the style
is one inline ``<style>``, the charts are ``<svg>`` written by :mod:`sfakit.report.svg`.
Every text from the book (stage, reason, region and account names, ids) is escaped with
:func:`html.escape`. The page names the moment the report was made as of, and nothing
about the storage it came from; the same report always gives the same page.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Final

from sfakit.report._format import group, moment
from sfakit.report._tables import Table, body, heading
from sfakit.report.model import SalesReport, Section
from sfakit.report.svg import Bar, bar_chart, range_chart

__all__ = ["MAX_HTML_ROWS", "render_html"]

#: The most standing orders listed in the page; the rest are counted.
MAX_HTML_ROWS: Final = 100

_STYLE: Final = """
:root { color-scheme: light dark; --muted: #666; --rule: #ccc; }
@media (prefers-color-scheme: dark) { :root { --muted: #aaa; --rule: #444; } }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0 auto; max-width: 52rem; padding: 1.5rem; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; }
h2 { border-bottom: 1px solid var(--rule); padding-bottom: 0.2rem; margin-top: 2rem; }
.meta, .note { color: var(--muted); }
.no-data { font-style: italic; }
table { border-collapse: collapse; margin: 0.8rem 0; }
th, td { padding: 0.25rem 0.8rem 0.25rem 0; text-align: left; vertical-align: top; }
th { border-bottom: 1px solid var(--rule); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { border-top: 1px solid var(--rule); font-weight: 600; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 0.8rem 0; }
@media print { body { max-width: none; } section { break-inside: avoid; } }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _cells(values: Sequence[str], tag: str, numeric: frozenset[int]) -> str:
    return "".join(
        f'<{tag} class="num">{_e(v)}</{tag}>' if i in numeric else f"<{tag}>{_e(v)}</{tag}>"
        for i, v in enumerate(values)
    )


def _table(content: Table) -> str:
    numeric = content.numeric
    rows = [f"<tr>{_cells(row, 'td', numeric)}</tr>" for row in content.rows]
    if content.total is not None:
        rows.append(f'<tr class="total">{_cells(content.total, "td", numeric)}</tr>')
    return (
        f"<table><thead><tr>{_cells(content.headers, 'th', numeric)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _p(text: str, kind: str = "note") -> str:
    return f'<p class="{kind}">{_e(text)}</p>'


def _chart(report: SalesReport, section: Section, title: str) -> str:
    """The section's chart: bars for the funnel and the losses, the forecast's range."""
    if section is Section.FUNNEL and report.funnel is not None:
        return bar_chart(
            [Bar(label=s.stage, value=s.reached) for s in report.funnel.stages],
            title=f"Funnel of pipeline {report.pipeline}: deals that reached each stage",
            unit="deals",
        )
    if section is Section.LOSSES and report.losses is not None:
        return bar_chart(
            [Bar(label=group(s.stage), value=s.lost) for s in report.losses.stages],
            title="Lost deals by the last open stage they were in",
            unit="deals",
        )
    if section is Section.FORECAST and report.forecast is not None:
        forecast = report.forecast
        return range_chart(
            forecast.p10,
            forecast.p50,
            forecast.p90,
            mean=forecast.mean,
            closed=forecast.closed_won,
            title=title,
        )
    return ""


def _section(report: SalesReport, section: Section) -> str:
    title = heading(report, section)
    content = body(report, section, limit=MAX_HTML_ROWS)
    parts = [f'<section id="{section.value}">', f"<h2>{_e(title)}</h2>"]
    if content is None:
        parts.append(_p(f"no data: {report.reason(section)}", "no-data"))
    else:
        if content.before:
            parts.append(_p(content.before))
        parts.append(_chart(report, section, title))
        if content.table:
            parts.append(_table(content.table))
        if content.after:
            parts.append(_p(content.after))
    parts.append("</section>")
    return "\n".join(part for part in parts if part)


def render_html(report: SalesReport) -> str:
    """The report as one HTML5 page (see the module's description)."""
    when = moment(report.as_of)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Sales report as of {_e(when)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            "<main>",
            "<h1>Sales report</h1>",
            f'<p class="meta">As of <time datetime="{_e(report.as_of.isoformat())}">'
            f"{_e(when)}</time>, pipeline {_e(report.pipeline)}.</p>",
            *(_section(report, section) for section in Section),
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )
