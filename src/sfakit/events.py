"""Domain events: facts the library records so that people and systems can be told.

Every event is a frozen attrs class with a stable ``type`` name (``"order.placed"``)
and a ``schema_version``; its ``id`` is unique and sortable, so receivers can use it as
an idempotency key. A business operation writes its events to the outbox in the same
storage transaction as its change; the dispatcher delivers them afterwards.

Events travel as an envelope of plain data through the one codec:

>>> from datetime import datetime, timezone
>>> event = OrderShipped(order_id="ord_1", account_id="acct_acme",
...                      confirmation_number="K7M-4QX-92B", carrier="DHL",
...                      tracking_number="00340434", contact_email="buyer@example.com",
...                      occurred_at=datetime(2026, 3, 2, 9, tzinfo=timezone.utc))
>>> data = event_to_data(event)
>>> data["type"], data["schema_version"]
('order.shipped', 1)
>>> event_from_data(data) == event
True
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar, Final

import attrs

from sfakit.errors import ValidationError
from sfakit.model.base import fix_offsets
from sfakit.model.checks import (
    aware_datetime,
    email_address,
    id_of,
    instance_of,
    non_negative_int,
    optional,
    plain_date,
    text,
    to_tuple,
    tuple_of,
)
from sfakit.model.ids import new_id
from sfakit.model.money import Money

__all__ = [
    "EVENT_TYPES",
    "Event",
    "InteractionLogged",
    "LeadAssigned",
    "LeadCaptured",
    "LeadConverted",
    "LeadQualified",
    "CustomerFollowUp",
    "OccurrenceSkipped",
    "OpportunityLost",
    "OpportunityWon",
    "OrderCancelled",
    "OrderConfirmed",
    "OrderDelivered",
    "OrderPaymentHeld",
    "OrderPlaced",
    "OrderReturned",
    "OrderShipped",
    "RecordsMerged",
    "ReminderDue",
    "StageChanged",
    "TaskCreated",
    "event_from_data",
    "event_to_data",
]

_ref = text(max_length=200)
_opt_ref = optional(text(max_length=200))
_opt_email = optional(email_address)
_opt_money = optional(instance_of(Money, "Money"))


@attrs.frozen(kw_only=True)
class Event:
    """Base of every event: when it happened and its unique id (``evt_…``, time-ordered)."""

    type: ClassVar[str] = "event"
    schema_version: ClassVar[int] = 1

    occurred_at: datetime = attrs.field(validator=aware_datetime)
    id: str = attrs.field(
        default=attrs.Factory(lambda self: _event_id(self.occurred_at), takes_self=True),
        validator=id_of("Event"),
    )

    def __attrs_post_init__(self) -> None:
        fix_offsets(self)

    def recipient_emails(self) -> tuple[str, ...]:
        """Addresses this event concerns (a customer's, a rep's), for mail notifiers."""
        found = []
        for name in ("contact_email", "owner_email"):
            value = getattr(self, name, None)
            if value:
                found.append(value)
        return tuple(found)


def _event_id(occurred_at: object) -> str:
    # A bad occurred_at is reported by its own validator; the id then falls back to now.
    aware = isinstance(occurred_at, datetime) and occurred_at.utcoffset() is not None
    return new_id("evt", occurred_at if aware else None)  # type: ignore[arg-type]


@attrs.frozen(kw_only=True)
class LeadCaptured(Event):
    """A new lead entered the system."""

    type: ClassVar[str] = "lead.captured"
    lead_id: str = attrs.field(validator=_ref)
    source: str | None = attrs.field(default=None, validator=_opt_ref)


@attrs.frozen(kw_only=True)
class LeadAssigned(Event):
    """A lead got an owner (or a queue), by a rule or by hand."""

    type: ClassVar[str] = "lead.assigned"
    lead_id: str = attrs.field(validator=_ref)
    owner_id: str | None = attrs.field(default=None, validator=_opt_ref)
    previous_owner_id: str | None = attrs.field(default=None, validator=_opt_ref)
    territory_key: str | None = attrs.field(default=None, validator=_opt_ref)
    queue: str | None = attrs.field(default=None, validator=_opt_ref)
    reason: str | None = attrs.field(default=None, validator=optional(text(max_length=1000)))
    owner_email: str | None = attrs.field(default=None, validator=_opt_email)


@attrs.frozen(kw_only=True)
class LeadQualified(Event):
    """A lead was judged worth pursuing."""

    type: ClassVar[str] = "lead.qualified"
    lead_id: str = attrs.field(validator=_ref)
    score: int | None = attrs.field(default=None, validator=optional(instance_of(int, "an int")))


@attrs.frozen(kw_only=True)
class LeadConverted(Event):
    """A lead became an account and contact (and maybe an opportunity)."""

    type: ClassVar[str] = "lead.converted"
    lead_id: str = attrs.field(validator=_ref)
    account_id: str = attrs.field(validator=_ref)
    contact_id: str | None = attrs.field(default=None, validator=_opt_ref)
    opportunity_id: str | None = attrs.field(default=None, validator=_opt_ref)


@attrs.frozen(kw_only=True)
class StageChanged(Event):
    """An opportunity moved from one stage to another."""

    type: ClassVar[str] = "opportunity.stage_changed"
    opportunity_id: str = attrs.field(validator=_ref)
    pipeline: str = attrs.field(validator=_ref)
    from_stage: str | None = attrs.field(default=None, validator=_opt_ref)
    to_stage: str = attrs.field(validator=_ref)
    by: str | None = attrs.field(default=None, validator=_opt_ref)


@attrs.frozen(kw_only=True)
class OpportunityWon(Event):
    """A deal closed won."""

    type: ClassVar[str] = "opportunity.won"
    opportunity_id: str = attrs.field(validator=_ref)
    amount: Money | None = attrs.field(
        default=None, validator=optional(instance_of(Money, "Money"))
    )
    owner_email: str | None = attrs.field(default=None, validator=_opt_email)


@attrs.frozen(kw_only=True)
class OpportunityLost(Event):
    """A deal closed lost, with the reason."""

    type: ClassVar[str] = "opportunity.lost"
    opportunity_id: str = attrs.field(validator=_ref)
    reason: str = attrs.field(validator=_ref)
    owner_email: str | None = attrs.field(default=None, validator=_opt_email)


@attrs.frozen(kw_only=True)
class _OrderEvent(Event):
    order_id: str = attrs.field(validator=_ref)
    account_id: str = attrs.field(validator=_ref)
    confirmation_number: str | None = attrs.field(default=None, validator=_opt_ref)
    total: Money | None = attrs.field(default=None, validator=_opt_money)
    contact_email: str | None = attrs.field(default=None, validator=_opt_email)


@attrs.frozen(kw_only=True)
class OrderPlaced(_OrderEvent):
    """An order was placed (the customer gets a confirmation with its number)."""

    type: ClassVar[str] = "order.placed"


@attrs.frozen(kw_only=True)
class OrderConfirmed(_OrderEvent):
    """An order's payment was verified, or it was charged to the account."""

    type: ClassVar[str] = "order.confirmed"


