"""A dispatcher without notifiers leaves the outbox to one with them, and says so.

Events are fanned out once: a process opened without the application's notifiers
(``sfakit worker`` without its plugins, ``plugins=[]``) that fanned them out to nobody
would lose them for good.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.backends.conftest import sqlite_urls  # noqa: F401 - fixture

import sfakit
from sfakit import ManualClock, Sfa
from sfakit.codec import from_data, to_data
from sfakit.events import Event, LeadCaptured
from sfakit.model import Account, Channel
from sfakit.notifiers.memory import MemoryNotifier
from sfakit.service.outbox import WAITING_COUNT_LIMIT, DispatchReport, emit

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)

Opener = Callable[..., Sfa]


def lead_events(n: int, start: int = 0) -> list[Event]:
    return [LeadCaptured(lead_id=f"lead_{i}", occurred_at=T0) for i in range(start, start + n)]


@pytest.fixture(params=["memory", "sqlite"])
def url(request: pytest.FixtureRequest) -> str:
    """One store, reopened by each ``open_on`` call (a named memory store is shared)."""
    if request.param == "memory":
        return f"memory://{uuid.uuid4().hex}"
    make: Callable[[], str] = request.getfixturevalue("sqlite_urls")
    return make()


@pytest.fixture
def open_on(url: str) -> Iterator[Opener]:
    opened: list[Sfa] = []

    def make(*notifiers: object) -> Sfa:
        service = sfakit.open(
            url, clock=ManualClock(T0), plugins=list(notifiers), load_entry_points=False
        )
        opened.append(service)
        return service

    yield make
    for service in opened:
        service.close()


def test_events_wait_for_a_dispatcher_with_notifiers_and_reach_it_once(open_on: Opener) -> None:
    bare = open_on()
    acme = bare.create(Account, name="Acme")
    bare.log_interaction(channel=Channel.CALL, account_id=acme.id, summary="reorder call")
    with bare.transaction() as tx:
        emit(tx, lead_events(4))
    recorded = [event.id for _, event in bare.events()]
    assert len(recorded) == 5
    for _ in range(3):
        report = bare.dispatch_pending()
        assert report == DispatchReport(waiting=5)
        assert report.idle
        assert report.warning == (
            "no notifier installed: 5 events left in the outbox for a dispatcher with notifiers"
        )
    assert bare.delivery_status(recorded[0]) == []
    bare.close()

    inbox = MemoryNotifier()
    served = open_on(inbox)
    assert served.delivery_status(recorded[0])[0].state == "pending"
    report = served.dispatch_pending()
    assert (report.fanned_out, report.delivered, report.waiting) == (5, 5, 0)
    assert report.warning is None
    assert [event.id for event in inbox.events] == recorded
    assert served.dispatch_pending().idle
    assert len(inbox.events) == 5
    assert {s.state for e in recorded for s in served.delivery_status(e)} == {"delivered"}


def test_a_dispatcher_without_notifiers_counts_only_what_is_left(open_on: Opener) -> None:
    inbox = MemoryNotifier()
    served, bare = open_on(inbox), open_on()
    with served.transaction() as tx:
        emit(tx, lead_events(3))
    served.dispatch_pending()
    assert bare.dispatch_pending() == DispatchReport()  # all taken by the one with notifiers
    with served.transaction() as tx:
        emit(tx, lead_events(2, start=3))
    assert bare.dispatch_pending().waiting == 2
    served.dispatch_pending()
    assert [e.lead_id for e in inbox.events if isinstance(e, LeadCaptured)] == [
        f"lead_{i}" for i in range(5)
    ]


@settings(max_examples=25, deadline=None)
@given(batches=st.lists(st.tuples(st.integers(0, 6), st.booleans()), min_size=1, max_size=6))
def test_any_mix_of_bare_and_served_passes_delivers_each_event_once(
    batches: list[tuple[int, bool]],
) -> None:
    """Each batch is emitted, then dispatched by a service without notifiers or with one."""
    url = f"memory://{uuid.uuid4().hex}"
    inbox = MemoryNotifier()
    with (
        sfakit.open(url, clock=ManualClock(T0), plugins=[], load_entry_points=False) as bare,
        sfakit.open(url, clock=ManualClock(T0), plugins=[inbox], load_entry_points=False) as served,
    ):
        emitted = 0
        for size, by_served in batches:
            with bare.transaction() as tx:
                emit(tx, lead_events(size, start=emitted))
            emitted += size
            if by_served:
                assert served.dispatch_pending().waiting == 0
            else:
                assert bare.dispatch_pending().waiting == emitted - len(inbox.events)
        served.dispatch_pending()
        ids = [event.id for _, event in bare.events()]
        assert Counter(event.id for event in inbox.events) == Counter(dict.fromkeys(ids, 1))


class StopAfterPasses(threading.Event):
    """A stop signal that lets the dispatcher loop make ``passes`` passes, without pauses."""

    def __init__(self, passes: int) -> None:
        super().__init__()
        self.left = passes

    def is_set(self) -> bool:  # asked once before each pass
        self.left -= 1
        return self.left < 0

    def wait(self, timeout: float | None = None) -> bool:
        return False


def test_run_dispatcher_warns_once_per_change_of_what_waits(
    open_on: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    bare = open_on()
    with bare.transaction() as tx:
        emit(tx, lead_events(3))
    with caplog.at_level(logging.WARNING, logger="sfakit.service.outbox"):
        total = bare.run_dispatcher(StopAfterPasses(4), interval=0)
    assert total == DispatchReport(waiting=3)
    assert [r.getMessage() for r in caplog.records] == [  # four passes, one warning
        "no notifier installed: 3 events left in the outbox for a dispatcher with notifiers"
    ]
    assert len(bare.events()) == 3


def test_a_notifier_registered_later_is_told_it_missed_older_events(open_on: Opener) -> None:
    early = MemoryNotifier(name="early")
    first = open_on(early)
    with first.transaction() as tx:
        (before,) = lead_events(1)
        emit(tx, [before])
    first.dispatch_pending()
    with first.transaction() as tx:
        (after,) = lead_events(1, start=1)
        emit(tx, [after])

    late = MemoryNotifier(name="late")
    second = open_on(early, late)
    states = {s.notifier: s.state for s in second.delivery_status(before.id)}
    assert states == {"early": "delivered", "late": "missed"}
    states = {s.notifier: s.state for s in second.delivery_status(after.id)}
    assert states == {"early": "pending", "late": "pending"}
    second.dispatch_pending()
    assert late.events == [after]
    assert early.events == [before, after]
    states = {s.notifier: s.state for s in second.delivery_status(before.id)}
    assert states == {"early": "delivered", "late": "missed"}


def test_the_report_stays_compatible_and_a_sum_keeps_the_later_waiting() -> None:
    assert DispatchReport(1, 2, 3, 4, 5) == DispatchReport(
        fanned_out=1, delivered=2, retried=3, dead=4, lost_leases=5, waiting=0
    )
    older = {"fanned_out": 1, "delivered": 1, "retried": 0, "dead": 0, "lost_leases": 0}
    assert from_data(DispatchReport, older) == DispatchReport(fanned_out=1, delivered=1)
    assert to_data(DispatchReport(waiting=2))["waiting"] == 2
    total = DispatchReport(delivered=1, waiting=4) + DispatchReport(delivered=2, waiting=1)
    assert total == DispatchReport(delivered=3, waiting=1)
    assert not DispatchReport(delivered=1).idle
    many = DispatchReport(waiting=WAITING_COUNT_LIMIT).warning
    assert many is not None
    assert f"at least {WAITING_COUNT_LIMIT} events" in many
    assert "1 event left" in (DispatchReport(waiting=1).warning or "")
