"""Runs that look only at what changed since the last run make exactly the follow-ups and
reminders that runs looking at the whole book make, whatever happens in between."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

import sfakit
from sfakit import ManualClock, Sfa
from sfakit.events import CustomerFollowUp, OrderPlaced, ReminderDue, TaskCreated
from sfakit.model import (
    Account,
    Activity,
    ActivityKind,
    Money,
    Opportunity,
    OrderLine,
    Product,
    RecurrenceSpec,
    SalesRep,
    Setting,
    StandingOrder,
)
from sfakit.model import setting_id as id_of_setting
from sfakit.recurrence.followups import FollowUpAction, FollowUpKind, FollowUpRule, FollowUpRules
from sfakit.service.progress import FOLLOW_UP_PROGRESS, REMINDER_PROGRESS

T0 = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
RULES = FollowUpRules(
    rules=[
        FollowUpRule(
            key="quiet",
            kind=FollowUpKind.NO_ORDER_SINCE,
            days=20,
            action=FollowUpAction.TASK_AND_EMAIL,
            subject="{account}: {days} days",
        ),
        FollowUpRule(key="idle", kind=FollowUpKind.OPPORTUNITY_IDLE, days=7, subject="{record}"),
        FollowUpRule(
            key="reorder",
            kind=FollowUpKind.BEFORE_OCCURRENCE,
            days=2,
            subject="{account} orders on {date}",
        ),
    ]
)
RHYTHMS = ("FREQ=WEEKLY", "FREQ=MONTHLY;BYMONTHDAY=-1", "FREQ=DAILY;INTERVAL=3")
ZONES = ("Europe/Berlin", "Pacific/Auckland", "America/Los_Angeles")

# One change between runs: (what, which record, hours to wait before the next run).
changes = st.tuples(
    st.sampled_from(["order", "activity", "owner", "move", "nothing", "new_account", "skip"]),
    st.integers(min_value=0, max_value=5),
    st.integers(min_value=1, max_value=24 * 9),
)


def _book(sfa: Sfa, clock: ManualClock, ages: list[int]) -> None:
    for n, zone in enumerate(ZONES):
        sfa.create(SalesRep, id=f"rep_{n}", name=f"Rep {n}", timezone=zone)
    sfa.set_follow_up_rules(RULES, expected_version=None)
    sfa.insert(
        Product(
            id="prod_bulb",
            sku="LED",
            name="Bulb",
            unit_price=Money.of("1.20", "EUR"),
            created_at=T0 - timedelta(days=400),
        )
    )
    for n, age in enumerate(ages):
        created = T0 - timedelta(hours=age)
        owner = None if n % 4 == 3 else f"rep_{n % 3}"
        sfa.insert(Account(id=f"acct_{n}", name=f"Account {n}", owner_id=owner, created_at=created))
        sfa.insert(
            Opportunity(
                id=f"opp_{n}",
                name=f"Deal {n}",
                account_id=f"acct_{n}",
                pipeline="standard",
                stage="qualify",
                owner_id=owner,
                created_at=created,
            )
        )
    for n, rhythm in enumerate(RHYTHMS):
        sfa.create_standing_order(
            id=f"stdo_{n}",
            account_id=f"acct_{n}",
            currency="EUR",
            lines=[
                OrderLine(product_id="prod_bulb", quantity=10, unit_price=Money.of("1.20", "EUR"))
            ],
            schedule=RecurrenceSpec(rule=rhythm, start=T0 + timedelta(days=n), timezone=ZONES[n]),
            created_at=T0 - timedelta(days=1),
        )


def _apply(sfa: Sfa, clock: ManualClock, change: tuple[str, int, int], step: int) -> None:
    what, n, _ = change
    account_id, deal_id = f"acct_{n % 6}", f"opp_{n % 6}"
    now = clock.now()
    if what == "order":
        found = sfa.get(Account, account_id)
        sfa.update(Account, account_id, expected_version=found.version, last_order_at=now)
    elif what == "activity":
        sfa.insert(
            Activity(
                id=f"actv_{step}",
                kind=ActivityKind.CALL,
                subject="called",
                owner_id="rep_0",
                related_to=deal_id,
                due_at=now + timedelta(hours=3),
                reminder_at=now - timedelta(days=3),  # set late: a reminder already due
                created_at=now,
            )
        )
    elif what == "owner":
        for kind, record_id in ((Account, account_id), (Opportunity, deal_id)):
            found = sfa.get(kind, record_id)
            sfa.update(kind, record_id, expected_version=found.version, owner_id="rep_2")
    elif what == "move":
        found = sfa.get(Opportunity, deal_id)
        if found.stage == "qualify":
            sfa.update(Opportunity, deal_id, expected_version=found.version, stage="propose")
    elif what == "skip":
        found = sfa.get(StandingOrder, f"stdo_{n % len(RHYTHMS)}")
        sfa.skip_next_occurrence(found.id, expected_version=found.version)
    elif what == "new_account":
        sfa.insert(
            Account(
                id=f"acct_new{step}",
                name=f"New {step}",
                owner_id="rep_1",
                created_at=now - timedelta(days=25),  # imported with an old creation date
            )
        )


def _forget(sfa: Sfa) -> None:
    with sfa.transaction() as tx:
        for name in (FOLLOW_UP_PROGRESS, REMINDER_PROGRESS):
            found = tx.find(Setting, id_of_setting(name))
            if found is not None:
                tx.delete(Setting, found.id, expected_version=found.version, at=found.updated_at)


def _made(sfa: Sfa) -> Counter[tuple[object, ...]]:
    made: Counter[tuple[object, ...]] = Counter()
    for _, event in sfa.events(limit=100_000):
        if isinstance(event, TaskCreated):
            made[("task", event.owner_id, event.subject, event.due_at)] += 1
        elif isinstance(event, CustomerFollowUp):
            made[("email", event.account_id, event.subject)] += 1
        elif isinstance(event, OrderPlaced):
            made[("order", event.account_id)] += 1
        elif isinstance(event, ReminderDue):
            made[("reminder", event.owner_id, event.subject, event.due_at)] += 1
    return made


@settings(max_examples=40, deadline=None)
@given(
    ages=st.lists(st.integers(min_value=0, max_value=24 * 40), min_size=6, max_size=6),
    steps=st.lists(changes, min_size=1, max_size=12),
)
def test_looking_only_at_changes_makes_what_looking_at_everything_makes(
    ages: list[int], steps: list[tuple[str, int, int]]
) -> None:
    books = []
    for name in ("incremental", "full"):
        clock = ManualClock(T0)
        sfa = sfakit.open(f"memory://{name}-{uuid.uuid4().hex}", clock=clock)
        _book(sfa, clock, ages)
        books.append((sfa, clock))
    (incremental, inc_clock), (full, full_clock) = books
    with incremental, full:
        for step, change in enumerate(steps):
            for sfa, clock in books:
                _apply(sfa, clock, change, step)
                clock.advance(timedelta(hours=change[2]))
            _forget(full)
            for sfa, _ in books:
                sfa.run_due()  # orders (moving next occurrences), follow-ups, reminders
            assert _made(incremental) == _made(full)
        assert inc_clock.now() == full_clock.now()


def test_records_a_run_could_not_see_by_its_window_are_still_followed_up() -> None:
    clock = ManualClock(T0)
    with sfakit.open(f"memory://late-{uuid.uuid4().hex}", clock=clock) as sfa:
        _book(sfa, clock, [24 * 30, 24 * 30, 24 * 30, 24 * 30])  # acct_3 has no owner
        first = sfa.run_follow_ups()
        assert len(first.emails) == 4  # every account has been quiet for 30 days
        [unowned] = first.unowned  # opp_3 is idle, but nobody owns it to get the task
        assert unowned.startswith("idle:opp_3:")
        assert set(sfa.send_due_reminders()) <= set(first.tasks)
        clock.advance(timedelta(days=5))
        # An account imported with an old creation date, an owner for the unowned deal,
        # and a task whose reminder was set in the past: all outside the window of
        # deciding moments since the last run.
        _apply(sfa, clock, ("new_account", 0, 0), step=1)
        _apply(sfa, clock, ("owner", 3, 0), step=2)
        _apply(sfa, clock, ("activity", 1, 0), step=3)
        clock.advance(timedelta(hours=1))
        second = sfa.run_follow_ups()
        # acct_3's new owner works in another zone: still the same episode, no new email.
        assert [k.split(":")[1] for k in second.emails] == ["acct_new1"]
        # opp_3 was touched by getting an owner: it is not idle any more.
        related = {sfa.get(Activity, task_id).related_to for task_id in second.tasks}
        assert related == {"acct_new1"}
        sent = sfa.send_due_reminders()
        assert "actv_3" in sent  # its reminder was set three days in the past
        assert set(sent) <= {"actv_3", *first.tasks, *second.tasks}
        assert sfa.run_follow_ups().tasks == ()
        assert sfa.send_due_reminders() == ()
