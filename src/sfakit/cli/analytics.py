"""``sfakit analytics funnel|lost|cycle``: pipeline analytics as tables.

Each runs :meth:`~sfakit.Sfa.analyse` (or, with ``--by FIELD``,
:meth:`~sfakit.Sfa.analyse_by`) with :func:`~sfakit.pipeline.funnel`,
:func:`~sfakit.pipeline.losses` or :func:`~sfakit.pipeline.cycle_time` over the
stored deals of ``--pipeline`` (the first one by default), optionally inside the window
``[--since, --until)``. What counts where is the library's: the funnel counts stage
entries in the window, losses and cycle time the deals closed in it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from sfakit.cli.connect import opened
from sfakit.cli.output import days, moneys, percent, print_json, table
from sfakit.codec import to_data
from sfakit.pipeline import (
    DayStats,
    Funnel,
    Losses,
    Outcome,
    Window,
    cycle_time,
    funnel,
    losses,
)

__all__ = ["METRICS", "analytics", "render_cycle", "render_funnel", "render_losses"]

#: The command's metric names and the analytics they run.
METRICS: Final[dict[str, Callable[..., Any]]] = {
    "funnel": funnel,
    "lost": losses,
    "cycle": cycle_time,
}


def _deals(count: int) -> str:
    return "1 deal" if count == 1 else f"{count} deals"


def _group(key: object) -> str:
    return "(none)" if key is None else str(key)


def render_funnel(result: Funnel) -> str:
    """Deals that reached each stage of the selling path, and their share."""
    rows = [
        [step.stage, str(step.reached), percent(_share(step.reached, result.deals))]
        for step in result.steps
    ]
    head = f"{_deals(result.deals)} entered the funnel, {result.lost} of them lost"
    if result.cumulative:
        head += " (cumulative: a deal counts in every stage up to the furthest it reached)"
    return head + "\n" + table(["stage", "reached", "of deals"], rows, right={1, 2})


def _share(part: int, whole: int) -> Decimal | None:
    return None if whole == 0 else Decimal(part) / Decimal(whole)


def render_losses(result: Losses) -> str:
    """Lost deals by the last open stage they were in, with amounts and reasons."""
    rows = []
    for row in result.rows:
        shown = moneys(row.amounts) if row.amounts or not row.without_amount else ""
        if row.without_amount:
            missing = f"{row.without_amount} without amount"
            shown = f"{shown} (+{missing})" if shown else missing
        reasons = ", ".join(f"{reason or '(no reason)'} {n}" for reason, n in row.reasons)
        rows.append([_group(row.stage), str(row.deals), shown, reasons or "-"])
    worst = result.worst
    head = f"{_deals(result.lost)} lost" + (
        f"; most after {_group(worst.stage)} ({worst.deals})" if worst else ""
    )
    return head + "\n" + table(["lost after", "deals", "amount", "reasons"], rows, right={1})


def _stats_row(name: str, stats: DayStats) -> list[str]:
    return [
        name,
        str(stats.count),
        days(stats.mean),
        days(stats.median),
        days(stats.p90),
        days(stats.minimum),
        days(stats.maximum),
    ]


def render_cycle(results: dict[Any, DayStats], group_by: str | None, outcome: Outcome) -> str:
    """Days from creation to close, one row per group (one row when not grouped)."""
    rows = [_stats_row(_group(key), stats) for key, stats in results.items()]
    headers = [group_by or "", "count", "mean", "median", "p90", "shortest", "longest"]
    if group_by is None:  # one row: no group column
        rows = [row[1:] for row in rows]
        headers = headers[1:]
    head = f"cycle time of {outcome.value} deals, in days"
    return head + "\n" + table(headers, rows, right=range(1 if group_by else 0, 7))


def _window(args: argparse.Namespace) -> Window | None:
    if args.since is None and args.until is None:
        return None
    return Window(args.since, args.until)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    if args.metric == "funnel":
        return {"cumulative": args.cumulative}
    if args.metric == "cycle":
        return {"outcome": Outcome(args.outcome)}
    return {}


def _render(args: argparse.Namespace, results: dict[Any, Any]) -> str:
    if args.metric == "cycle":
        return render_cycle(results, args.by, Outcome(args.outcome))
    show = render_funnel if args.metric == "funnel" else render_losses
    if args.by is None:
        return show(results[None])
    return "\n\n".join(f"{args.by} = {_group(key)}\n{show(r)}" for key, r in results.items())


def analytics(args: argparse.Namespace) -> int:
    """Run the metric and print it as a table (or JSON)."""
    metric = METRICS[args.metric]
    window = _window(args)
    options = _options(args)
    with opened(args) as sfa:
        pipeline = args.pipeline or sfa.pipelines.pipelines[0].key
        if args.by is None:
            results = {None: sfa.analyse(metric, pipeline, window=window, **options)}
        else:
            results = sfa.analyse_by(args.by, metric, pipeline, window=window, **options)
    if args.json:
        data: dict[str, Any] = {"metric": args.metric, "pipeline": pipeline, "by": args.by}
        if args.by is None:
            data["result"] = to_data(results[None])
        else:
            data["groups"] = [
                {"group": to_data(k), "result": to_data(r)} for k, r in results.items()
            ]
        print_json(data)
        return 0
    print(f"pipeline {pipeline}" + _window_text(window))
    print(_render(args, results))
    return 0


def _window_text(window: Window | None) -> str:
    if window is None:
        return ""
    start = window.start.isoformat() if window.start else "the beginning"
    end = window.end.isoformat() if window.end else "now"
    return f", from {start} until {end}"
