"""Activities (things to do: calls, meetings, tasks) and interactions (things that happened)."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from sfakit.errors import ValidationError
from sfakit.model.base import Entity, entity_id_field
from sfakit.model.checks import (
    aware_datetime,
    enum_of,
    id_of,
    id_of_any,
    optional,
    text,
)
from sfakit.model.ids import AccountId, ActivityId, ContactId, InteractionId, SalesRepId
from sfakit.model.parties import Channel

__all__ = ["Activity", "ActivityKind", "ActivityStatus", "Direction", "Interaction"]


class ActivityKind(enum.StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    VISIT = "visit"
    TASK = "task"


class ActivityStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


_opt_long = optional(text(max_length=5000))


@attrs.frozen(kw_only=True)
class Activity(Entity):
    """Something a rep is to do: call the buyer, visit the site, send the quote.

    ``related_to`` is the id of any record it concerns (an opportunity, an order…);
    ``reminder_at`` must not be after ``due_at``. A done activity has ``completed_at``.

    >>> from datetime import datetime, timezone
    >>> call = Activity(kind=ActivityKind.CALL, subject="Reorder call: 1000 bulbs",
    ...                 owner_id="rep_anna", due_at=datetime(2026, 5, 4, 9, tzinfo=timezone.utc),
    ...                 created_at=datetime(2026, 5, 1, tzinfo=timezone.utc))
    >>> call.status
    <ActivityStatus.OPEN: 'open'>
    """

    kind: ActivityKind = attrs.field(validator=enum_of(ActivityKind))

    id: ActivityId = entity_id_field("Activity")
    subject: str = attrs.field(validator=text(max_length=300))
    owner_id: SalesRepId = attrs.field(validator=id_of("SalesRep"))
    status: ActivityStatus = attrs.field(
        default=ActivityStatus.OPEN, validator=enum_of(ActivityStatus)
    )
    due_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    reminder_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    account_id: AccountId | None = attrs.field(default=None, validator=optional(id_of("Account")))
    contact_id: ContactId | None = attrs.field(default=None, validator=optional(id_of("Contact")))
    related_to: str | None = attrs.field(default=None, validator=optional(id_of_any))
    completed_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    outcome: str | None = attrs.field(default=None, validator=optional(text(max_length=300)))
    notes: str | None = attrs.field(default=None, validator=_opt_long)

    def _check(self) -> None:
        if (
            self.reminder_at is not None
            and self.due_at is not None
            and self.reminder_at > self.due_at
        ):
            raise ValidationError(
                "$.reminder_at", self.reminder_at, f"a moment at or before due_at ({self.due_at})"
            )
        if (self.status is ActivityStatus.DONE) != (self.completed_at is not None):
            raise ValidationError(
                "$.completed_at",
                self.completed_at,
                "a moment exactly when the status is done (and None otherwise)",
            )


@attrs.frozen(kw_only=True)
class Interaction(Entity):
    """What happened with a contact: a call made, an email received, a visit paid.

    It belongs to a contact, an account, or both; the timeline of either is read from it.
    """

    id: InteractionId = entity_id_field("Interaction")
    channel: Channel = attrs.field(validator=enum_of(Channel))
    direction: Direction = attrs.field(default=Direction.OUTBOUND, validator=enum_of(Direction))
    occurred_at: datetime = attrs.field(validator=aware_datetime)
    contact_id: ContactId | None = attrs.field(default=None, validator=optional(id_of("Contact")))
    account_id: AccountId | None = attrs.field(default=None, validator=optional(id_of("Account")))
    by: SalesRepId | None = attrs.field(default=None, validator=optional(id_of("SalesRep")))
    summary: str = attrs.field(validator=text(max_length=300))
    outcome: str | None = attrs.field(default=None, validator=optional(text(max_length=300)))
    notes: str | None = attrs.field(default=None, validator=_opt_long)
    related_to: str | None = attrs.field(default=None, validator=optional(id_of_any))

    def _check(self) -> None:
        if self.contact_id is None and self.account_id is None:
            raise ValidationError("$.contact_id", None, "a contact_id or an account_id (or both)")
