"""The transactional outbox and the dispatcher that empties it.

A business operation calls :func:`emit` inside its own storage transaction: each event
is appended to the ``events`` stream (the permanent record, readable from a cursor)
and queued once on the ``outbox`` work queue, so it commits or rolls back together with
the change it describes.

The :class:`Dispatcher` then works in two steps, each through the storage contract's
claimed work, so that several dispatcher processes can run at once:

1. **fan-out**: take an outbox item and queue one delivery per notifier that accepts
   the event type (queue ``deliver:<notifier name>``, keyed by the event id, so a
   repeated fan-out queues nothing twice);
2. **delivery**: per notifier, take due deliveries and call the notifier. Success
   completes the delivery; a failure is retried with exponential backoff and jitter
   until ``RetryPolicy.max_attempts``, then the delivery is ``dead`` with its last
   error, visible and re-drivable. Each notifier has its own queue, so a failing one
   never delays another or makes it receive an event twice.

A delivery whose worker died is taken over when its lease ends; the notifier may then
see the event a second time, which is why every event carries a unique id that
notifiers pass on (the SMTP ``Message-ID``, the webhook's ``X-Sfakit-Event-Id``).

A dispatcher without notifiers (``sfakit worker`` started without the application's
notifier plugins, a process opened with ``plugins=[]``) leaves the outbox alone: an
event is fanned out only once, so fanning it out to nobody would lose it for the
notifiers that do exist. Its report counts the events left ``waiting`` instead.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

import attrs

from sfakit.errors import ConflictError, ValidationError
from sfakit.events import Event, event_from_data, event_to_data
from sfakit.notifiers import DeliveryError, Notifier
from sfakit.storage.api import Storage, Transaction, WorkItem

__all__ = [
    "EVENTS_STREAM",
    "OUTBOX_QUEUE",
    "DeliveryStatus",
    "DispatchReport",
    "Dispatcher",
    "RetryPolicy",
    "WAITING_COUNT_LIMIT",
    "delivery_queue",
    "emit",
]

EVENTS_STREAM: Final = "events"
OUTBOX_QUEUE: Final = "outbox"
#: A dispatcher without notifiers counts the events left in the outbox up to this many.
WAITING_COUNT_LIMIT: Final = 10_000

_log = logging.getLogger(__name__)


def delivery_queue(notifier_name: str) -> str:
    """The work queue of one notifier's deliveries."""
    return f"deliver:{notifier_name}"


def emit(tx: Transaction, events: Iterable[Event]) -> None:
    """Record ``events`` in the outbox inside the caller's transaction."""
    batch = list(events)
    positions = tx.append_many(
        EVENTS_STREAM, [(event_to_data(event), event.occurred_at) for event in batch]
    )
    # Work items point at the stream entry instead of copying the event: small rows.
    tx.enqueue_many(
        OUTBOX_QUEUE,
        [
            (event.id, event.occurred_at, {"type": event.type, "position": position})
            for event, position in zip(batch, positions, strict=True)
        ],
    )


@attrs.frozen
class RetryPolicy:
    """How failed deliveries are retried: exponential backoff with jitter, then dead.

    The n-th retry waits ``first_delay * factor**(n-1)``, at most ``max_delay``, times a
    jitter factor in ``[1 - jitter, 1 + jitter]`` that is fixed per delivery and attempt
    (so a run can be replayed).

    >>> policy = RetryPolicy(jitter=0.0)
    >>> [policy.delay(n, "evt_1").total_seconds() for n in (1, 2, 3)]
    [30.0, 60.0, 120.0]
    """

    max_attempts: int = 8
    first_delay: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    max_delay: timedelta = timedelta(hours=1)
    jitter: float = 0.2

    def __attrs_post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValidationError("$.max_attempts", self.max_attempts, "at least 1")
        if self.first_delay <= timedelta(0) or self.factor < 1 or not 0 <= self.jitter < 1:
            raise ValidationError("$", self, "first_delay > 0, factor >= 1 and 0 <= jitter < 1")

    def delay(self, attempt: int, key: str) -> timedelta:
        base = min(self.first_delay * self.factor ** (attempt - 1), self.max_delay)
        spread = random.Random(f"{key}/{attempt}").uniform(1 - self.jitter, 1 + self.jitter)
        return base * spread


