"""Accounts, their contacts, and the sales reps who own them."""

from __future__ import annotations

import enum
from datetime import date, datetime

import attrs

from sfakit.errors import ValidationError
from sfakit.model.base import Entity, entity_id_field
from sfakit.model.checks import (
    aware_datetime,
    country_code,
    email_address,
    enum_of,
    id_of,
    id_of_any,
    instance_of,
    non_negative_int,
    optional,
    plain_date,
    text,
    timezone_name,
    to_tuple,
    tuple_of,
)
from sfakit.model.ids import AccountId, ContactId, SalesRepId, TerritoryId
from sfakit.model.money import Money

__all__ = ["Account", "Channel", "Contact", "ContactRole", "SalesRep"]


class ContactRole(enum.StrEnum):
    """What a contact does in the customer's buying process."""

    BUYER = "buyer"
    PURCHASING_AGENT = "purchasing_agent"
    ACCOUNTS_PAYABLE = "accounts_payable"
    DECISION_MAKER = "decision_maker"
    INFLUENCER = "influencer"
    TECHNICAL = "technical"
    END_USER = "end_user"
    OTHER = "other"


class Channel(enum.StrEnum):
    """How we reach, or heard from, a person."""

    CALL = "call"
    EMAIL = "email"
    VISIT = "visit"
    MEETING = "meeting"
    CHAT = "chat"
    SMS = "sms"
    LETTER = "letter"
    WEB = "web"


_short = text(max_length=200)
_opt_short = optional(text(max_length=200))


@attrs.frozen(kw_only=True)
class Account(Entity):
    """A customer company (or prospect company) we sell to.

    ``last_interaction_at`` and ``last_order_at`` are maintained by the service.

    >>> from datetime import datetime, timezone
    >>> acme = Account(name="Acme Lighting", billing_country="DE",
    ...                created_at=datetime(2026, 1, 5, tzinfo=timezone.utc))
    >>> acme.id.startswith("acct_"), acme.version
    (True, 0)
    """

    id: AccountId = entity_id_field("Account")
    name: str = attrs.field(validator=_short)
    owner_id: SalesRepId | None = attrs.field(default=None, validator=optional(id_of("SalesRep")))
    territory_id: TerritoryId | None = attrs.field(
        default=None, validator=optional(id_of("Territory"))
    )
    territory_key: str | None = attrs.field(default=None, validator=optional(text(max_length=100)))
    routing_pinned: bool = attrs.field(default=False, validator=instance_of(bool, "true or false"))
    merged_into_id: str | None = attrs.field(default=None, validator=optional(id_of_any))
    parent_id: AccountId | None = attrs.field(default=None, validator=optional(id_of("Account")))
    industry: str | None = attrs.field(default=None, validator=_opt_short)
    branch: str | None = attrs.field(default=None, validator=_opt_short)
    billing_country: str | None = attrs.field(default=None, validator=optional(country_code))
    billing_region: str | None = attrs.field(default=None, validator=_opt_short)
    billing_postal_code: str | None = attrs.field(
        default=None, validator=optional(text(max_length=20))
    )
    billing_city: str | None = attrs.field(default=None, validator=_opt_short)
    website: str | None = attrs.field(default=None, validator=optional(text(max_length=500)))
    employee_count: int | None = attrs.field(default=None, validator=optional(non_negative_int))
    annual_revenue: Money | None = attrs.field(
        default=None, validator=optional(instance_of(Money, "Money"))
    )
    tags: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(text(max_length=100))
    )
    # Kept up to date by the service when interactions and orders are recorded, so
    # "which accounts had no order since D" is an index lookup, not a scan.
    last_interaction_at: datetime | None = attrs.field(
        default=None, validator=optional(aware_datetime)
    )
    last_order_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))

    def _check(self) -> None:
        if self.parent_id is not None and self.parent_id == self.id:
            raise ValidationError("$.parent_id", self.parent_id, "another account than itself")


@attrs.frozen(kw_only=True)
class Contact(Entity):
    """A person at an account: the buyer, the purchasing agent, accounts payable…

    >>> from datetime import datetime, timezone
    >>> Contact(last_name="Nakamura", roles=(ContactRole.PURCHASING_AGENT,),
    ...         emails=("k.nakamura@example.com",),
    ...         created_at=datetime(2026, 1, 5, tzinfo=timezone.utc)).roles
    (<ContactRole.PURCHASING_AGENT: 'purchasing_agent'>,)
    """

    id: ContactId = entity_id_field("Contact")
    account_id: AccountId | None = attrs.field(default=None, validator=optional(id_of("Account")))
    first_name: str | None = attrs.field(default=None, validator=_opt_short)
    last_name: str = attrs.field(validator=_short)
    title: str | None = attrs.field(default=None, validator=_opt_short)
    roles: tuple[ContactRole, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(enum_of(ContactRole))
    )
    emails: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(email_address)
    )
    phones: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(text(max_length=40))
    )
    preferred_channel: Channel | None = attrs.field(
        default=None, validator=optional(enum_of(Channel))
    )
    timezone: str | None = attrs.field(default=None, validator=optional(timezone_name))
    language: str | None = attrs.field(default=None, validator=optional(text(max_length=35)))
    owner_id: SalesRepId | None = attrs.field(default=None, validator=optional(id_of("SalesRep")))
    do_not_contact: bool = attrs.field(default=False, validator=instance_of(bool, "true or false"))
    merged_into_id: str | None = attrs.field(default=None, validator=optional(id_of_any))

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.first_name else self.last_name


@attrs.frozen(kw_only=True)
class SalesRep(Entity):
    """A member of the sales force, with what routing needs to know about them.

    ``capacity`` is the most open leads and opportunities they should hold at once
    (None: no limit); ``skills`` are product lines or other knowledge they have.
    """

    id: SalesRepId = entity_id_field("SalesRep")
    name: str = attrs.field(validator=_short)
    email: str | None = attrs.field(default=None, validator=optional(email_address))
    manager_id: SalesRepId | None = attrs.field(default=None, validator=optional(id_of("SalesRep")))
    active: bool = attrs.field(default=True, validator=instance_of(bool, "true or false"))
    capacity: int | None = attrs.field(default=None, validator=optional(non_negative_int))
    skills: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(text(max_length=100))
    )
    languages: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(text(max_length=35))
    )
    timezone: str | None = attrs.field(default=None, validator=optional(timezone_name))
    out_of_office_until: date | None = attrs.field(default=None, validator=optional(plain_date))

    def _check(self) -> None:
        if self.manager_id is not None and self.manager_id == self.id:
            raise ValidationError("$.manager_id", self.manager_id, "another rep than themselves")
