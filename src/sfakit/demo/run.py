"""``run_demo``: make up a book, store it, live six months of it, and report.

The one call behind ``sfakit demo``; tests call it with the small size and check the
report against the library's own answers.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Final

import attrs

from sfakit.forecast import RateTable
from sfakit.report import SalesReport, collect_report

from .dataset import CURRENCY, Dataset, DemoSize, generate
from .progress import Progress
from .simulation import DemoRun, event_log, open_demo, simulate, store

__all__ = ["DemoResult", "run_demo"]

#: Monte Carlo runs of the report's forecast range.
FORECAST_RUNS: Final = 2000


@attrs.frozen
class DemoResult:
    """What the demo made (``dataset`` counts), what the months did, and the report."""

    url: str
    events_log: Path | None
    seed: int
    today: date
    size: DemoSize
    stored: dict[str, int]
    run: DemoRun
    report: SalesReport
    seconds: dict[str, float]


def _counts(data: Dataset) -> dict[str, int]:
    return {
        "sales reps": len(data.reps),
        "territories": len(data.tree.nodes),
        "accounts": len(data.accounts),
        "leads": len(data.leads) + len(data.arrivals),
        "opportunities": len(data.opportunities)
        + sum(1 for step in data.deal_steps if step.stage is None),
        "standing orders": len(data.standing_orders),
    }


def run_demo(
    url: str,
    *,
    seed: int,
    today: date,
    size: DemoSize,
    progress: Progress,
    events_log: Path | None = None,
) -> DemoResult:
    """Run the whole demo on the (empty) storage at ``url``; see :mod:`sfakit.demo`."""
    with progress.step("Making up a book of business"):
        data = generate(seed, today, size)
    with event_log(events_log) as notifier:
        sfa, clock = open_demo(url, data, notifier)
        with sfa:
            store(sfa, data, progress)
            sfa.set_exchange_rates(RateTable.of(CURRENCY, {}), expected_version=None)
            run = simulate(sfa, clock, data, progress)
            with progress.step("Writing the report"):
                report = collect_report(
                    sfa,
                    as_of=clock.now(),
                    seed=seed,
                    runs=FORECAST_RUNS,
                    due_within=timedelta(days=7),
                )
    return DemoResult(
        url=url,
        events_log=events_log,
        seed=seed,
        today=today,
        size=size,
        stored=_counts(data),
        run=run,
        report=report,
        seconds=dict(progress.seconds),
    )
