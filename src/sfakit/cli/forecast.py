"""``sfakit forecast --period FY2027-Q1``: the forecast of one or more fiscal periods.

One table per period, one row per group, with the cumulative columns of Salesforce's
collaborative forecasts: closed (won), commit (closed + commit), best case (closed +
commit + best case), pipeline (every open deal counted), weighted (amount x
probability) and the deal count. Grouped by territory or manager, a row is the group's
total (its own deals and those of every group under it), indented under its parent.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from sfakit.cli.connect import opened
from sfakit.cli.output import amount, print_json, table
from sfakit.codec import to_data
from sfakit.forecast import ForecastFigures, ForecastReport

__all__ = ["forecast", "render", "to_json_data"]

_HEADERS = ("closed", "commit", "best case", "pipeline", "weighted", "deals")


def _figures(figures: ForecastFigures) -> list[str]:
    return [
        amount(figures.closed),
        amount(figures.commit_forecast),
        amount(figures.best_case_forecast),
        amount(figures.open_pipeline),
        amount(figures.weighted),
        str(figures.deals),
    ]


def _rows_in_tree_order(report: ForecastReport) -> list[tuple[str | None, int]]:
    """Each group with its depth, every parent followed by its subtree (the report keeps
    a tree's definition order, where a child may come after an uncle), None last."""
    ordered: list[tuple[str | None, int]] = []
    pending: list[tuple[str | None, int]] = [
        (g, 0) for g in reversed(report.groups) if g is not None and report.parent(g) is None
    ]
    while pending:
        group, depth = pending.pop()
        ordered.append((group, depth))
        pending.extend((child, depth + 1) for child in reversed(report.children(group)))
    if None in report.groups:
        ordered.append((None, 0))
    return ordered


def _name(group: str | None, label: str | None) -> str:
    if group is None:
        return "(none)"
    return group if label in (None, group) else f"{group} ({label})"


def render(report: ForecastReport, by: str) -> str:
    """The report as text: a table per period, then what was left out."""
    sections = []
    for period in report.periods:
        rows = []
        for group, depth in _rows_in_tree_order(report):
            line = report.line(period, group)
            rows.append(["  " * depth + _name(group, line.label), *_figures(line.total)])
        rows.append(["total", *_figures(report.total(period))])
        last = period.end - timedelta(days=1)  # periods are half-open: [start, end)
        heading = f"{period.name} ({period.start} to {last}), {report.currency}, by {by}"
        sections.append(heading + "\n" + table([by, *_HEADERS], rows, right=range(1, 7)))
    notes = []
    missing = report.total().missing_amounts
    if missing:
        notes.append(f"{missing} counted deal{'s' if missing != 1 else ''} had no amount (0)")
    left_out = ", ".join(f"{e.count} {e.reason.value}" for e in report.exclusions if e.count)
    if left_out:
        notes.append(f"left out: {left_out}")
    return "\n\n".join(sections) + "".join("\n" + note for note in notes)


def to_json_data(report: ForecastReport, by: str) -> dict[str, object]:
    """The report as plain data: every line (own and total figures) and each period's total."""
    return {
        "currency": report.currency,
        "by": by,
        "periods": [to_data(p) for p in report.periods],
        "lines": [to_data(line) for line in report.lines],
        "totals": {p.name: to_data(report.total(p)) for p in report.periods},
        "exclusions": [to_data(e) for e in report.exclusions],
    }


def forecast(args: argparse.Namespace) -> int:
    """Print the forecast of ``--period`` (repeatable) by ``--by`` in ``--currency``."""
    periods = args.period[0] if len(args.period) == 1 else list(args.period)
    with opened(args) as sfa:
        report = sfa.forecast(periods, by=args.by, currency=args.currency)
    if args.json:
        print_json(to_json_data(report, args.by))
    else:
        print(render(report, args.by))
    return 0