@attrs.frozen(kw_only=True)
class OrderShipped(_OrderEvent):
    """An order left the distribution centre."""

    type: ClassVar[str] = "order.shipped"
    carrier: str | None = attrs.field(default=None, validator=_opt_ref)
    tracking_number: str | None = attrs.field(default=None, validator=_opt_ref)


@attrs.frozen(kw_only=True)
class OccurrenceSkipped(Event):
    """A standing order's occurrence was not ordered, and why: ``paused``,
    ``skipped_by_request``, ``after_end_date``, or missed under its catch-up policy
    (``catch_up_latest``, ``catch_up_none``). Nothing is skipped silently."""

    type: ClassVar[str] = "standing_order.occurrence_skipped"
    standing_order_id: str = attrs.field(validator=_ref)
    account_id: str = attrs.field(validator=_ref)
    occurrence_key: str = attrs.field(validator=text(max_length=300))
    local_date: date = attrs.field(validator=plain_date)
    reason: str = attrs.field(validator=_ref)


@attrs.frozen(kw_only=True)
class OrderPaymentHeld(_OrderEvent):
    """A placed order's payment was held for manual approval, and why."""

    type: ClassVar[str] = "order.payment_held"
    reason: str = attrs.field(validator=text(max_length=1000))


@attrs.frozen(kw_only=True)
class OrderDelivered(_OrderEvent):
    """An order reached the customer."""

    type: ClassVar[str] = "order.delivered"


@attrs.frozen(kw_only=True)
class OrderCancelled(_OrderEvent):
    """An order was cancelled (by request, or its payment was declined), and why."""

    type: ClassVar[str] = "order.cancelled"
    reason: str = attrs.field(validator=text(max_length=1000))


@attrs.frozen(kw_only=True)
class OrderReturned(_OrderEvent):
    """A shipped or delivered order came back, and why."""

    type: ClassVar[str] = "order.returned"
    reason: str = attrs.field(validator=text(max_length=1000))