@attrs.frozen
class DispatchReport:
    """What one dispatcher pass did.

    ``waiting`` is how many events a dispatcher without notifiers left in the outbox
    (counted up to :data:`WAITING_COUNT_LIMIT`). It describes the outbox after the pass
    rather than counting work, so the sum of two reports keeps the later one's.
    """

    fanned_out: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    lost_leases: int = 0
    waiting: int = 0

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            fanned_out=self.fanned_out + other.fanned_out,
            delivered=self.delivered + other.delivered,
            retried=self.retried + other.retried,
            dead=self.dead + other.dead,
            lost_leases=self.lost_leases + other.lost_leases,
            waiting=other.waiting,
        )

    @property
    def idle(self) -> bool:
        """Nothing was done (events ``waiting`` for a notifier are no work of this pass)."""
        return attrs.evolve(self, waiting=0) == DispatchReport()

    @property
    def warning(self) -> str | None:
        """What to tell the operator when events were left waiting for a notifier.

        >>> DispatchReport(waiting=3).warning
        'no notifier installed: 3 events left in the outbox for a dispatcher with notifiers'
        >>> DispatchReport(delivered=1).warning is None
        True
        """
        if not self.waiting:
            return None
        count = f"at least {self.waiting}" if self.waiting >= WAITING_COUNT_LIMIT else self.waiting
        events = "event" if self.waiting == 1 else "events"
        return (
            f"no notifier installed: {count} {events} left in the outbox "
            "for a dispatcher with notifiers"
        )


