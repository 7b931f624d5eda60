"""Standing orders and the exactly-once scheduler of the service.

A standing order remembers how far its schedule was handled (``handled_until``) and when
it is next due (``next_due_at``, indexed). :meth:`Scheduling.run_due` finds the due ones
and, per standing order, plans the window ``[handled_until, now]`` with the pure
:func:`sfakit.recurrence.due_occurrences`: every occurrence is created as an order keyed
``"<standing order id>:<local date>"`` or skipped with a recorded
:class:`~sfakit.events.OccurrenceSkipped` event — in the same transaction that moves the
standing order's watermark, written at the version it was read.

So two runs at once (threads, processes, SQLite or PostgreSQL) cannot both create an
occurrence: the second's watermark write conflicts and its whole transaction — orders
included — rolls back (the orders' unique ``occurrence_key`` is a second guard). A run
killed midway leaves nothing half-done: each transaction commits whole or not at all,
and the next run starts from the watermark. Missed occurrences (no run while they were
due) follow the standing order's :class:`~sfakit.model.CatchUpPolicy`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final

import attrs

from sfakit.errors import ConflictError, DuplicateError, ValidationError
from sfakit.events import Event, OccurrenceSkipped
from sfakit.model import (
    LineChange,
    Order,
    OrderLine,
    OrderStatus,
    Pause,
    PricingPolicy,
    Product,
    RecurrenceSpec,
    StandingOrder,
    StandingOrderStatus,
)
from sfakit.recurrence import DuePlan, Occurrence, Schedule, due_occurrences
from sfakit.service.followups import FollowUpReport
from sfakit.service.outbox import emit
from sfakit.storage.api import In, NotNull, Range, Storage, Transaction

__all__ = ["RunReport", "Scheduling"]

#: Standing orders handled per transaction by :meth:`Scheduling.run_due`.
RUN_BATCH: Final = 100
#: How late an occurrence may be and still count as on time (not missed).
GRACE: Final = timedelta(days=1)
_TICK: Final = timedelta(microseconds=1)
_RUNNABLE: Final = (StandingOrderStatus.ACTIVE, StandingOrderStatus.PAUSED)


@attrs.frozen
class RunReport:
    """What one :meth:`Scheduling.run_due` pass did: the orders it ``created`` (ids), the
    occurrences it ``skipped`` (``(key, reason)``), the standing orders it ``handled``,
    those another run had handled first (``taken``), the orders it ``placed``, the
    ``follow_ups`` the rules made
    and the ``reminders`` sent (activity ids)."""

    created: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    handled: int = 0
    taken: int = 0
    placed: tuple[str, ...] = ()
    follow_ups: FollowUpReport = FollowUpReport()
    reminders: tuple[str, ...] = ()

    def merge(self, other: RunReport) -> RunReport:
        return RunReport(
            self.created + other.created,
            self.skipped + other.skipped,
            self.handled + other.handled,
            self.taken + other.taken,
        )


class Scheduling:
    """Mixed into :class:`~sfakit.Sfa`; needs ``storage``, ``now`` and the follow-up
    operations."""

    storage: Storage
    now: Callable[[], datetime]
    run_follow_ups: Callable[..., FollowUpReport]
    send_due_reminders: Callable[..., tuple[str, ...]]
    place_order: Callable[..., Order]
    _place_in: Callable[..., Order]

    # -- standing orders ------------------------------------------------------------

    def create_standing_order(self, **fields: Any) -> StandingOrder:
        """Store a new standing order; its first occurrence is its schedule's start."""
        now = self.now()
        draft = StandingOrder(created_at=fields.pop("created_at", now), updated_at=now, **fields)
        schedule = Schedule.from_spec(draft.schedule)
        first = schedule.next_after(schedule.dtstart - _TICK)
        with self.storage.transaction() as tx:
            return tx.insert(draft.evolve(next_due_at=first))

    def skip_next_occurrence(self, standing_order_id: str, *, expected_version: int) -> date:
        """Skip the next occurrence not yet handled; returns its local date."""

        def change(order: StandingOrder, schedule: Schedule) -> StandingOrder:
            moment = order.handled_until or schedule.dtstart
            upcoming = schedule.next_after(moment - _TICK)
            while upcoming is not None and upcoming.date() in order.skipped_dates:
                upcoming = schedule.next_after(upcoming)
            if upcoming is None:
                raise ValidationError(
                    "$.standing_order_id",
                    standing_order_id,
                    "a standing order with occurrences left",
                )
            return order.evolve(skipped_dates=(*order.skipped_dates, upcoming.date()))

        changed = self._change(standing_order_id, expected_version, change)
        return changed.skipped_dates[-1]

    def change_standing_order_lines(
        self,
        standing_order_id: str,
        lines: Sequence[OrderLine],
        *,
        effective_from: date,
        expected_version: int,
        by: str | None = None,
    ) -> StandingOrder:
        """Use ``lines`` for the occurrences on or after ``effective_from`` (a local date
        not yet handled); orders already created keep theirs."""
        now = self.now()

        def change(order: StandingOrder, schedule: Schedule) -> StandingOrder:
            handled = order.handled_until
            if handled is not None and effective_from < handled.astimezone(schedule.zone).date():
                raise ValidationError(
                    "$.effective_from",
                    effective_from,
                    f"a date not yet handled (on or after {handled.date().isoformat()})",
                )
            kept = tuple(c for c in order.line_changes if c.effective_from < effective_from)
            latest = LineChange(effective_from=effective_from, lines=lines, changed_at=now, by=by)
            return order.evolve(line_changes=(*kept, latest))

        return self._change(standing_order_id, expected_version, change)

    def pause_standing_order(
        self,
        standing_order_id: str,
        *,
        start: date,
        end: date | None = None,
        reason: str | None = None,
        expected_version: int,
    ) -> StandingOrder:
        """Pause from ``start`` to ``end`` (inclusive; None until resumed). Occurrences in
        the pause are skipped and recorded (``paused``), never ordered late."""

        def change(order: StandingOrder, schedule: Schedule) -> StandingOrder:
            pause = Pause(start=start, end=end, reason=reason)
            status = StandingOrderStatus.PAUSED if end is None else order.status
            return order.evolve(pauses=(*order.pauses, pause), status=status)

        return self._change(standing_order_id, expected_version, change)

    def resume_standing_order(
        self, standing_order_id: str, *, on: date, expected_version: int
    ) -> StandingOrder:
        """End the open pause the day before ``on``; occurrences from ``on`` are ordered."""

        def change(order: StandingOrder, schedule: Schedule) -> StandingOrder:
            pauses = tuple(
                attrs.evolve(p, end=max(p.start, on - timedelta(days=1))) if p.end is None else p
                for p in order.pauses
            )
            return order.evolve(pauses=pauses, status=StandingOrderStatus.ACTIVE)

        return self._change(standing_order_id, expected_version, change)

    def cancel_standing_order(
        self, standing_order_id: str, *, expected_version: int
    ) -> StandingOrder:
        """Cancel: no occurrence is ordered any more."""

        def change(order: StandingOrder, schedule: Schedule) -> StandingOrder:
            return order.evolve(status=StandingOrderStatus.CANCELLED, next_due_at=None)

        return self._change(standing_order_id, expected_version, change)

    def _change(
        self,
        standing_order_id: str,
        expected_version: int,
        change: Callable[[StandingOrder, Schedule], StandingOrder],
    ) -> StandingOrder:
        with self.storage.transaction() as tx:
            order = tx.get(StandingOrder, standing_order_id)
            if order.version != expected_version:
                raise ConflictError(
                    "StandingOrder",
                    standing_order_id,
                    expected_version=expected_version,
                    current_version=order.version,
                )
            changed = change(order, Schedule.from_spec(order.schedule))
            return tx.update(changed.evolve(updated_at=max(self.now(), order.updated_at)))

    # -- the scheduler --------------------------------------------------------------

    def run_due(self, now: datetime | None = None, *, batch: int = RUN_BATCH) -> RunReport:
        """Create every order, follow-up and reminder that is due at ``now`` (default:
        the clock), exactly once.

        Standing orders are handled ``batch`` per transaction; if another run got to one
        of them first, that batch is redone one standing order per transaction and the
        ones already handled are counted as ``taken``. Each new order is placed in the
        transaction that creates it (confirmation number, payment decision,
        ``OrderPlaced``); drafts of standing orders made by other means are placed too.
        Then the follow-up rules run and due reminders are sent.
        """
        moment = self.now() if now is None else now
        if moment.utcoffset() is None:
            raise ValidationError("$.now", now, "a timezone-aware datetime")
        if not isinstance(batch, int) or batch < 1:
            raise ValidationError("$.batch", batch, "a whole number of at least 1")
        report = RunReport()
        cursor: str | None = None
        while True:
            with self.storage.transaction(readonly=True) as tx:
                page = tx.query(
                    StandingOrder,
                    where={"next_due_at": Range(None, moment + _TICK), "status": In(_RUNNABLE)},
                    order_by="next_due_at",
                    limit=batch,
                    cursor=cursor,
                )
            if page.items:
                report = report.merge(self._run_batch(list(page.items), moment))
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        placed = self._place_drafts(moment)
        return attrs.evolve(
            report,
            placed=placed,
            follow_ups=self.run_follow_ups(moment),
            reminders=self.send_due_reminders(moment),
        )

    def _place_drafts(self, now: datetime) -> tuple[str, ...]:
        # Drafts of standing orders: this run's, and any a crashed run left behind.
        placed: list[str] = []
        cursor: str | None = None
        while True:
            with self.storage.transaction(readonly=True) as tx:
                page = tx.query(
                    Order,
                    where={"status": OrderStatus.DRAFT, "standing_order_id": NotNull()},
                    limit=500,
                    cursor=cursor,
                )
            for draft in page.items:
                try:
                    self.place_order(
                        draft.id,
                        expected_version=draft.version,
                        at=max(now, draft.updated_at),
                    )
                except ConflictError:
                    continue  # another run placed it
                placed.append(draft.id)
            if page.next_cursor is None:
                return tuple(placed)
            cursor = page.next_cursor

    def _run_batch(self, batch: list[StandingOrder], now: datetime) -> RunReport:
        # The copies read with the page are written back at the version they had: if
        # another run moved one since, the write conflicts and the batch is redone one
        # standing order at a time, each read afresh.
        try:
            with self.storage.transaction() as tx:
                return self._run_in(tx, batch, now)
        except (ConflictError, DuplicateError):
            if len(batch) == 1:
                with self.storage.transaction(readonly=True) as tx:
                    fresh = tx.find(StandingOrder, batch[0].id)
                if fresh is None or fresh.version == batch[0].version:
                    return RunReport(taken=1)
                return self._run_batch([fresh], now)
        report = RunReport()
        for one in batch:
            report = report.merge(self._run_batch([one], now))
        return report

    def _run_in(self, tx: Transaction, batch: list[StandingOrder], now: datetime) -> RunReport:
        created: list[str] = []
        skipped: list[tuple[str, str]] = []
        handled = taken = 0
        events: list[Event] = []
        for standing in batch:
            due = standing.next_due_at
            if due is None or due > now or standing.status not in _RUNNABLE:
                taken += 1  # another run handled it since the page was read
                continue
            plan = _plan(standing, now)
            for occurrence in plan.to_create:
                draft = _order(tx, standing, occurrence, now)
                # Placed in the same transaction: an occurrence is ordered whole or not.
                created.append(self._place_in(tx, draft, now, stored=False, drawn=[]).id)
            for occurrence in plan.to_skip:
                skipped.append((occurrence.key, occurrence.reason.value))
                events.append(_skipped(standing, occurrence, now))
            tx.update(
                standing.evolve(
                    handled_until=plan.until,
                    next_due_at=plan.next_at,
                    updated_at=max(now, standing.updated_at),
                )
            )
            handled += 1
        emit(tx, events)
        return RunReport(tuple(created), tuple(skipped), handled, taken)