@attrs.frozen(kw_only=True)
class CustomerFollowUp(Event):
    """A follow-up rule wants the customer emailed ("we have not heard from you in six
    months", "how was your delivery?"): ``rule`` says which, ``subject`` what about."""

    type: ClassVar[str] = "account.follow_up"
    account_id: str = attrs.field(validator=_ref)
    rule: str = attrs.field(validator=_ref)
    subject: str = attrs.field(validator=text(max_length=600))
    related_to: str | None = attrs.field(default=None, validator=_opt_ref)
    contact_email: str | None = attrs.field(default=None, validator=_opt_email)


@attrs.frozen(kw_only=True)
class _ActivityEvent(Event):
    activity_id: str = attrs.field(validator=_ref)
    owner_id: str = attrs.field(validator=_ref)
    subject: str = attrs.field(validator=text(max_length=300))
    due_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    owner_email: str | None = attrs.field(default=None, validator=_opt_email)


@attrs.frozen(kw_only=True)
class ReminderDue(_ActivityEvent):
    """A reminder for a rep came due (call the buyer, follow up the delivery)."""

    type: ClassVar[str] = "activity.reminder_due"


@attrs.frozen(kw_only=True)
class TaskCreated(_ActivityEvent):
    """A task was created for a rep."""

    type: ClassVar[str] = "activity.task_created"


@attrs.frozen(kw_only=True)
class InteractionLogged(Event):
    """A call, email, visit … with a contact or account was recorded."""

    type: ClassVar[str] = "interaction.logged"
    interaction_id: str = attrs.field(validator=_ref)
    account_id: str | None = attrs.field(default=None, validator=_opt_ref)
    contact_id: str | None = attrs.field(default=None, validator=_opt_ref)
    channel: str = attrs.field(validator=_ref)


@attrs.frozen(kw_only=True)
class RecordsMerged(Event):
    """Duplicate leads, contacts or accounts (``kind``) were merged into one survivor:
    each of ``merged_ids`` is now a tombstone pointing at ``survivor_id``, and
    ``repointed`` references of related records moved to it."""

    type: ClassVar[str] = "records.merged"
    kind: str = attrs.field(validator=_ref)
    survivor_id: str = attrs.field(validator=_ref)
    merged_ids: tuple[str, ...] = attrs.field(converter=to_tuple, validator=tuple_of(_ref))
    by: str = attrs.field(validator=_ref)
    repointed: int = attrs.field(default=0, validator=non_negative_int)


#: Event type name → class.
EVENT_TYPES: Final[Mapping[str, type[Event]]] = {
    cls.type: cls
    for cls in (
        LeadCaptured,
        LeadAssigned,
        LeadQualified,
        LeadConverted,
        OccurrenceSkipped,
        CustomerFollowUp,
        StageChanged,
        OpportunityWon,
        OpportunityLost,
        OrderPlaced,
        OrderConfirmed,
        OrderShipped,
        OrderPaymentHeld,
        OrderDelivered,
        OrderCancelled,
        OrderReturned,
        ReminderDue,
        TaskCreated,
        InteractionLogged,
        RecordsMerged,
    )
}


def event_to_data(event: Event) -> dict[str, Any]:
    """The event's envelope: ``type``, ``schema_version``, ``id``, ``occurred_at``, ``data``."""
    from sfakit.codec import to_data  # noqa: PLC0415 - the codec imports the model

    body = to_data(event)
    return {
        "type": event.type,
        "schema_version": event.schema_version,
        "id": body.pop("id"),
        "occurred_at": body.pop("occurred_at"),
        "data": body,
    }


def event_from_data(envelope: Any) -> Event:
    """Rebuild an event from its envelope; unknown types and versions are errors."""
    from sfakit.codec import from_data  # noqa: PLC0415

    if not isinstance(envelope, Mapping) or set(envelope) != {
        "type",
        "schema_version",
        "id",
        "occurred_at",
        "data",
    }:
        raise ValidationError(
            "$", envelope, "an event envelope with type, schema_version, id, occurred_at, data"
        )
    kind = EVENT_TYPES.get(envelope["type"])
    if kind is None:
        raise ValidationError("$.type", envelope["type"], f"one of {', '.join(EVENT_TYPES)}")
    if envelope["schema_version"] != kind.schema_version:
        raise ValidationError(
            "$.schema_version", envelope["schema_version"], f"{kind.schema_version} for {kind.type}"
        )
    if not isinstance(envelope["data"], Mapping):
        raise ValidationError("$.data", envelope["data"], "an object")
    body = {**envelope["data"], "id": envelope["id"], "occurred_at": envelope["occurred_at"]}
    return from_data(kind, body)
