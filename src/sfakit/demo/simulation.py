"""The demo run: store the made-up book, then live six months of it through the service.

Each simulated day the deals planned for it are opened and moved (with the stage rules
checked as in real use), and at midnight the scheduler runs (standing orders placed
exactly once, follow-up tasks and customer emails, reminders). Once a week the week's
new leads are imported with what they did on the web site, routed in batches and
scored, and the outbox is dispatched to a :class:`~sfakit.notifiers.log.LogNotifier`
writing to a file. A :class:`~sfakit.clock.ManualClock` is the only time source, so the
run is the same on every machine for the same seed and day.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any, Final

import attrs

import sfakit
from sfakit.clock import ManualClock
from sfakit.model import Opportunity
from sfakit.notifiers.log import LogNotifier
from sfakit.service import Sfa

from .dataset import SIMULATED_DAYS, Dataset, DealStep, LeadArrival
from .progress import Progress

__all__ = ["DemoRun", "simulate", "store"]

#: Records per bulk-load transaction.
CHUNK: Final = 2_000
#: The events that become messages to someone: customers (order confirmations,
#: follow-up emails) and reps (new leads, tasks, reminders).
MESSAGES: Final = (
    "order.placed",
    "account.follow_up",
    "lead.assigned",
    "activity.task_created",
    "activity.reminder_due",
)
#: The logger the demo's notifier writes to (not propagated to the root logger).
EVENT_LOGGER: Final = "sfakit.demo.events"


@attrs.frozen
class DemoRun:
    """What the simulated months did, counted."""

    leads_routed: int
    leads_queued: int
    leads_scored: int
    leads_qualified: int
    deals_opened: int
    deals_moved: int
    orders_placed: int
    occurrences_skipped: int
    follow_up_tasks: int
    customer_emails: int
    reminders: int
    events_delivered: int


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def store(sfa: Sfa, data: Dataset, progress: Progress) -> None:
    """Bulk-load the book as it stood when the simulation starts, and its rules."""
    groups: list[Sequence[Any]] = [
        data.reps,
        data.products,
        data.accounts,
        data.contacts,
        data.leads,
        data.opportunities,
        data.stage_changes,
    ]
    total = sum(len(g) for g in groups)
    with progress.step("Storing two years of history", total) as bar:
        for group in groups:
            for chunk in _chunks(group, CHUNK):
                with sfa.transaction() as tx:
                    tx.insert_many(chunk)
                bar.advance(len(chunk))
    sfa.set_territory_tree(data.tree, expected_version=None)
    sfa.set_lead_scorecard(data.scorecard, expected_version=None)
    sfa.set_follow_up_rules(data.follow_ups, expected_version=None)
    with progress.step("Setting up standing orders", len(data.standing_orders)) as bar:
        for fields in data.standing_orders:
            sfa.create_standing_order(**fields)
            bar.advance()


@contextmanager
def event_log(path: Path | None) -> Iterator[LogNotifier]:
    """A log notifier writing one line per event to ``path`` (nowhere when None)."""
    logger = logging.getLogger(EVENT_LOGGER)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler: logging.Handler = (
        logging.FileHandler(path, encoding="utf-8") if path else logging.NullHandler()
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    try:
        yield LogNotifier(name="demo-log", event_types=MESSAGES, logger=logger)
    finally:
        logger.removeHandler(handler)
        handler.close()


class _Simulation:
    def __init__(self, sfa: Sfa, clock: ManualClock, progress: Progress) -> None:
        self.sfa = sfa
        self.clock = clock
        self.progress = progress
        self.versions: dict[str, int] = {}
        self.counts: Counter[str] = Counter()
        self.delivered = 0

    def at(self, moment: datetime) -> None:
        if moment > self.clock.now():
            self.clock.set(moment)

    def deal_step(self, step: DealStep) -> None:
        self.at(step.at)
        deal = step.deal
        if step.stage is None:
            fields = {
                a.name: getattr(deal, a.name)
                for a in attrs.fields(Opportunity)
                if a.name not in ("version", "updated_at")
            }
            opened = self.sfa.open_opportunity(by=deal.owner_id, **fields)
            self.versions[opened.id] = opened.version
            self.counts["deals_opened"] += 1
            return
        version = self.versions.get(deal.id)
        if version is None:
            version = self.sfa.get(Opportunity, deal.id).version
        moved, _ = self.sfa.move_opportunity(
            deal.id, step.stage, expected_version=version, by=deal.owner_id, reason=step.reason
        )
        self.versions[deal.id] = moved.version
        self.counts["deals_moved"] += 1

    def arrivals(self, arrivals: Sequence[LeadArrival]) -> None:
        if not arrivals:
            return
        with self.sfa.transaction() as tx:
            tx.insert_many([a.lead for a in arrivals])
        for arrival in arrivals:
            for kind, detail in arrival.engagements:
                self.sfa.record_engagement(arrival.lead.id, kind, at=arrival.at, detail=detail)
        routed = self.sfa.route_unassigned_leads(limit=len(arrivals) + 100, batch_size=100)
        self.counts["leads_routed"] += sum(1 for r in routed if r.owner is not None)
        self.counts["leads_queued"] += sum(1 for r in routed if r.owner is None)
        scored = self.sfa.score_leads([a.lead.id for a in arrivals])
        self.counts["leads_scored"] += len(scored)
        self.counts["leads_qualified"] += sum(1 for s in scored if s.qualified)

    def midnight(self, moment: datetime) -> None:
        self.at(moment)
        report = self.sfa.run_due()
        self.counts["orders_placed"] += len(report.created) + len(report.placed)
        self.counts["occurrences_skipped"] += len(report.skipped)
        self.counts["follow_up_tasks"] += len(report.follow_ups.tasks)
        self.counts["customer_emails"] += len(report.follow_ups.emails)
        self.counts["reminders"] += len(report.reminders)

    def dispatch(self) -> None:
        self.delivered += self.sfa.dispatch_pending().delivered


def simulate(sfa: Sfa, clock: ManualClock, data: Dataset, progress: Progress) -> DemoRun:
    """Live the simulated months day by day (see the module docs)."""
    run = _Simulation(sfa, clock, progress)
    steps_by_day = {d: list(s) for d, s in groupby(data.deal_steps, key=lambda s: s.at.date())}
    first_day = data.start.date()
    arrived = 0
    with progress.step("Living six months, day by day", SIMULATED_DAYS) as bar:
        for offset in range(SIMULATED_DAYS):
            day: date = first_day + timedelta(days=offset)
            for step in steps_by_day.get(day, ()):
                run.deal_step(step)
            end_of_day = data.start + timedelta(days=offset + 1)
            run.at(end_of_day - timedelta(seconds=1))
            if day.weekday() == 6 or offset == SIMULATED_DAYS - 1:
                # The week's new leads are imported, routed and scored on Sunday night.
                week = [a for a in data.arrivals[arrived:] if a.at < end_of_day]
                arrived += len(week)
                run.arrivals(week)
            run.midnight(end_of_day)
            if day.weekday() == 6:
                run.dispatch()
            bar.advance()
    run.dispatch()
    return DemoRun(
        leads_routed=run.counts["leads_routed"],
        leads_queued=run.counts["leads_queued"],
        leads_scored=run.counts["leads_scored"],
        leads_qualified=run.counts["leads_qualified"],
        deals_opened=run.counts["deals_opened"],
        deals_moved=run.counts["deals_moved"],
        orders_placed=run.counts["orders_placed"],
        occurrences_skipped=run.counts["occurrences_skipped"],
        follow_up_tasks=run.counts["follow_up_tasks"],
        customer_emails=run.counts["customer_emails"],
        reminders=run.counts["reminders"],
        events_delivered=run.delivered,
    )


def open_demo(url: str, data: Dataset, notifier: LogNotifier) -> tuple[Sfa, ManualClock]:
    """sfakit on ``url`` with the demo's clock (at the start of the history) and notifier."""
    clock = ManualClock(data.start)
    sfa = sfakit.open(url, clock=clock, plugins=[notifier], load_entry_points=False)
    return sfa, clock
