"""Standing orders through the service and the exactly-once scheduler: the light-bulb
customer of the first seed, catch-up after an outage, skips, pauses, line changes, and
concurrent runs in threads and processes that never create an occurrence twice."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import sfakit
from sfakit import ManualClock, Sfa, ValidationError
from sfakit.events import OccurrenceSkipped
from sfakit.model import (
    Account,
    CatchUpPolicy,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    PricingPolicy,
    Product,
    RecurrenceSpec,
    StandingOrder,
)
from sfakit.recurrence import Schedule, due_occurrences

BERLIN = ZoneInfo("Europe/Berlin")
JAN_31 = datetime(2026, 1, 31, 8, 0, tzinfo=BERLIN)


def _bulbs(sfa: Sfa, **fields: object) -> StandingOrder:
    acme = sfa.create(Account, name="Brightside Hotels")
    bulb = sfa.create(Product, sku="LED-9W", name="LED bulb", unit_price=Money.of("1.20", "EUR"))
    options: dict[str, object] = {
        "account_id": acme.id,
        "currency": "EUR",
        "lines": [OrderLine(product_id=bulb.id, quantity=1000, unit_price=bulb.unit_price)],
        "schedule": RecurrenceSpec(
            rule="FREQ=MONTHLY;INTERVAL=2", start=JAN_31, timezone="Europe/Berlin"
        ),
    }
    options.update(fields)
    return sfa.create_standing_order(**options)


def _orders(sfa: Sfa) -> list[Order]:
    return sorted(sfa.query(Order, limit=1000).items, key=lambda o: o.occurrence_key or "")


def _local_dates(sfa: Sfa) -> list[str]:
    return [(o.occurrence_key or "").split(":")[1] for o in _orders(sfa)]


def _skips(sfa: Sfa) -> list[tuple[str, str]]:
    return [
        (e.local_date.isoformat(), e.reason)
        for _, e in sfa.events(limit=10_000)
        if isinstance(e, OccurrenceSkipped)
    ]


def test_the_light_bulb_customer_gets_an_order_every_two_months_kept_to_the_month_end(
    sfa: Sfa, clock: ManualClock
) -> None:
    standing = _bulbs(sfa)
    assert standing.next_due_at == JAN_31
    assert sfa.run_due(datetime(2026, 1, 31, 6, 59, tzinfo=UTC)).handled == 0  # not due yet
    report = sfa.run_due(datetime(2026, 1, 31, 7, 0, tzinfo=UTC))  # 08:00 in Berlin
    assert (len(report.created), report.handled) == (1, 1)
    moments = [datetime(2026, m, d, 12, tzinfo=UTC) for m, d in ((3, 31), (5, 31), (7, 31))]
    for moment in moments:
        sfa.run_due(moment)
    assert _local_dates(sfa) == ["2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31"]
    first = _orders(sfa)[0]
    assert first.total == Money.of("1200", "EUR")
    # Each order was placed and, on account terms, confirmed.
    assert {o.status for o in _orders(sfa)} == {OrderStatus.ON_ACCOUNT}
    assert len({o.confirmation_number for o in _orders(sfa)}) == 4
    assert first.standing_order_id == standing.id
    # Running again at the same moment creates nothing more.
    assert sfa.run_due(moments[-1]).created == ()
    assert len(_orders(sfa)) == 4
    assert sfa.get(StandingOrder, standing.id).next_due_at == datetime(
        2026, 9, 30, 8, tzinfo=BERLIN
    )


@pytest.mark.parametrize(
    ("policy", "created", "skipped"),
    [
        (CatchUpPolicy.ALL, ["2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31"], []),
        (
            # The latest missed one (May) is created; July is on time.
            CatchUpPolicy.LATEST,
            ["2026-05-31", "2026-07-31"],
            [("2026-01-31", "catch_up_latest"), ("2026-03-31", "catch_up_latest")],
        ),
        (
            CatchUpPolicy.NONE,
            ["2026-07-31"],
            [
                ("2026-01-31", "catch_up_none"),
                ("2026-03-31", "catch_up_none"),
                ("2026-05-31", "catch_up_none"),
            ],
        ),
    ],
)
def test_missed_occurrences_follow_the_catch_up_policy_and_every_skip_is_recorded(
    sfa: Sfa, policy: CatchUpPolicy, created: list[str], skipped: list[tuple[str, str]]
) -> None:
    _bulbs(sfa, catch_up=policy)
    # The scheduler was down from January to the end of July.
    sfa.run_due(datetime(2026, 7, 31, 10, tzinfo=UTC))
    assert _local_dates(sfa) == created
    assert _skips(sfa) == skipped


def test_end_dates_skips_pauses_and_line_changes(sfa: Sfa) -> None:
    standing = _bulbs(sfa, ends_on=date(2026, 12, 31))
    sfa.run_due(datetime(2026, 1, 31, 12, tzinfo=UTC))
    version = sfa.get(StandingOrder, standing.id).version
    skipped = sfa.skip_next_occurrence(standing.id, expected_version=version)
    assert skipped == date(2026, 3, 31)
    standing = sfa.get(StandingOrder, standing.id)
    fewer = [attrs_line(standing.lines[0], quantity=500)]
    standing = sfa.change_standing_order_lines(
        standing.id, fewer, effective_from=date(2026, 5, 1), expected_version=standing.version
    )
    standing = sfa.pause_standing_order(
        standing.id,
        start=date(2026, 7, 1),
        end=date(2026, 8, 31),
        reason="renovation",
        expected_version=standing.version,
    )
    sfa.run_due(datetime(2027, 3, 1, tzinfo=UTC))
    assert _local_dates(sfa) == ["2026-01-31", "2026-05-31", "2026-09-30", "2026-11-30"]
    quantities = [o.lines[0].quantity for o in _orders(sfa)]
    assert quantities == [1000, 500, 500, 500]  # the January order kept its lines
    assert _skips(sfa) == [
        ("2026-03-31", "skipped_by_request"),
        ("2026-07-31", "paused"),
        ("2027-01-31", "after_end_date"),
    ]
    final = sfa.get(StandingOrder, standing.id)
    assert final.next_due_at is None  # nothing left on or before the end date
    with pytest.raises(ValidationError, match="effective_from"):
        sfa.change_standing_order_lines(
            final.id, fewer, effective_from=date(2026, 6, 1), expected_version=final.version
        )


def test_an_open_pause_skips_until_resumed_and_cancelling_stops_everything(sfa: Sfa) -> None:
    standing = _bulbs(sfa)
    standing = sfa.pause_standing_order(
        standing.id, start=date(2026, 1, 1), expected_version=standing.version
    )
    sfa.run_due(datetime(2026, 4, 1, tzinfo=UTC))
    assert _local_dates(sfa) == []
    assert _skips(sfa) == [("2026-01-31", "paused"), ("2026-03-31", "paused")]
    standing = sfa.get(StandingOrder, standing.id)
    standing = sfa.resume_standing_order(
        standing.id, on=date(2026, 5, 1), expected_version=standing.version
    )
    sfa.run_due(datetime(2026, 6, 1, tzinfo=UTC))
    assert _local_dates(sfa) == ["2026-05-31"]
    current = sfa.get(StandingOrder, standing.id)
    sfa.cancel_standing_order(standing.id, expected_version=current.version)
    assert sfa.run_due(datetime(2027, 6, 1, tzinfo=UTC)).handled == 0
    assert _local_dates(sfa) == ["2026-05-31"]


def test_price_at_occurrence_takes_the_products_price_on_the_day(sfa: Sfa) -> None:
    standing = _bulbs(sfa, pricing=PricingPolicy.AT_OCCURRENCE)
    sfa.run_due(datetime(2026, 2, 1, tzinfo=UTC))
    bulb = sfa.get(Product, standing.lines[0].product_id)
    sfa.save(bulb.evolve(unit_price=Money.of("1.10", "EUR")))
    sfa.run_due(datetime(2026, 4, 1, tzinfo=UTC))
    assert [o.total for o in _orders(sfa)] == [Money.of("1200", "EUR"), Money.of("1100", "EUR")]


def attrs_line(line: OrderLine, **changes: object) -> OrderLine:
    import attrs

    return attrs.evolve(line, **changes)


def test_bad_input_is_a_validation_error(sfa: Sfa) -> None:
    with pytest.raises(ValidationError, match=r"\$\.now"):
        sfa.run_due(datetime(2026, 1, 1))  # naive
    with pytest.raises(ValidationError, match=r"\$\.batch"):
        sfa.run_due(datetime(2026, 1, 1, tzinfo=UTC), batch=0)


# -- exactly once under concurrency -------------------------------------------------------

ORDERS = 150
RUN_AT = datetime(2026, 8, 1, tzinfo=UTC)


def _many(url: str) -> int:
    """Standing orders with various schedules; returns how many orders are due at RUN_AT."""
    rules = [
        "FREQ=MONTHLY",
        "FREQ=WEEKLY;BYDAY=MO,TH",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "FREQ=DAILY;INTERVAL=9",
    ]
    expected = 0
    with sfakit.open(
        url, clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC)), load_entry_points=False
    ) as sfa:
        acme = sfa.create(Account, name="Acme")
        bulb = sfa.create(Product, sku="B", name="Bulb", unit_price=Money.of("1", "EUR"))
        line = OrderLine(product_id=bulb.id, quantity=10, unit_price=bulb.unit_price)
        for n in range(ORDERS):
            spec = RecurrenceSpec(
                rule=rules[n % len(rules)],
                start=datetime(2026, 1, 1 + n % 28, 6 + n % 12, tzinfo=BERLIN),
                timezone="Europe/Berlin",
            )
            sfa.create_standing_order(
                account_id=acme.id, currency="EUR", lines=[line], schedule=spec
            )
            schedule = Schedule.from_spec(spec)
            plan = due_occurrences(
                schedule,
                owner_key="x",
                since=schedule.dtstart,
                until=RUN_AT + timedelta(microseconds=1),
                catch_up=CatchUpPolicy.ALL,
            )
            expected += len(plan.to_create)
    return expected


def _run(url: str, batch: int) -> None:
    with sfakit.open(url, clock=ManualClock(RUN_AT), load_entry_points=False) as sfa:
        sfa.run_due(RUN_AT, batch=batch)


def _check(url: str, expected: int) -> None:
    with sfakit.open(url, clock=ManualClock(RUN_AT), load_entry_points=False) as sfa:
        orders = _every_order(sfa)
        keys = Counter(o.occurrence_key for o in orders)
        assert len(orders) == expected
        assert max(keys.values()) == 1
        with sfa.transaction(readonly=True) as tx:
            assert (
                tx.count(StandingOrder, where={"next_due_at": sfakit.storage.Range(None, RUN_AT)})
                == 0
            )


def _wait_for_first_orders(url: str) -> None:
    deadline = time.monotonic() + 120
    with sfakit.open(url, clock=ManualClock(RUN_AT), load_entry_points=False) as sfa:
        while time.monotonic() < deadline:
            with sfa.transaction(readonly=True) as tx:
                if tx.count(Order) > 0:
                    return
            time.sleep(0.02)
    raise AssertionError("no worker created an order in two minutes")


def _every_order(sfa: Sfa) -> list[Order]:
    from sfakit.storage.common import every_page

    with sfa.transaction(readonly=True) as tx:
        return every_page(tx, Order)


def test_concurrent_threads_create_each_occurrence_once(storage_url: str) -> None:
    expected = _many(storage_url)
    threads = [threading.Thread(target=_run, args=(storage_url, b)) for b in (1, 7, 25, 100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    _check(storage_url, expected)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_processes_killed_and_restarted_create_each_occurrence_once(
    backend: str, request: pytest.FixtureRequest
) -> None:
    make: Callable[[], str] = request.getfixturevalue(
        "sqlite_urls" if backend == "sqlite" else "postgres_schemas"
    )
    url = make()
    expected = _many(url)
    context = multiprocessing.get_context("spawn")
    first = [context.Process(target=_run, args=(url, b)) for b in (1, 3, 5, 8, 13, 21, 34, 55)]
    for p in first:
        p.start()
    _wait_for_first_orders(url)
    for p in first[::2]:  # kill half of them in the middle of their run
        p.kill()
    for p in first:
        p.join(timeout=300)
    again = [context.Process(target=_run, args=(url, b)) for b in (2, 50)]
    for p in again:
        p.start()
    for p in again:
        p.join(timeout=300)
        assert p.exitcode == 0
    _check(url, expected)


SCALE = 10_000
SCALE_RUN_AT = datetime(2026, 2, 1, 12, tzinfo=UTC)


def _ten_thousand(url: str) -> int:
    """10k standing orders, each due once by SCALE_RUN_AT; stored in one batch."""
    start = datetime(2026, 1, 2, tzinfo=UTC)
    with sfakit.open(url, clock=ManualClock(start), load_entry_points=False) as sfa:
        accounts = [Account(name=f"Customer {n}", created_at=start) for n in range(SCALE // 20)]
        line = OrderLine(product_id="prod_bulb", quantity=10, unit_price=Money.of("1", "EUR"))
        standing = []
        for n in range(SCALE):
            first = datetime(2026, 1, 5 + n % 25, 6 + n % 12, tzinfo=BERLIN)
            spec = RecurrenceSpec(
                rule="FREQ=MONTHLY;INTERVAL=2" if n % 2 else "FREQ=MONTHLY",
                start=first,
                timezone="Europe/Berlin",
            )
            standing.append(
                StandingOrder(
                    account_id=accounts[n % len(accounts)].id,
                    currency="EUR",
                    lines=[line],
                    schedule=spec,
                    next_due_at=first,
                    created_at=start,
                )
            )
        with sfa.transaction() as tx:
            tx.insert_many(accounts)
            tx.insert_many(standing)
    return SCALE  # every schedule has exactly one occurrence in January


def _run_scale(url: str, batch: int) -> None:
    with sfakit.open(url, clock=ManualClock(SCALE_RUN_AT), load_entry_points=False) as sfa:
        sfa.run_due(SCALE_RUN_AT, batch=batch)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_eight_processes_over_ten_thousand_standing_orders_order_each_occurrence_once(
    backend: str, request: pytest.FixtureRequest
) -> None:
    make: Callable[[], str] = request.getfixturevalue(
        "sqlite_urls" if backend == "sqlite" else "postgres_schemas"
    )
    url = make()
    expected = _ten_thousand(url)
    context = multiprocessing.get_context("spawn")
    batches = (100, 100, 50, 200, 100, 25, 100, 400)
    workers = [context.Process(target=_run_scale, args=(url, b)) for b in batches]
    for p in workers:
        p.start()
    _wait_for_first_orders(url)
    time.sleep(0.5)
    for p in workers[1::3]:  # kill some mid-run
        p.kill()
    for p in workers:
        p.join(timeout=600)
    restarted = [context.Process(target=_run_scale, args=(url, 100)) for _ in range(2)]
    for p in restarted:
        p.start()
    for p in restarted:
        p.join(timeout=600)
        assert p.exitcode == 0
    with sfakit.open(url, clock=ManualClock(SCALE_RUN_AT), load_entry_points=False) as sfa:
        orders = _every_order(sfa)
        assert len(orders) == expected
        assert len({o.occurrence_key for o in orders}) == expected
        assert {o.status for o in orders} == {OrderStatus.ON_ACCOUNT}  # each one placed