@attrs.frozen
class DeliveryStatus:
    """One event's delivery to one notifier.

    ``state``: ``pending`` (not tried yet), ``retrying`` (failed, next try at
    ``next_attempt_at``), ``in_flight`` (a worker holds it), ``delivered``, ``dead``, or
    ``missed``: the event was fanned out before the notifier was registered (or before
    it accepted the event's type), so no delivery to it was queued and none ever will be.
    """

    event_id: str
    notifier: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    error: str | None


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    """Delivers outbox events to notifiers. See the module docstring."""

    def __init__(
        self,
        storage: Storage,
        notifiers: Mapping[str, Notifier],
        *,
        now: Callable[[], datetime],
        policy: RetryPolicy | None = None,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 200,
    ) -> None:
        self.storage = storage
        self.notifiers = dict(notifiers)
        self.now = now
        self.policy = policy or RetryPolicy()
        self.lease = lease
        self.batch = batch
        self.worker = _worker_name()

    def run_once(self) -> DispatchReport:
        """Fan out everything in the outbox, then deliver everything due, once each.

        Without notifiers, only count the events left waiting (see the module docstring).
        """
        if not self.notifiers:
            return DispatchReport(waiting=self._waiting())
        report = self._fan_out()
        for name, notifier in self.notifiers.items():
            report = report + self._deliver(name, notifier)
        return report

    def run_forever(self, stop: threading.Event, *, interval: float = 1.0) -> DispatchReport:
        """Run passes until ``stop`` is set, sleeping ``interval`` seconds when idle.

        Events left waiting for a notifier are logged as a warning each time their
        number changes, not on every pass.
        """
        total = DispatchReport()
        warned = 0
        while not stop.is_set():
            report = self.run_once()
            total = total + report
            if report.warning and report.waiting != warned:
                _log.warning(report.warning)
            warned = report.waiting
            if report.idle:
                stop.wait(interval)
        return total

    def _waiting(self) -> int:
        with self.storage.transaction(readonly=True) as tx:
            return len(tx.work_in(OUTBOX_QUEUE, state="pending", limit=WAITING_COUNT_LIMIT))

    def _fan_out(self) -> DispatchReport:
        count = 0
        while True:
            now = self.now()
            with self.storage.transaction() as tx:
                items = tx.claim_due(
                    OUTBOX_QUEUE, now=now, worker=self.worker, lease=self.lease, limit=self.batch
                )
                for name, notifier in self.notifiers.items():
                    tx.enqueue_many(
                        delivery_queue(name),
                        [
                            (item.key, now, item.payload)
                            for item in items
                            if notifier.accepts(str(item.payload["type"]))
                        ],
                    )
                tx.complete_many(items)
            count += len(items)
            if len(items) < self.batch:
                return DispatchReport(fanned_out=count)

    def _deliver(self, name: str, notifier: Notifier) -> DispatchReport:
        counts: Counter[str] = Counter()
        queue = delivery_queue(name)
        while True:
            with self.storage.transaction() as tx:
                items = tx.claim_due(
                    queue, now=self.now(), worker=self.worker, lease=self.lease, limit=self.batch
                )
            envelopes = self._envelopes(int(item.payload["position"]) for item in items)
            outcomes = [
                (item, self._attempt(notifier, envelopes[int(item.payload["position"])]))
                for item in items
            ]
            if outcomes:
                # One transaction records the whole batch: a worker that dies before it
                # commits leaves the batch to be delivered again after the lease.
                with self.storage.transaction() as tx:
                    done = [item for item, error in outcomes if error is None]
                    lost = tx.complete_many(done)
                    counts["delivered"] += len(done) - len(lost)
                    counts["lost_leases"] += len(lost)
                    counts.update(
                        self._record(tx, item, error)
                        for item, error in outcomes
                        if error is not None
                    )
            if len(items) < self.batch:
                return DispatchReport(**counts)

    def _envelopes(self, positions: Iterable[int]) -> dict[int, Mapping[str, Any]]:
        """The recorded events at ``positions``, read in runs of consecutive positions."""
        wanted = sorted(set(positions))
        found: dict[int, Mapping[str, Any]] = {}
        with self.storage.transaction(readonly=True) as tx:
            start = 0
            while start < len(wanted):
                end = start
                while end + 1 < len(wanted) and wanted[end + 1] == wanted[end] + 1:
                    end += 1
                entries = tx.read(EVENTS_STREAM, after=wanted[start] - 1, limit=end - start + 1)
                found.update((e.position, e.data) for e in entries)
                start = end + 1
        return found

    @staticmethod
    def _attempt(notifier: Notifier, envelope: Mapping[str, Any]) -> BaseException | None:
        try:
            notifier.deliver(event_from_data(envelope))
        except Exception as exc:  # every failure is recorded on the delivery
            return exc
        return None

    def _record(self, tx: Transaction, item: WorkItem, error: BaseException | None) -> str:
        """Store one delivery's outcome; returns the DispatchReport field it counts in."""
        try:
            if error is None:
                tx.complete(item)
                return "delivered"
            message = f"{type(error).__name__}: {error}"[:2000]
            permanent = isinstance(error, DeliveryError) and error.permanent
            if permanent or item.attempt >= self.policy.max_attempts:
                tx.fail(item, error=message)
                return "dead"
            retry_at = self.now() + self.policy.delay(item.attempt, f"{item.queue}/{item.key}")
            tx.retry(item, due_at=retry_at, error=message)
            return "retried"
        except ConflictError:
            # The lease ran out and another worker took the delivery over.
            return "lost_leases"

    def status(self, tx: Transaction, event_id: str, event_type: str) -> list[DeliveryStatus]:
        """Where the event stands with every notifier that accepts its type."""
        outbox = tx.work_status(OUTBOX_QUEUE, event_id)
        # Fan-out happens once: a notifier with no delivery of a fanned-out event missed it.
        unqueued = "missed" if outbox is not None and outbox.state == "done" else "pending"
        found = []
        for name, notifier in self.notifiers.items():
            if not notifier.accepts(event_type):
                continue
            work = tx.work_status(delivery_queue(name), event_id)
            if work is None:
                found.append(DeliveryStatus(event_id, name, unqueued, 0, None, None))
                continue
            state = {
                "pending": "retrying" if work.attempt else "pending",
                "claimed": "in_flight",
                "done": "delivered",
                "dead": "dead",
            }[work.state]
            next_at = work.due_at if work.state == "pending" else None
            found.append(DeliveryStatus(event_id, name, state, work.attempt, next_at, work.error))
        return found