@functools.lru_cache(maxsize=4096)
def _schedule(spec: RecurrenceSpec) -> Schedule:
    # Many standing orders share a rule and a start; parsing it once is enough.
    return Schedule.from_spec(spec)


def _plan(standing: StandingOrder, now: datetime) -> DuePlan:
    schedule = _schedule(standing.schedule)
    return due_occurrences(
        schedule,
        owner_key=standing.id,
        since=standing.handled_until or schedule.dtstart,
        until=now + _TICK,  # the run covers occurrences due at ``now`` itself
        now=now,
        grace=GRACE,
        catch_up=standing.catch_up,
        ends_on=standing.ends_on,
        skipped=standing.skipped_dates,
        paused=[(p.start, p.end) for p in standing.pauses],
    )


def _order(
    tx: Transaction,
    standing: StandingOrder,
    occurrence: Occurrence,
    now: datetime,
) -> Order:
    lines = standing.lines_on(occurrence.local_date)
    if standing.pricing is PricingPolicy.AT_OCCURRENCE:
        lines = tuple(_priced(tx, line, standing.currency) for line in lines)
    return Order(
        account_id=standing.account_id,
        contact_id=standing.contact_id,
        currency=standing.currency,
        lines=lines,
        status=OrderStatus.DRAFT,
        payment_method=standing.payment_method,
        owner_id=standing.owner_id,
        standing_order_id=standing.id,
        occurrence_key=occurrence.key,
        created_at=now,
    )


def _priced(tx: Transaction, line: OrderLine, currency: str) -> OrderLine:
    product = tx.get(Product, line.product_id)
    if product.unit_price.currency != currency:
        raise ValidationError(
            f"$.products[{product.id}].unit_price.currency",
            product.unit_price.currency,
            f"{currency!r}, the standing order's currency",
        )
    return attrs.evolve(line, unit_price=product.unit_price)


def _skipped(standing: StandingOrder, occurrence: Occurrence, now: datetime) -> OccurrenceSkipped:
    return OccurrenceSkipped(
        standing_order_id=standing.id,
        account_id=standing.account_id,
        occurrence_key=occurrence.key,
        local_date=occurrence.local_date,
        reason=occurrence.reason.value,
        occurred_at=now,
    )
