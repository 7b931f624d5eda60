"""Reminders and follow-ups as rules through the service: each made once, due at a
working hour in the owner's zone; the reps' calendar; completing an activity logs an
interaction."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit import ManualClock, Sfa, ValidationError
from sfakit.codec import from_data, to_data
from sfakit.events import CustomerFollowUp, ReminderDue, TaskCreated
from sfakit.model import (
    Account,
    Activity,
    ActivityKind,
    ActivityStatus,
    Contact,
    Interaction,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    RecurrenceSpec,
    SalesRep,
    StandingOrder,
)
from sfakit.recurrence.followups import (
    FollowUpAction,
    FollowUpKind,
    FollowUpRule,
    FollowUpRules,
    working_moment,
)

BERLIN = ZoneInfo("Europe/Berlin")


def _setup(sfa: Sfa) -> tuple[Account, Product]:
    sfa.create(SalesRep, id="rep_anna", name="Anna", timezone="Europe/Berlin", email="a@x.de")
    acme = sfa.create(Account, name="Brightside", owner_id="rep_anna")
    sfa.create(Contact, last_name="Buyer", account_id=acme.id, emails=("buyer@brightside.example",))
    bulb = sfa.create(Product, sku="LED", name="Bulb", unit_price=Money.of("1.20", "EUR"))
    return acme, bulb


def _events(sfa: Sfa, kind: type) -> list:  # type: ignore[type-arg]
    return [e for _, e in sfa.events(limit=10_000) if isinstance(e, kind)]


def test_a_reorder_call_is_due_five_days_before_the_next_occurrence_once(sfa: Sfa) -> None:
    acme, bulb = _setup(sfa)
    sfa.create_standing_order(
        account_id=acme.id,
        currency="EUR",
        lines=[OrderLine(product_id=bulb.id, quantity=1000, unit_price=bulb.unit_price)],
        schedule=RecurrenceSpec(
            rule="FREQ=MONTHLY;INTERVAL=2",
            start=datetime(2026, 3, 31, 8, tzinfo=BERLIN),
            timezone="Europe/Berlin",
        ),
    )
    rule = FollowUpRule(
        key="reorder-call",
        kind=FollowUpKind.BEFORE_OCCURRENCE,
        days=5,
        subject="Call {account} about the order of {date}",
    )
    sfa.set_follow_up_rules(FollowUpRules(rules=[rule]), expected_version=None)
    assert sfa.run_follow_ups(datetime(2026, 3, 20, tzinfo=UTC)).tasks == ()  # too early
    first = sfa.run_follow_ups(datetime(2026, 3, 26, 6, tzinfo=UTC))
    [task_id] = first.tasks
    task = sfa.get(Activity, task_id)
    assert task.subject == "Call Brightside about the order of 2026-03-31"
    assert task.owner_id == "rep_anna"  # the account's owner
    assert task.due_at == datetime(2026, 3, 26, 9, tzinfo=BERLIN)
    again = sfa.run_follow_ups(datetime(2026, 3, 27, 6, tzinfo=UTC))
    assert (again.tasks, again.already) == ((), ("reorder-call:" + first_key(sfa),))
    assert [e.activity_id for e in _events(sfa, TaskCreated)] == [task_id]


def first_key(sfa: Sfa) -> str:
    [standing] = sfa.query(StandingOrder).items
    return f"{standing.id}:2026-03-31"


def test_delivery_follow_up_and_dormant_accounts_email_the_customer(sfa: Sfa) -> None:
    acme, bulb = _setup(sfa)
    line = OrderLine(product_id=bulb.id, quantity=10, unit_price=bulb.unit_price)
    delivered_at = datetime(2026, 3, 2, 15, tzinfo=UTC)
    order = sfa.insert(
        Order(
            account_id=acme.id,
            currency="EUR",
            lines=[line],
            status=OrderStatus.DELIVERED,
            placed_at=delivered_at - timedelta(days=3),
            shipped_at=delivered_at - timedelta(days=1),
            delivered_at=delivered_at,
            created_at=delivered_at - timedelta(days=3),
        )
    )
    rules = FollowUpRules(
        rules=[
            FollowUpRule(
                key="how-was-it",
                kind=FollowUpKind.AFTER_DELIVERY,
                days=3,
                subject="How was your delivery of {date}?",
                action=FollowUpAction.TASK_AND_EMAIL,
            ),
            FollowUpRule(
                key="dormant",
                kind=FollowUpKind.NO_ORDER_SINCE,
                days=182,
                subject="We miss you at {account}",
                action=FollowUpAction.EMAIL,
            ),
        ]
    )
    sfa.set_follow_up_rules(rules, expected_version=None)
    report = sfa.run_follow_ups(datetime(2026, 3, 5, 10, tzinfo=UTC))
    assert report.emails == (f"how-was-it:{order.id}",)
    assert len(report.tasks) == 1
    [email] = _events(sfa, CustomerFollowUp)
    assert (email.contact_email, email.rule, email.related_to) == (
        "buyer@brightside.example",
        "how-was-it",
        order.id,
    )
    # The account has not ordered for six months (it never did since its creation).
    later = sfa.run_follow_ups(datetime(2026, 9, 5, 10, tzinfo=UTC))
    assert later.emails == (f"dormant:{acme.id}:2026-03-02",)
    assert sfa.run_follow_ups(datetime(2026, 9, 6, 10, tzinfo=UTC)).emails == ()


def test_an_idle_opportunity_gets_a_task_and_reminders_come_once(
    sfa: Sfa, clock: ManualClock
) -> None:
    acme, _ = _setup(sfa)
    deal = sfa.open_opportunity(name="Bulbs", account_id=acme.id, owner_id="rep_anna")
    rule = FollowUpRule(
        key="idle", kind=FollowUpKind.OPPORTUNITY_IDLE, days=14, subject="Nudge {record}"
    )
    sfa.set_follow_up_rules(FollowUpRules(rules=[rule]), expected_version=None)
    assert sfa.run_follow_ups(clock.now() + timedelta(days=10)).tasks == ()
    report = sfa.run_follow_ups(clock.now() + timedelta(days=15))
    [task_id] = report.tasks
    assert sfa.get(Activity, task_id).related_to == deal.id
    reminded = sfa.send_due_reminders(clock.now() + timedelta(days=16))
    assert reminded == (task_id,)
    assert sfa.send_due_reminders(clock.now() + timedelta(days=17)) == ()
    [reminder] = _events(sfa, ReminderDue)
    assert reminder.owner_email == "a@x.de"


def test_the_calendar_and_completing_an_activity_log_an_interaction(
    sfa: Sfa, clock: ManualClock
) -> None:
    acme, _ = _setup(sfa)
    now = clock.now()
    made = [
        sfa.insert(
            Activity(
                kind=ActivityKind.CALL,
                subject=f"Call {n}",
                owner_id="rep_anna",
                account_id=acme.id,
                due_at=now + timedelta(days=n),
                created_at=now,
            )
        )
        for n in (-2, 1, 3)
    ]
    done, logged = sfa.complete_activity(made[1].id, expected_version=1, outcome="ordered more")
    assert done.status is ActivityStatus.DONE
    assert done.completed_at == now
    assert isinstance(logged, Interaction)
    assert logged.account_id == acme.id
    assert sfa.get(Account, acme.id).last_interaction_at == now
    week = sfa.calendar("rep_anna", now - timedelta(days=7), now + timedelta(days=7))
    assert [a.subject for a in week.overdue] == ["Call -2"]
    assert [a.subject for a in week.due] == ["Call 3"]
    assert [a.subject for a in week.done] == ["Call 1"]
    with pytest.raises(ValidationError, match="open activity"):
        sfa.complete_activity(made[1].id, expected_version=2, outcome="again")


def test_run_due_runs_the_follow_up_rules_too(sfa: Sfa) -> None:
    _setup(sfa)
    rule = FollowUpRule(
        key="dormant", kind=FollowUpKind.NO_ORDER_SINCE, days=30, subject="Call {account}"
    )
    sfa.set_follow_up_rules(FollowUpRules(rules=[rule]), expected_version=None)
    report = sfa.run_due(datetime(2026, 5, 1, tzinfo=UTC))
    [task_id] = report.follow_ups.tasks
    # The task was due on 1 April (30 days after the account was made): remind at once.
    assert report.reminders == (task_id,)
    assert sfa.run_due(datetime(2026, 5, 2, tzinfo=UTC)).reminders == ()


def test_rules_are_data_and_bad_rules_name_the_field() -> None:
    rules = FollowUpRules(
        rules=[
            FollowUpRule(key="a", kind=FollowUpKind.AFTER_DELIVERY, days=2, subject="Hi {date}"),
            FollowUpRule(
                key="b",
                kind=FollowUpKind.NO_ORDER_SINCE,
                days=182,
                subject="Miss you",
                action=FollowUpAction.EMAIL,
                working_days=(0, 2, 4),
            ),
        ]
    )
    assert from_data(FollowUpRules, to_data(rules)) == rules
    with pytest.raises(ValidationError, match=r"\$\.subject"):
        FollowUpRule(key="c", kind=FollowUpKind.AFTER_DELIVERY, days=1, subject="{customer}")
    with pytest.raises(ValidationError, match=r"\$\.rules\[1\]\.key"):
        FollowUpRules(rules=[rules.rules[0], rules.rules[0]])
    with pytest.raises(ValidationError, match=r"\$\.hour"):
        FollowUpRule(key="d", kind=FollowUpKind.AFTER_DELIVERY, days=1, subject="x", hour=24)


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(date(2020, 1, 1), date(2035, 12, 31)),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Tokyo", None]),
    hour=st.integers(0, 23),
    working=st.sets(st.integers(0, 6), min_size=1).map(sorted),
)
def test_a_working_moment_is_the_first_working_day_on_or_after_at_the_hour(
    day: date, zone: str | None, hour: int, working: list[int]
) -> None:
    moment = working_moment(day, zone, hour, working)
    local = moment.astimezone(ZoneInfo(zone or "UTC"))
    assert local.date() >= day
    assert local.weekday() in working
    assert (local.date() - day).days < 7
    skipped = range((local.date() - day).days)
    assert all((day + timedelta(days=n)).weekday() not in working for n in skipped)


def test_concurrent_follow_up_runs_make_each_follow_up_once(storage_url: str) -> None:
    import threading

    import sfakit

    clock = ManualClock(datetime(2026, 1, 5, tzinfo=UTC))
    with sfakit.open(storage_url, clock=clock, load_entry_points=False) as sfa:
        sfa.create(SalesRep, id="rep_anna", name="Anna", timezone="Europe/Berlin")
        for n in range(30):
            sfa.create(Account, name=f"Customer {n}", owner_id="rep_anna")
        rule = FollowUpRule(
            key="dormant", kind=FollowUpKind.NO_ORDER_SINCE, days=30, subject="Call {account}"
        )
        sfa.set_follow_up_rules(FollowUpRules(rules=[rule]), expected_version=None)
    moment = datetime(2026, 3, 1, tzinfo=UTC)

    def run() -> None:
        with sfakit.open(storage_url, clock=ManualClock(moment), load_entry_points=False) as s:
            s.run_follow_ups(moment)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    with sfakit.open(storage_url, clock=ManualClock(moment), load_entry_points=False) as sfa:
        tasks = sfa.query(Activity, limit=1000).items
        assert len(tasks) == 30
        assert len({t.account_id for t in tasks}) == 30
        assert len(_events(sfa, TaskCreated)) == 30
