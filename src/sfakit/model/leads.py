"""Leads: people and companies that may become customers.

A lead captured from a web form or a CSV file may hold values that could not be stored
in their fields (an email without a domain, a phone number with too few digits): lenient
capture (:func:`sfakit.qualification.capture_lead`) keeps each one, with what was
expected, as a :class:`DataQualityIssue` in ``Lead.quality_issues`` instead of dropping it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.model.base import Entity, entity_id_field
from sfakit.model.checks import (
    aware_datetime,
    country_code,
    decimal_value,
    email_address,
    enum_of,
    id_of,
    id_of_any,
    instance_of,
    non_negative_int,
    optional,
    text,
    to_decimal,
    to_tuple,
    tuple_of,
)
from sfakit.model.ids import (
    AccountId,
    ContactId,
    LeadId,
    OpportunityId,
    SalesRepId,
    TerritoryId,
)

__all__ = ["DataQualityIssue", "Lead", "LeadStatus"]


class LeadStatus(enum.StrEnum):
    NEW = "new"
    WORKING = "working"
    NURTURING = "nurturing"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    CONVERTED = "converted"


_opt_short = optional(text(max_length=200))


@attrs.frozen(kw_only=True)
class DataQualityIssue:
    """A raw value that could not be stored in its field: which ``field`` (or input
    column) it was for, the ``value`` exactly as it came in, and what was ``expected``.

    >>> issue = DataQualityIssue(field="email", value="anna@", expected="an email address")
    >>> issue.field, issue.value
    ('email', 'anna@')
    """

    field: str = attrs.field(validator=text(max_length=200))
    # The raw value as given, untrimmed and of any length: it is the evidence.
    value: str = attrs.field(validator=instance_of(str, "the raw value, a string"))
    expected: str = attrs.field(validator=text(max_length=1000))


@attrs.frozen(kw_only=True)
class Lead(Entity):
    """A prospect not yet qualified: where it came from, who it is, what it wants.

    A disqualified lead names its ``disqualification_reason``; a converted one names the
    account it became and when. ``score``/``grade`` are the last scorecard result (at
    ``scored_at``); ``merged_into_id`` marks a lead merged into another record (a
    tombstone). ``quality_issues`` lists raw input values that were not
    valid for their fields (see :class:`DataQualityIssue`).

    >>> from datetime import datetime, timezone
    >>> lead = Lead(last_name="Okafor", company="Brightside Hotels", country="NG",
    ...             source="trade_show", product_interest=("led-bulbs",),
    ...             created_at=datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc))
    >>> lead.status
    <LeadStatus.NEW: 'new'>
    """

    id: LeadId = entity_id_field("Lead")
    status: LeadStatus = attrs.field(default=LeadStatus.NEW, validator=enum_of(LeadStatus))
    source: str | None = attrs.field(default=None, validator=_opt_short)
    campaign: str | None = attrs.field(default=None, validator=_opt_short)
    first_name: str | None = attrs.field(default=None, validator=_opt_short)
    last_name: str | None = attrs.field(default=None, validator=_opt_short)
    company: str | None = attrs.field(default=None, validator=_opt_short)
    title: str | None = attrs.field(default=None, validator=_opt_short)
    email: str | None = attrs.field(default=None, validator=optional(email_address))
    phone: str | None = attrs.field(default=None, validator=optional(text(max_length=40)))
    country: str | None = attrs.field(default=None, validator=optional(country_code))
    region: str | None = attrs.field(default=None, validator=_opt_short)
    postal_code: str | None = attrs.field(default=None, validator=optional(text(max_length=20)))
    city: str | None = attrs.field(default=None, validator=_opt_short)
    industry: str | None = attrs.field(default=None, validator=_opt_short)
    company_size: int | None = attrs.field(default=None, validator=optional(non_negative_int))
    product_interest: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(text(max_length=100))
    )
    language: str | None = attrs.field(default=None, validator=optional(text(max_length=35)))
    owner_id: SalesRepId | None = attrs.field(default=None, validator=optional(id_of("SalesRep")))
    territory_id: TerritoryId | None = attrs.field(
        default=None, validator=optional(id_of("Territory"))
    )
    territory_key: str | None = attrs.field(default=None, validator=optional(text(max_length=100)))
    queue: str | None = attrs.field(default=None, validator=optional(text(max_length=100)))
    routing_pinned: bool = attrs.field(default=False, validator=instance_of(bool, "true or false"))
    disqualification_reason: str | None = attrs.field(default=None, validator=_opt_short)
    converted_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    converted_account_id: AccountId | None = attrs.field(
        default=None, validator=optional(id_of("Account"))
    )
    converted_contact_id: ContactId | None = attrs.field(
        default=None, validator=optional(id_of("Contact"))
    )
    converted_opportunity_id: OpportunityId | None = attrs.field(
        default=None, validator=optional(id_of("Opportunity"))
    )
    quality_issues: tuple[DataQualityIssue, ...] = attrs.field(
        default=(),
        converter=to_tuple,
        validator=tuple_of(instance_of(DataQualityIssue, "a DataQualityIssue")),
    )
    score: Decimal | None = attrs.field(
        default=None, converter=to_decimal, validator=optional(decimal_value)
    )
    grade: str | None = attrs.field(default=None, validator=optional(text(max_length=20)))
    scored_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    qualified_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    merged_into_id: str | None = attrs.field(default=None, validator=optional(id_of_any))

    def _check(self) -> None:
        if not (self.last_name or self.company or self.email or self.phone):
            raise ValidationError(
                "$.last_name",
                None,
                "at least one of last_name, company, email or phone to identify the lead",
            )
        if self.status is LeadStatus.DISQUALIFIED and not self.disqualification_reason:
            raise ValidationError(
                "$.disqualification_reason", None, "a reason when the status is disqualified"
            )
        if self.status is LeadStatus.CONVERTED:
            # Name each missing field, so the path points at what to fill in.
            missing = [
                Problem(
                    f"$.{name}",
                    "a value when the status is converted (converted_at and "
                    "converted_account_id are both required)",
                    None,
                )
                for name in ("converted_at", "converted_account_id")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValidationError.from_problems(missing)
