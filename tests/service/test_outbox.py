"""Events reach the outbox with their change, and every notifier gets each one once."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sfakit
from sfakit import ManualClock, Sfa
from sfakit.events import Event, LeadCaptured, OrderPlaced
from sfakit.model import Account, Channel
from sfakit.notifiers import DeliveryError, NotifierPlugin
from sfakit.notifiers.memory import MemoryNotifier
from sfakit.service.outbox import RetryPolicy, emit

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
POLICY = RetryPolicy(
    max_attempts=6, first_delay=timedelta(seconds=10), max_delay=timedelta(minutes=5)
)


class Flaky(NotifierPlugin):
    """Fails the deliveries a plan names (event number, attempt number); counts the rest."""

    def __init__(self, name: str, failures: Callable[[str, int], bool]) -> None:
        super().__init__(name=name)
        self.failures = failures
        self.attempts: Counter[str] = Counter()
        self.delivered: Counter[str] = Counter()
        self.lock = threading.Lock()

    def deliver(self, event: Event) -> None:
        with self.lock:
            self.attempts[event.id] += 1
            attempt = self.attempts[event.id]
        if self.failures(event.id, attempt):
            raise RuntimeError(f"injected failure {attempt} for {event.id}")
        with self.lock:
            self.delivered[event.id] += 1


def lead_events(n: int) -> list[Event]:
    return [LeadCaptured(lead_id=f"lead_{i}", occurred_at=T0) for i in range(n)]


def drain(sfa: Sfa, clock: ManualClock, *, rounds: int = 40) -> None:
    """Dispatch and move time on until nothing is left to do."""
    for _ in range(rounds):
        sfa.dispatch_pending()
        clock.advance(POLICY.max_delay * 2)
    sfa.dispatch_pending()


@pytest.fixture
def open_sfa(storage_url: str, clock: ManualClock) -> Iterator[Callable[..., Sfa]]:
    opened: list[Sfa] = []

    def make(*notifiers: object) -> Sfa:
        service = sfakit.open(
            storage_url,
            clock=clock,
            plugins=list(notifiers),
            load_entry_points=False,
            retry_policy=POLICY,
        )
        opened.append(service)
        return service

    yield make
    for service in opened:
        service.close()


def test_an_operation_writes_its_event_to_the_outbox(open_sfa: Callable[..., Sfa]) -> None:
    inbox = MemoryNotifier()
    sfa = open_sfa(inbox)
    acme = sfa.create(Account, name="Acme")
    sfa.log_interaction(channel=Channel.CALL, account_id=acme.id, summary="reorder call")
    ((_, event),) = sfa.events()
    assert event.type == "interaction.logged"
    assert [s.state for s in sfa.delivery_status(event.id)] == ["pending"]
    report = sfa.dispatch_pending()
    assert (report.fanned_out, report.delivered) == (1, 1)
    assert inbox.events == [event]
    assert [s.state for s in sfa.delivery_status(event.id)] == ["delivered"]


def test_an_operation_that_fails_after_emitting_leaves_no_event(
    open_sfa: Callable[..., Sfa],
) -> None:
    inbox = MemoryNotifier()
    sfa = open_sfa(inbox)
    with pytest.raises(RuntimeError), sfa.transaction() as tx:
        emit(tx, lead_events(3))
        raise RuntimeError("the business operation failed")
    assert sfa.events() == []
    assert sfa.dispatch_pending().idle
    assert inbox.events == []


def test_each_notifier_gets_only_the_types_it_accepts(open_sfa: Callable[..., Sfa]) -> None:
    everything = MemoryNotifier(name="everything")
    orders = MemoryNotifier(name="orders", event_types=["order.placed"])
    sfa = open_sfa(everything, orders)
    placed = OrderPlaced(order_id="ord_1", account_id="acct_1", occurred_at=T0)
    with sfa.transaction() as tx:
        emit(tx, [*lead_events(2), placed])
    sfa.dispatch_pending()
    assert len(everything.events) == 3
    assert orders.events == [placed]


def test_a_failing_notifier_neither_delays_nor_repeats_another(
    open_sfa: Callable[..., Sfa], clock: ManualClock
) -> None:
    healthy = MemoryNotifier(name="healthy")
    broken = Flaky("broken", lambda event_id, attempt: True)
    sfa = open_sfa(healthy, broken)
    with sfa.transaction() as tx:
        emit(tx, lead_events(4))
    first = sfa.dispatch_pending()
    assert (first.delivered, first.retried) == (4, 4)
    drain(sfa, clock)
    assert Counter(e.id for e in healthy.events) == Counter({e.id: 1 for e in healthy.events})
    assert len(healthy.events) == 4
    dead = sfa.dead_deliveries("broken")
    assert len(dead) == 4
    assert all(d.attempts == POLICY.max_attempts for d in dead)
    assert all("injected failure" in (d.error or "") for d in dead)
    status = {s.notifier: s.state for s in sfa.delivery_status(dead[0].event_id)}
    assert status == {"healthy": "delivered", "broken": "dead"}


def test_a_dead_delivery_can_be_redriven(open_sfa: Callable[..., Sfa], clock: ManualClock) -> None:
    outage = {"on": True}
    mail = Flaky("mail", lambda event_id, attempt: outage["on"])
    sfa = open_sfa(mail)
    with sfa.transaction() as tx:
        emit(tx, lead_events(1))
    drain(sfa, clock)
    (dead,) = sfa.dead_deliveries()
    outage["on"] = False
    assert sfa.redrive(dead.event_id, "mail") is True
    assert sfa.redrive(dead.event_id, "mail") is False
    sfa.dispatch_pending()
    assert mail.delivered[dead.event_id] == 1
    assert sfa.dead_deliveries() == []


def test_a_permanent_failure_is_dead_at_once(open_sfa: Callable[..., Sfa]) -> None:
    class Refusing(NotifierPlugin):
        name = "refusing"

        def deliver(self, event: Event) -> None:
            raise DeliveryError("410 Gone", permanent=True)

    sfa = open_sfa(Refusing())
    with sfa.transaction() as tx:
        emit(tx, lead_events(1))
    assert sfa.dispatch_pending().dead == 1
    (dead,) = sfa.dead_deliveries()
    assert (dead.attempts, dead.error) == (1, "DeliveryError: 410 Gone")


def test_retries_back_off_and_report_the_next_attempt(
    open_sfa: Callable[..., Sfa], clock: ManualClock
) -> None:
    twice = Flaky("twice", lambda event_id, attempt: attempt <= 2)
    sfa = open_sfa(twice)
    with sfa.transaction() as tx:
        (event,) = lead_events(1)
        emit(tx, [event])
    assert sfa.dispatch_pending().retried == 1
    (status,) = sfa.delivery_status(event.id)
    assert status.state == "retrying"
    assert status.next_attempt_at is not None
    assert status.next_attempt_at > clock.now()
    assert sfa.dispatch_pending().idle  # not due yet
    drain(sfa, clock)
    assert twice.delivered[event.id] == 1
    assert twice.attempts[event.id] == 3


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest) -> Callable[[], str]:
    """Makes a URL of a new, empty store on each call (one per hypothesis example)."""
    if request.param == "memory":
        return lambda: f"memory://{uuid.uuid4().hex}"
    factory = "sqlite_urls" if request.param == "sqlite" else "postgres_schemas"
    make: Callable[[], str] = request.getfixturevalue(factory)
    return make


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=st.integers(1, 12), failing=st.data())
def test_every_event_reaches_every_notifier_exactly_once_despite_random_failures(
    fresh_url: Callable[[], str], events: int, failing: st.DataObject
) -> None:
    """About 30% of delivery attempts fail, at random, fewer than max_attempts in a row."""
    pattern = failing.draw(
        st.lists(st.integers(0, 9).map(lambda n: n < 3), min_size=events * 5, max_size=events * 5),
        label="which attempts fail",
    )
    numbering: dict[str, int] = {}

    def plan(event_id: str, attempt: int) -> bool:
        index = numbering.setdefault(event_id, len(numbering))
        return attempt <= 5 and pattern[index * 5 + attempt - 1]

    flaky, steady = Flaky("flaky", plan), MemoryNotifier(name="steady")
    clock = ManualClock(T0)
    with sfakit.open(
        fresh_url(),
        clock=clock,
        plugins=[flaky, steady],
        load_entry_points=False,
        retry_policy=POLICY,
    ) as sfa:
        with sfa.transaction() as tx:
            emit(tx, lead_events(events))
        drain(sfa, clock, rounds=8)
        ids = [e.id for _, e in sfa.events()]
        assert len(ids) == events
        assert flaky.delivered == Counter(dict.fromkeys(ids, 1))
        assert Counter(e.id for e in steady.events) == Counter(dict.fromkeys(ids, 1))
        assert sfa.dead_deliveries() == []


def test_two_dispatchers_at_once_deliver_each_event_once(
    open_sfa: Callable[..., Sfa],
) -> None:
    counting = Flaky("counting", lambda event_id, attempt: False)
    first, second = open_sfa(counting), open_sfa(counting)
    with first.transaction() as tx:
        emit(tx, lead_events(150))
    errors: list[BaseException] = []

    def run(service: Sfa) -> None:
        try:
            for _ in range(5):
                service.dispatch_pending()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(counting.delivered) == 150
    assert set(counting.delivered.values()) == {1}
