"""Reminders, follow-ups and the reps' activity calendar, through the service.

The follow-up rules are the setting ``follow-up-rules`` (a
:class:`~sfakit.recurrence.FollowUpRules`). :meth:`FollowUps.run_follow_ups` gathers
each rule's candidates from storage, lets the pure rules decide, and creates each
follow-up once: its key is claimed (``Transaction.claim_key``) in the transaction that
creates the task (with ``TaskCreated``) and/or the customer email
(``CustomerFollowUp``), so two runs — or a run after a crash — never create it twice.
:meth:`FollowUps.send_due_reminders` emits ``ReminderDue`` once per activity whose
``reminder_at`` has come. Completing an activity logs an interaction in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Final

import attrs

from sfakit.errors import ConflictError, DuplicateError, NotFoundError, ValidationError
from sfakit.events import CustomerFollowUp, Event, ReminderDue, TaskCreated
from sfakit.model import (
    Account,
    AccountId,
    Activity,
    ActivityStatus,
    Channel,
    Contact,
    Interaction,
    Opportunity,
    Order,
    OrderStatus,
    SalesRep,
    SalesRepId,
    StandingOrder,
    StandingOrderStatus,
)
from sfakit.pipeline import PipelineSet
from sfakit.recurrence import Schedule
from sfakit.recurrence.followups import (
    FollowUp,
    FollowUpKind,
    FollowUpRule,
    FollowUpRules,
    after_delivery,
    before_occurrence,
    idle_opportunities,
    no_order_since,
)
from sfakit.service.interactions import record_interaction
from sfakit.service.outbox import emit
from sfakit.storage.api import In, IsNull, Range, Storage, Transaction
from sfakit.storage.common import every_page

__all__ = ["FOLLOW_UP_RULES", "FollowUpReport", "FollowUps", "RepCalendar"]

#: The setting that holds the follow-up rules.
FOLLOW_UP_RULES: Final = "follow-up-rules"
_KEYS: Final = "follow-up"
_REMINDERS: Final = "reminder"


@attrs.frozen
class FollowUpReport:
    """What a follow-up run did: tasks created (activity ids), customer emails emitted
    (follow-up keys), follow-ups already made before (keys), and follow-ups that could
    make no task because nobody owns the record (keys)."""

    tasks: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    already: tuple[str, ...] = ()
    unowned: tuple[str, ...] = ()


@attrs.frozen
class RepCalendar:
    """A rep's activities in a time range: ``due`` (open, due at or after now),
    ``overdue`` (open, due before now) and ``done``, each by due time."""

    rep_id: str
    due: tuple[Activity, ...]
    overdue: tuple[Activity, ...]
    done: tuple[Activity, ...]


class FollowUps:
    """Mixed into :class:`~sfakit.Sfa`; needs ``storage``, ``pipelines``, ``now`` and the
    settings of the routing mixin."""

    storage: Storage
    pipelines: PipelineSet
    now: Callable[[], datetime]
    save_setting: Callable[..., int]
    setting: Callable[..., Any]

    # -- rules ----------------------------------------------------------------------

    def set_follow_up_rules(self, rules: FollowUpRules, *, expected_version: int | None) -> int:
        """Store the follow-up rules (None creates them; else the version read)."""
        if not isinstance(rules, FollowUpRules):
            raise ValidationError("$.rules", rules, "a FollowUpRules")
        version: int = self.save_setting(FOLLOW_UP_RULES, rules, expected_version=expected_version)
        return version

    def follow_up_rules(self) -> FollowUpRules:
        """The stored rules (none before :meth:`set_follow_up_rules`)."""
        try:
            rules: FollowUpRules = self.setting(FollowUpRules, FOLLOW_UP_RULES)[0]
        except NotFoundError:
            return FollowUpRules()
        return rules

    # -- running ----------------------------------------------------------------------

    def run_follow_ups(self, now: datetime | None = None) -> FollowUpReport:
        """Create every follow-up the stored rules call for at ``now``, each once."""
        moment = self.now() if now is None else now
        if moment.utcoffset() is None:
            raise ValidationError("$.now", now, "a timezone-aware datetime")
        report = FollowUpReport()
        for rule in self.follow_up_rules().rules:
            with self.storage.transaction(readonly=True) as tx:
                ups = self._decide(tx, rule, moment)
            for start in range(0, len(ups), 100):
                report = _merge(report, self._create(ups[start : start + 100], moment))
        return report

    def send_due_reminders(self, now: datetime | None = None) -> tuple[str, ...]:
        """Emit ``ReminderDue`` for each open activity whose ``reminder_at`` has come,
        once per activity; returns their ids."""
        moment = self.now() if now is None else now
        sent: list[str] = []
        with self.storage.transaction(readonly=True) as tx:
            due = every_page(
                tx,
                Activity,
                where={
                    "reminder_at": Range(None, moment + timedelta(microseconds=1)),
                    "status": ActivityStatus.OPEN,
                },
            )
        for activity in due:
            try:
                with self.storage.transaction() as tx:
                    tx.claim_key(_REMINDERS, activity.id, activity.id)
                    rep = tx.find(SalesRep, activity.owner_id)
                    emit(
                        tx,
                        [
                            ReminderDue(
                                activity_id=activity.id,
                                owner_id=activity.owner_id,
                                subject=activity.subject,
                                due_at=activity.due_at,
                                owner_email=rep.email if rep else None,
                                occurred_at=moment,
                            )
                        ],
                    )
                sent.append(activity.id)
            except DuplicateError:
                continue
        return tuple(sent)

    def _decide(self, tx: Transaction, rule: FollowUpRule, now: datetime) -> list[FollowUp]:
        reps = {rep.id: rep for rep in every_page(tx, SalesRep)}
        zones: dict[str, str | None] = {str(k): rep.timezone for k, rep in reps.items()}
        if rule.kind is FollowUpKind.BEFORE_OCCURRENCE:
            horizon = now + timedelta(days=rule.days + 2)
            standing = every_page(
                tx,
                StandingOrder,
                where={
                    "status": StandingOrderStatus.ACTIVE,
                    "next_due_at": Range(None, horizon),
                },
            )
            upcoming = []
            for repeat in standing:
                if repeat.next_due_at is None:
                    continue
                account = tx.find(Account, repeat.account_id)
                zone = Schedule.from_spec(repeat.schedule).zone
                upcoming.append(
                    (
                        repeat.id,
                        repeat.account_id,
                        account.name if account else None,
                        repeat.owner_id or (account.owner_id if account else None),
                        repeat.next_due_at.astimezone(zone).date(),
                    )
                )
            return before_occurrence(rule, upcoming, now=now, zones=zones)
        if rule.kind is FollowUpKind.AFTER_DELIVERY:
            orders = every_page(
                tx,
                Order,
                where={
                    "status": OrderStatus.DELIVERED,
                    "delivered_at": Range(None, now - timedelta(days=rule.days - 1)),
                },
            )
            delivered = []
            for order in orders:
                account = tx.find(Account, order.account_id)
                assert order.delivered_at is not None
                delivered.append(
                    (
                        order.id,
                        order.account_id,
                        account.name if account else None,
                        order.owner_id or (account.owner_id if account else None),
                        order.delivered_at,
                    )
                )
            return after_delivery(rule, delivered, now=now, zones=zones)
        if rule.kind is FollowUpKind.NO_ORDER_SINCE:
            cutoff = now - timedelta(days=rule.days - 1)
            quiet = every_page(tx, Account, where={"last_order_at": Range(None, cutoff)})
            never = every_page(
                tx, Account, where={"last_order_at": IsNull(), "created_at": Range(None, cutoff)}
            )
            accounts = [
                (a.id, a.name, a.owner_id, a.last_order_at or a.created_at) for a in quiet + never
            ]
            return no_order_since(rule, accounts, now=now, zones=zones)
        open_stages = tuple({s.key for p in self.pipelines.pipelines for s in p.open_stages})
        cutoff = now - timedelta(days=rule.days - 1)
        stale = every_page(
            tx,
            Opportunity,
            where={"stage": In(open_stages), "updated_at": Range(None, cutoff)},
        )
        touched = []
        for deal in stale:
            last = tx.query(
                Activity,
                where={"related_to": deal.id},
                order_by="updated_at",
                descending=True,
                limit=1,
            ).items
            moment = max([deal.updated_at, *(a.updated_at for a in last)])
            touched.append((deal.id, deal.account_id, deal.owner_id, moment))
        return idle_opportunities(rule, touched, now=now, zones=zones)

    def _create(self, ups: Iterable[FollowUp], now: datetime) -> FollowUpReport:
        tasks: list[str] = []
        emails: list[str] = []
        already: list[str] = []
        unowned: list[str] = []
        for up in ups:
            try:
                with self.storage.transaction() as tx:
                    events: list[Event] = []
                    task_id = "-"
                    if up.action.makes_task and up.owner_id is not None:
                        activity = tx.insert(
                            Activity(
                                kind=up.activity_kind,
                                subject=up.subject[:300],
                                owner_id=SalesRepId(up.owner_id),
                                due_at=up.due_at,
                                reminder_at=up.due_at,
                                account_id=None
                                if up.account_id is None
                                else AccountId(up.account_id),
                                related_to=up.related_to,
                                created_at=now,
                            )
                        )
                        task_id = activity.id
                        rep = tx.find(SalesRep, up.owner_id)
                        events.append(
                            TaskCreated(
                                activity_id=activity.id,
                                owner_id=up.owner_id,
                                subject=activity.subject,
                                due_at=activity.due_at,
                                owner_email=rep.email if rep else None,
                                occurred_at=now,
                            )
                        )
                    if up.action.sends_email and up.account_id is not None:
                        events.append(
                            CustomerFollowUp(
                                account_id=up.account_id,
                                rule=up.rule,
                                subject=up.subject,
                                related_to=up.related_to,
                                contact_email=_contact_email(tx, up.account_id),
                                occurred_at=now,
                            )
                        )
                    if not events:
                        unowned.append(up.key)  # retried once the record has an owner
                        continue
                    tx.claim_key(_KEYS, up.key, task_id)
                    emit(tx, events)
            except DuplicateError:
                already.append(up.key)
                continue
            if task_id != "-":
                tasks.append(task_id)
            if any(isinstance(e, CustomerFollowUp) for e in events):
                emails.append(up.key)
        return FollowUpReport(tuple(tasks), tuple(emails), tuple(already), tuple(unowned))

    # -- the reps' calendar -----------------------------------------------------------

    def calendar(self, rep_id: str, start: datetime, end: datetime) -> RepCalendar:
        """The rep's activities due in ``[start, end)``: due, overdue (open and due before
        now) and done."""
        now = self.now()
        with self.storage.transaction(readonly=True) as tx:
            items = every_page(
                tx,
                Activity,
                where={"owner_id": rep_id, "due_at": Range(start, end)},
                order_by="due_at",
            )
        open_items = [a for a in items if a.status is ActivityStatus.OPEN]
        return RepCalendar(
            rep_id=rep_id,
            due=tuple(a for a in open_items if a.due_at is not None and a.due_at >= now),
            overdue=tuple(a for a in open_items if a.due_at is not None and a.due_at < now),
            done=tuple(a for a in items if a.status is ActivityStatus.DONE),
        )

    def complete_activity(
        self,
        activity_id: str,
        *,
        expected_version: int,
        outcome: str,
        channel: Channel = Channel.CALL,
    ) -> tuple[Activity, Interaction]:
        """Mark the activity done and log what happened as an interaction of its
        account, in one transaction."""
        now = self.now()
        with self.storage.transaction() as tx:
            activity = tx.get(Activity, activity_id)
            if activity.version != expected_version:
                raise ConflictError(
                    "Activity",
                    activity_id,
                    expected_version=expected_version,
                    current_version=activity.version,
                )
            if activity.status is not ActivityStatus.OPEN:
                raise ValidationError(
                    "$.activity_id", activity_id, f"an open activity (it is {activity.status})"
                )
            done = tx.update(
                activity.evolve(
                    status=ActivityStatus.DONE,
                    completed_at=now,
                    outcome=outcome,
                    updated_at=max(now, activity.updated_at),
                )
            )
            logged = record_interaction(
                tx,
                Interaction(
                    channel=channel,
                    occurred_at=now,
                    account_id=activity.account_id,
                    contact_id=activity.contact_id,
                    by=activity.owner_id,
                    summary=activity.subject,
                    outcome=outcome,
                    related_to=activity.related_to,
                    created_at=now,
                ),
                now,
            )
        return done, logged


def _account_id(value: str | None) -> AccountId | None:
    return None if value is None else AccountId(value)


def _contact_email(tx: Transaction, account_id: str) -> str | None:
    for contact in every_page(tx, Contact, where={"account_id": account_id}):
        if contact.emails:
            return contact.emails[0]
    return None


def _merge(a: FollowUpReport, b: FollowUpReport) -> FollowUpReport:
    return FollowUpReport(
        a.tasks + b.tasks, a.emails + b.emails, a.already + b.already, a.unowned + b.unowned
    )
