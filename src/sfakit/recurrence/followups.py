"""Reminders and follow-ups as rules (data): what to do, for whom, and when it is due.

A :class:`FollowUpRule` says *when* something needs doing — N days before a standing
order's next occurrence ("call the buyer"), N days after an order was delivered, when an
account has not ordered for N days ("nothing in six months"), when an open opportunity
has seen no activity for N days — and *what*: a task for the owner, an email to the
customer, or both. :class:`FollowUpRules` is the set an app stores.

The functions here only decide. Each decision is a :class:`FollowUp` with a
deterministic ``key`` (rule, record, and the date that makes it a new episode), so
generating the same follow-ups again is a no-op for storage that records keys once. Its
``due_at`` is the rule's working hour, in the owner's own time zone, on the first
working day on or after the day the rule names.

>>> from datetime import date, datetime, timezone
>>> rule = FollowUpRule(key="reorder-call", kind=FollowUpKind.BEFORE_OCCURRENCE, days=5,
...                     subject="Call {account} about the order of {date}")
>>> ups = before_occurrence(rule, [("stdo_1", "acct_1", "Brightside", "rep_anna",
...                                 date(2026, 3, 31))],
...                         now=datetime(2026, 3, 26, 7, tzinfo=timezone.utc),
...                         zones={"rep_anna": "Europe/Berlin"})
>>> ups[0].key, ups[0].due_at.isoformat()
('reorder-call:stdo_1:2026-03-31', '2026-03-26T09:00:00+01:00')
>>> ups[0].subject
'Call Brightside about the order of 2026-03-31'
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

import attrs

from sfakit.errors import ValidationError
from sfakit.model.activities import ActivityKind
from sfakit.model.checks import (
    aware_datetime,
    enum_of,
    instance_of,
    optional,
    text,
    to_tuple,
    tuple_of,
)

__all__ = [
    "FollowUp",
    "FollowUpAction",
    "FollowUpKind",
    "FollowUpRule",
    "FollowUpRules",
    "after_delivery",
    "before_occurrence",
    "idle_opportunities",
    "no_order_since",
    "working_moment",
]

_KEY: Final = re.compile(r"[a-z0-9][a-z0-9_\-]{0,59}")
_PLACEHOLDERS: Final = frozenset({"account", "date", "days", "record"})


class FollowUpKind(enum.StrEnum):
    """When a rule fires."""

    BEFORE_OCCURRENCE = "before_occurrence"
    AFTER_DELIVERY = "after_delivery"
    NO_ORDER_SINCE = "no_order_since"
    OPPORTUNITY_IDLE = "opportunity_idle"


class FollowUpAction(enum.StrEnum):
    """What a rule does: a task for the owner, an email to the customer, or both."""

    TASK = "task"
    EMAIL = "email"
    TASK_AND_EMAIL = "task_and_email"

    @property
    def makes_task(self) -> bool:
        return self is not FollowUpAction.EMAIL

    @property
    def sends_email(self) -> bool:
        return self is not FollowUpAction.TASK


def _rule_key(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise ValidationError(
            f"$.{attribute.name}", value, "a key of lower-case letters, digits, '_' or '-'"
        )


def _days(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 3660:
        raise ValidationError(f"$.{attribute.name}", value, "a whole number of days, 0 to 3660")


def _hour(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 23:
        raise ValidationError(f"$.{attribute.name}", value, "an hour from 0 to 23")


def _weekdays(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if (
        not value
        or any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(
            f"$.{attribute.name}", value, "distinct weekdays from 0 (Monday) to 6 (Sunday)"
        )


def _template(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    text(max_length=300)(instance, attribute, value)
    names = set(re.findall(r"{(\w*)}", value))
    unknown = sorted(names - _PLACEHOLDERS)
    if unknown:
        raise ValidationError(
            f"$.{attribute.name}",
            value,
            f"a text whose placeholders are among {sorted(_PLACEHOLDERS)} (not {unknown})",
        )


@attrs.frozen(kw_only=True)
class FollowUpRule:
    """One reminder or follow-up rule (see the module docs).

    ``subject`` may use ``{account}``, ``{date}``, ``{days}`` and ``{record}``. The task
    is due at ``hour`` in the owner's time zone on the first of ``working_days`` on or
    after the day the rule names.
    """

    key: str = attrs.field(validator=_rule_key)
    kind: FollowUpKind = attrs.field(validator=enum_of(FollowUpKind))
    days: int = attrs.field(validator=_days)
    subject: str = attrs.field(validator=_template)
    action: FollowUpAction = attrs.field(
        default=FollowUpAction.TASK, validator=enum_of(FollowUpAction)
    )
    activity_kind: ActivityKind = attrs.field(
        default=ActivityKind.CALL, validator=enum_of(ActivityKind)
    )
    hour: int = attrs.field(default=9, validator=_hour)
    working_days: tuple[int, ...] = attrs.field(
        default=(0, 1, 2, 3, 4), converter=to_tuple, validator=_weekdays
    )


def _unique_keys(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    seen: set[str] = set()
    for index, rule in enumerate(value):
        if rule.key in seen:
            raise ValidationError(f"$.rules[{index}].key", rule.key, "a key no other rule has")
        seen.add(rule.key)


@attrs.frozen(kw_only=True)
class FollowUpRules:
    """The follow-up rules an app runs (keys unique), stored as one setting."""

    rules: tuple[FollowUpRule, ...] = attrs.field(
        default=(),
        converter=to_tuple,
        validator=[tuple_of(instance_of(FollowUpRule, "a FollowUpRule")), _unique_keys],
    )


@attrs.frozen(kw_only=True)
class FollowUp:
    """One follow-up to create: a task for ``owner_id`` due at ``due_at`` (when the rule
    makes tasks) and/or an email to the account's contact (when it sends email). ``key``
    is deterministic: the same episode always gives the same key."""

    key: str = attrs.field(validator=text(max_length=300))
    rule: str = attrs.field(validator=text(max_length=60))
    action: FollowUpAction = attrs.field(validator=enum_of(FollowUpAction))
    activity_kind: ActivityKind = attrs.field(validator=enum_of(ActivityKind))
    subject: str = attrs.field(validator=text(max_length=600))
    due_at: datetime = attrs.field(validator=aware_datetime)
    owner_id: str | None = attrs.field(default=None, validator=optional(text(max_length=200)))
    account_id: str | None = attrs.field(default=None, validator=optional(text(max_length=200)))
    related_to: str | None = attrs.field(default=None, validator=optional(text(max_length=200)))


def working_moment(
    day: date, zone_name: str | None, hour: int, working_days: Iterable[int] = (0, 1, 2, 3, 4)
) -> datetime:
    """``hour`` o'clock in ``zone_name`` (UTC when None) on the first working day on or
    after ``day``.

    >>> working_moment(date(2026, 3, 28), "Asia/Tokyo", 9).isoformat()  # a Saturday
    '2026-03-30T09:00:00+09:00'
    """
    days = frozenset(working_days)
    if not days:
        raise ValidationError("$.working_days", tuple(working_days), "at least one weekday")
    zone = ZoneInfo(zone_name or "UTC")
    while day.weekday() not in days:
        day += timedelta(days=1)
    # A working hour is never inside a DST gap in practice; fold=0 takes the first instant.
    return datetime.combine(day, time(hour), tzinfo=zone)


def _local_today(now: datetime, zone_name: str | None) -> date:
    return now.astimezone(ZoneInfo(zone_name or "UTC")).date()


def _check_kind(rule: FollowUpRule, kind: FollowUpKind) -> None:
    if not isinstance(rule, FollowUpRule) or rule.kind is not kind:
        raise ValidationError("$.rule.kind", getattr(rule, "kind", rule), f"{kind.value!r}")


def _check_now(now: datetime) -> None:
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValidationError("$.now", now, "a timezone-aware datetime")


def _follow_up(
    rule: FollowUpRule,
    key: str,
    day: date,
    zone: str | None,
    *,
    owner: str | None,
    account: str | None,
    account_name: str | None,
    related: str | None,
    on: date,
) -> FollowUp:
    subject = rule.subject.format(
        account=account_name or account or "", date=on.isoformat(), days=rule.days, record=related
    )
    return FollowUp(
        key=f"{rule.key}:{key}",
        rule=rule.key,
        action=rule.action,
        activity_kind=rule.activity_kind,
        subject=subject,
        due_at=working_moment(day, zone, rule.hour, rule.working_days),
        owner_id=owner,
        account_id=account,
        related_to=related,
    )


#: A standing order's next occurrence: (standing order id, account id, account name,
#: owner id, local date of the occurrence).
Upcoming = tuple[str, str, str | None, str | None, date]


def before_occurrence(
    rule: FollowUpRule,
    upcoming: Iterable[Upcoming],
    *,
    now: datetime,
    zones: Mapping[str, str | None],
) -> list[FollowUp]:
    """Follow-ups for occurrences ``rule.days`` or fewer days ahead (in the owner's zone)
    that have not taken place yet; keyed by standing order and occurrence date."""
    _check_kind(rule, FollowUpKind.BEFORE_OCCURRENCE)
    _check_now(now)
    result = []
    for standing_id, account_id, account_name, owner, on in upcoming:
        zone = zones.get(owner) if owner else None
        today = _local_today(now, zone)
        if today <= on and (on - today).days <= rule.days:
            result.append(
                _follow_up(
                    rule,
                    f"{standing_id}:{on.isoformat()}",
                    max(today, on - timedelta(days=rule.days)),
                    zone,
                    owner=owner,
                    account=account_id,
                    account_name=account_name,
                    related=standing_id,
                    on=on,
                )
            )
    return result


#: A delivered order: (order id, account id, account name, owner id, delivered at).
Delivered = tuple[str, str, str | None, str | None, datetime]


def after_delivery(
    rule: FollowUpRule,
    delivered: Iterable[Delivered],
    *,
    now: datetime,
    zones: Mapping[str, str | None],
) -> list[FollowUp]:
    """Follow-ups for orders delivered at least ``rule.days`` days ago; keyed by order."""
    _check_kind(rule, FollowUpKind.AFTER_DELIVERY)
    _check_now(now)
    found = (
        _days_after(
            rule,
            order_id,
            at,
            account_id=account_id,
            account_name=account_name,
            owner=owner,
            now=now,
            zones=zones,
            dated=False,
        )
        for order_id, account_id, account_name, owner, at in delivered
    )
    return [up for up in found if up is not None]


#: An account and when it last ordered: (account id, account name, owner id, last
#: order moment, or its creation when it never ordered).
LastOrder = tuple[str, str | None, str | None, datetime]


def no_order_since(
    rule: FollowUpRule,
    accounts: Iterable[LastOrder],
    *,
    now: datetime,
    zones: Mapping[str, str | None],
) -> list[FollowUp]:
    """Follow-ups for accounts whose last order (or creation) is ``rule.days`` or more
    days ago. The key includes that date, so a new order starts a new episode."""
    _check_kind(rule, FollowUpKind.NO_ORDER_SINCE)
    _check_now(now)
    found = (
        _days_after(
            rule,
            account_id,
            last,
            account_id=account_id,
            account_name=name,
            owner=owner,
            now=now,
            zones=zones,
            dated=True,
        )
        for account_id, name, owner, last in accounts
    )
    return [up for up in found if up is not None]


#: An open opportunity and its last activity: (opportunity id, account id, owner id,
#: the moment of its last activity or change).
LastTouch = tuple[str, str, str | None, datetime]


def idle_opportunities(
    rule: FollowUpRule,
    opportunities: Iterable[LastTouch],
    *,
    now: datetime,
    zones: Mapping[str, str | None],
) -> list[FollowUp]:
    """Follow-ups for open opportunities untouched for ``rule.days`` or more days; keyed
    by opportunity and the date of the last touch (new activity, new episode)."""
    _check_kind(rule, FollowUpKind.OPPORTUNITY_IDLE)
    _check_now(now)
    found = (
        _days_after(
            rule,
            deal_id,
            last,
            account_id=account_id,
            account_name=None,
            owner=owner,
            now=now,
            zones=zones,
            dated=True,
        )
        for deal_id, account_id, owner, last in opportunities
    )
    return [up for up in found if up is not None]


def _days_after(
    rule: FollowUpRule,
    record_id: str,
    moment: datetime,
    *,
    account_id: str,
    account_name: str | None,
    owner: str | None,
    now: datetime,
    zones: Mapping[str, str | None],
    dated: bool,
) -> FollowUp | None:
    # ``rule.days`` after ``moment`` (both days in the owner's zone) has come: a follow-up
    # keyed by the record, and by that day too when each such day starts a new episode.
    zone = zones.get(owner) if owner else None
    since = _local_today(moment, zone)
    day = since + timedelta(days=rule.days)
    if day > _local_today(now, zone):
        return None
    # The episode is dated in UTC, not in the owner's zone: a new owner in another zone
    # must not make the same episode look new (and email the customer twice).
    key = f"{record_id}:{moment.astimezone(UTC).date().isoformat()}" if dated else record_id
    return _follow_up(
        rule,
        key,
        day,
        zone,
        owner=owner,
        account=account_id,
        account_name=account_name,
        related=record_id,
        on=since,
    )
