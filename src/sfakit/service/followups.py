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

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

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
from sfakit.model.ids import ID_PREFIXES
from sfakit.pipeline import PipelineSet
from sfakit.recurrence.followups import (
    FollowUp,
    FollowUpKind,
    FollowUpRule,
    FollowUpRules,
    Upcoming,
    after_delivery,
    before_occurrence,
    idle_opportunities,
    no_order_since,
)
from sfakit.service.interactions import record_interaction
from sfakit.service.outbox import emit
from sfakit.service.progress import (
    FOLLOW_UP_PROGRESS,
    GRACE,
    REMINDER_PROGRESS,
    FollowUpProgress,
    ReminderProgress,
    RuleProgress,
    changed_after,
    load_progress,
    read_changes,
    save_progress,
)
from sfakit.storage.api import In, IsNull, NotNull, Range, Storage, Transaction, Where
from sfakit.storage.common import every_page

__all__ = ["FOLLOW_UP_RULES", "FollowUpReport", "FollowUps", "RepCalendar"]

#: The setting that holds the follow-up rules.
FOLLOW_UP_RULES: Final = "follow-up-rules"
_KEYS: Final = "follow-up"
_REMINDERS: Final = "reminder"
R = TypeVar("R", Account, Opportunity, Order, SalesRep, StandingOrder)


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
        rules = self.follow_up_rules().rules
        if not rules:
            return report
        progress = load_progress(self.storage, FOLLOW_UP_PROGRESS, FollowUpProgress)
        entries = {r.key: progress.of(r.key, r.kind, r.days) if progress else None for r in rules}
        # One read of the change feed serves every rule: from the earliest one's position.
        start = min((e.position if e else 0 for e in entries.values()), default=0)
        with self.storage.transaction(readonly=True) as tx:
            changes, position = read_changes(tx, start)
            zones = {str(rep.id): rep.timezone for rep in every_page(tx, SalesRep)}
        reached: list[RuleProgress] = []
        for rule in rules:
            entry = entries[rule.key]
            # A run at an earlier moment than the last one (a rehearsal) looks at all.
            since = entry.until - GRACE if entry and entry.until <= moment else None
            pending = entry.pending if entry else ()
            with self.storage.transaction(readonly=True) as tx:
                changed = changed_after(changes, entry.position if entry else 0)
                again = {kind: ids | set(pending) for kind, ids in changed.items()}
                again.setdefault("", set(pending))
                decided = self._decide(tx, rule, moment, zones, since=since, again=again)
                # Most of what a frequent run decides was made by an earlier run: one key
                # lookup each spares building, inserting and rolling back every one again.
                made = [up.key for up in decided if tx.key_value(_KEYS, up.key) is not None]
            known = set(made)
            ups = [up for up in decided if up.key not in known]
            done = FollowUpReport(already=tuple(made))
            for start in range(0, len(ups), 100):
                done = _merge(done, self._create(ups[start : start + 100], moment))
            waiting = set(done.unowned)
            reached.append(
                RuleProgress(
                    key=rule.key,
                    kind=rule.kind,
                    days=rule.days,
                    until=max(moment, entry.until) if entry else moment,
                    position=position,
                    pending=sorted({up.related_to or "" for up in ups if up.key in waiting}),
                )
            )
            report = _merge(report, done)
        save_progress(self.storage, FOLLOW_UP_PROGRESS, FollowUpProgress(rules=reached), self.now())
        return report

    def send_due_reminders(self, now: datetime | None = None) -> tuple[str, ...]:
        """Emit ``ReminderDue`` for each open activity whose ``reminder_at`` has come,
        once per activity; returns their ids."""
        moment = self.now() if now is None else now
        if moment.utcoffset() is None:
            raise ValidationError("$.now", now, "a timezone-aware datetime")
        progress = load_progress(self.storage, REMINDER_PROGRESS, ReminderProgress)
        since = progress.until - GRACE if progress and progress.until <= moment else None
        sent: list[str] = []
        with self.storage.transaction(readonly=True) as tx:
            due = every_page(
                tx,
                Activity,
                where={
                    "reminder_at": Range(since, moment + timedelta(microseconds=1)),
                    "status": ActivityStatus.OPEN,
                },
            )
            changes, position = read_changes(tx, progress.position if progress else 0)
            changed = changed_after(changes, progress.position if progress else 0)
            if since is not None:
                # Set, moved or reopened since: a reminder that came due long ago, too.
                seen = {a.id for a in due}
                for activity_id in sorted(changed.get("Activity", set()) - seen):
                    activity = tx.find(Activity, activity_id)
                    if (
                        activity is not None
                        and activity.status is ActivityStatus.OPEN
                        and activity.reminder_at is not None
                        and activity.reminder_at <= moment
                    ):
                        due.append(activity)
            # Open tasks stay due until done: skip those reminded by an earlier run.
            due = [a for a in due if tx.key_value(_REMINDERS, a.id) is None]
        for start in range(0, len(due), 100):
            sent += self._remind(due[start : start + 100], moment)
        until = moment if progress is None else max(moment, progress.until)
        save_progress(
            self.storage,
            REMINDER_PROGRESS,
            ReminderProgress(until=until, position=position),
            self.now(),
        )
        return tuple(sent)

    def _remind(self, due: Sequence[Activity], moment: datetime) -> list[str]:
        """Emit the reminders of ``due`` in one transaction; if another run sent one of
        them meanwhile, send them again one per transaction."""
        try:
            with self.storage.transaction() as tx:
                reps = _by_id(tx, SalesRep, [a.owner_id for a in due])
                for activity in due:
                    tx.claim_key(_REMINDERS, activity.id, activity.id)
                    rep = reps.get(activity.owner_id)
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
        except DuplicateError:
            if len(due) == 1:
                return []
            return [sent for activity in due for sent in self._remind([activity], moment)]
        return [activity.id for activity in due]

    def _decide(
        self,
        tx: Transaction,
        rule: FollowUpRule,
        now: datetime,
        zones: Mapping[str, str | None],
        *,
        since: datetime | None,
        again: Mapping[str, set[str]],
    ) -> list[FollowUp]:
        """What ``rule`` calls for at ``now``, from every candidate record, or — with
        ``since`` — from those whose deciding moment is after ``since`` less the rule's
        days and those to look at ``again`` (by kind: changed or pending; see
        :mod:`sfakit.service.progress`). ``zones``: each rep's time zone."""
        # The deciding moment must be at least days - 1 days ago (a superset: the rule
        # counts whole days in the owner's zone); with ``since``, only after ``low``.
        cutoff = now - timedelta(days=rule.days - 1)
        low = None if since is None else since - timedelta(days=rule.days - 1)
        if rule.kind is FollowUpKind.BEFORE_OCCURRENCE:
            upcoming = _upcoming(tx, rule, now, since=since, again=again)
            return before_occurrence(rule, upcoming, now=now, zones=zones)
        if rule.kind is FollowUpKind.AFTER_DELIVERY:
            orders = _candidates(
                tx,
                Order,
                {"status": OrderStatus.DELIVERED, "delivered_at": Range(low, cutoff)},
                since=since,
                again=again,
                still=lambda o: (
                    o.status is OrderStatus.DELIVERED
                    and o.delivered_at is not None
                    and o.delivered_at < cutoff
                ),
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
            quiet = _candidates(
                tx,
                Account,
                {"last_order_at": Range(low, cutoff)},
                since=since,
                again=again,
                still=lambda a: (a.last_order_at or a.created_at) < cutoff,
            )
            never = every_page(
                tx, Account, where={"last_order_at": IsNull(), "created_at": Range(low, cutoff)}
            )
            accounts = {a.id: a for a in [*quiet, *never]}
            return no_order_since(
                rule,
                [
                    (a.id, a.name, a.owner_id, a.last_order_at or a.created_at)
                    for a in accounts.values()
                ],
                now=now,
                zones=zones,
            )
        open_stages = tuple({s.key for p in self.pipelines.pipelines for s in p.open_stages})
        deals = _candidates(
            tx,
            Opportunity,
            {"stage": In(open_stages), "updated_at": Range(low, cutoff)},
            since=since,
            again=again,
            still=lambda d: d.stage in open_stages and d.updated_at < cutoff,
        )
        if low is not None:
            # A deal untouched since long ago may have had its last activity in the window,
            # or a new one since the last run.
            touched = {
                a.related_to
                for a in every_page(
                    tx, Activity, where={"updated_at": Range(low, cutoff), "related_to": NotNull()}
                )
                if a.related_to is not None
            }
            for activity_id in again.get("Activity", ()):
                activity = tx.find(Activity, activity_id)
                if activity is not None and activity.related_to is not None:
                    touched.add(activity.related_to)
            known = {d.id for d in deals}
            for deal_id in sorted(t for t in touched - known if t.startswith("opp_")):
                deal = tx.find(Opportunity, deal_id)
                if deal is not None and deal.stage in open_stages and deal.updated_at < cutoff:
                    deals.append(deal)
        last_activity = _last_activity(tx, [deal.id for deal in deals])
        touches = []
        for deal in deals:
            last = last_activity.get(deal.id)
            moment = deal.updated_at if last is None else max(deal.updated_at, last)
            touches.append((deal.id, deal.account_id, deal.owner_id, moment))
        return idle_opportunities(rule, touches, now=now, zones=zones)

    def _create(self, ups: Sequence[FollowUp], now: datetime) -> FollowUpReport:
        """Make ``ups`` in one transaction; if another run made one of them meanwhile
        (its key is taken), make them again one per transaction."""
        try:
            with self.storage.transaction() as tx:
                made = [self._make(tx, up, now) for up in ups]
        except DuplicateError:
            if len(ups) == 1:
                return FollowUpReport(already=(ups[0].key,))
            report = FollowUpReport()
            for up in ups:
                report = _merge(report, self._create([up], now))
            return report
        return FollowUpReport(
            tasks=tuple(task for task, _, _ in made if task is not None),
            emails=tuple(up.key for up, (_, email, _) in zip(ups, made, strict=True) if email),
            unowned=tuple(up.key for up, (_, _, nobody) in zip(ups, made, strict=True) if nobody),
        )

    def _make(self, tx: Transaction, up: FollowUp, now: datetime) -> tuple[str | None, bool, bool]:
        """Make one follow-up in ``tx`` under its key: (task id, email sent, nobody to make
        it for). DuplicateError if its key is taken."""
        events: list[Event] = []
        task_id: str | None = None
        if up.action.makes_task and up.owner_id is not None:
            activity = tx.insert(
                Activity(
                    kind=up.activity_kind,
                    subject=up.subject[:300],
                    owner_id=SalesRepId(up.owner_id),
                    due_at=up.due_at,
                    reminder_at=up.due_at,
                    account_id=None if up.account_id is None else AccountId(up.account_id),
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
        email = up.action.sends_email and up.account_id is not None
        if email:
            assert up.account_id is not None
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
            return None, False, True  # retried once the record has an owner
        tx.claim_key(_KEYS, up.key, task_id or "-")
        emit(tx, events)
        return task_id, email, False

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


def _last_activity(tx: Transaction, record_ids: Sequence[str]) -> dict[str, datetime]:
    """When an activity about each record last changed (records without any left out),
    read a few hundred records per query."""
    last: dict[str, datetime] = {}
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start : start + 500]
        for row in every_page(tx, Activity, where={"related_to": In(chunk)}, order_by="updated_at"):
            if row.related_to is not None:
                last[row.related_to] = row.updated_at
    return last


def _upcoming(
    tx: Transaction,
    rule: FollowUpRule,
    now: datetime,
    *,
    since: datetime | None,
    again: Mapping[str, set[str]],
) -> list[Upcoming]:
    """Active standing orders due within the rule's days (and two for time zones); with
    ``since``, those not yet that close at ``since`` and those to look at ``again``."""
    horizon = now + timedelta(days=rule.days + 2)
    low = None if since is None else since + timedelta(days=rule.days - 1)
    active = StandingOrderStatus.ACTIVE
    standing = _candidates(
        tx,
        StandingOrder,
        {"status": active, "next_due_at": Range(low, horizon)},
        since=since,
        again=again,
        still=lambda o: (
            o.status is active and o.next_due_at is not None and o.next_due_at < horizon
        ),
    )
    accounts = _by_id(tx, Account, [repeat.account_id for repeat in standing])
    upcoming: list[Upcoming] = []
    for repeat in standing:
        if repeat.next_due_at is None:
            continue
        account = accounts.get(repeat.account_id)
        upcoming.append(
            (
                repeat.id,
                repeat.account_id,
                account.name if account else None,
                repeat.owner_id or (account.owner_id if account else None),
                # Occurrences are dated in the schedule's own zone.
                repeat.next_due_at.astimezone(ZoneInfo(repeat.schedule.timezone)).date(),
            )
        )
    return upcoming


def _by_id(tx: Transaction, kind: type[R], ids: Iterable[str]) -> dict[str, R]:
    """The records with these ids, a few hundred per query."""
    wanted = sorted(set(ids))
    found: dict[str, R] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for record in every_page(tx, kind, where={"id": In(chunk)}):
            found[str(record.id)] = record
    return found


def _candidates(
    tx: Transaction,
    kind: type[R],
    where: Where,
    *,
    since: datetime | None,
    again: Mapping[str, set[str]],
    still: Callable[[R], bool],
) -> list[R]:
    """The records matching ``where``; with ``since``, also those to look at ``again``
    (changed since the last run, or pending), each if it ``still`` qualifies."""
    found: dict[str, R] = {str(r.id): r for r in every_page(tx, kind, where=where)}
    if since is None:
        return list(found.values())
    for record_id in sorted(again.get(kind.__name__, set()) | again.get("", set())):
        if record_id in found or not record_id.startswith(ID_PREFIXES[kind.__name__] + "_"):
            continue
        record = tx.find(kind, record_id)
        if record is not None and still(record):
            found[record_id] = record
    return list(found.values())
