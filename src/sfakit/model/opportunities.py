"""Opportunities (deals in a pipeline) and the history of their stage moves."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import attrs

from sfakit.errors import ValidationError
from sfakit.model.base import Entity, entity_id_field
from sfakit.model.checks import (
    aware_datetime,
    enum_of,
    id_of,
    instance_of,
    optional,
    percentage,
    plain_date,
    text,
    to_decimal,
)
from sfakit.model.ids import (
    AccountId,
    ContactId,
    OpportunityId,
    SalesRepId,
    StageChangeId,
    TerritoryId,
)
from sfakit.model.money import Money

__all__ = ["ForecastCategory", "Opportunity", "StageChange"]


class ForecastCategory(enum.StrEnum):
    """Where a deal counts in a forecast (Salesforce's categories)."""

    PIPELINE = "pipeline"
    BEST_CASE = "best_case"
    COMMIT = "commit"
    CLOSED = "closed"
    OMITTED = "omitted"


_key = text(max_length=100)
_opt_short = optional(text(max_length=200))


@attrs.frozen(kw_only=True)
class Opportunity(Entity):
    """A deal being worked: which pipeline and stage it is in, how much, when, whose.

    ``probability_override`` (0-100) and ``forecast_category_override`` replace the
    stage's defaults when set. ``closed_at`` is set when the deal reaches a closed stage.
    ``last_open_stage`` is kept by stage moves: the last open stage the deal left, so a
    lost deal says where it was lost without reading its history.

    >>> from datetime import date, datetime, timezone
    >>> deal = Opportunity(name="1000 bulbs every two months", account_id="acct_demo",
    ...                    pipeline="standard", stage="qualify",
    ...                    amount=Money.of("4800", "EUR"), close_date=date(2026, 6, 30),
    ...                    created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    >>> deal.amount
    Money('4800.00', 'EUR')
    """

    id: OpportunityId = entity_id_field("Opportunity")
    name: str = attrs.field(validator=text(max_length=200))
    account_id: AccountId = attrs.field(validator=id_of("Account"))
    pipeline: str = attrs.field(validator=_key)
    stage: str = attrs.field(validator=_key)
    amount: Money | None = attrs.field(
        default=None, validator=optional(instance_of(Money, "Money"))
    )
    close_date: date | None = attrs.field(default=None, validator=optional(plain_date))
    owner_id: SalesRepId | None = attrs.field(default=None, validator=optional(id_of("SalesRep")))
    territory_id: TerritoryId | None = attrs.field(
        default=None, validator=optional(id_of("Territory"))
    )
    primary_contact_id: ContactId | None = attrs.field(
        default=None, validator=optional(id_of("Contact"))
    )
    source: str | None = attrs.field(default=None, validator=_opt_short)
    product_line: str | None = attrs.field(default=None, validator=_opt_short)
    probability_override: Decimal | None = attrs.field(
        default=None, converter=to_decimal, validator=optional(percentage)
    )
    forecast_category_override: ForecastCategory | None = attrs.field(
        default=None, validator=optional(enum_of(ForecastCategory))
    )
    next_step: str | None = attrs.field(default=None, validator=optional(text(max_length=500)))
    lost_reason: str | None = attrs.field(default=None, validator=_opt_short)
    last_open_stage: str | None = attrs.field(default=None, validator=optional(_key))
    closed_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))

    def _check(self) -> None:
        if self.close_date is not None and self.close_date < self.created_at.date():
            raise ValidationError(
                "$.close_date",
                self.close_date,
                f"a date on or after the creation date {self.created_at.date().isoformat()}",
            )
        if self.closed_at is not None and self.closed_at < self.created_at:
            raise ValidationError("$.closed_at", self.closed_at, "a moment at or after created_at")


@attrs.frozen(kw_only=True)
class StageChange(Entity):
    """One move of an opportunity from a stage to another: the append-only history.

    ``from_stage`` is None for the first entry (the deal's creation). ``amount`` and
    ``probability`` are as they were at that moment, so history can be replayed.
    """

    id: StageChangeId = entity_id_field("StageChange")
    opportunity_id: OpportunityId = attrs.field(validator=id_of("Opportunity"))
    pipeline: str = attrs.field(validator=_key)
    from_stage: str | None = attrs.field(default=None, validator=optional(_key))
    to_stage: str = attrs.field(validator=_key)
    at: datetime = attrs.field(validator=aware_datetime)
    by: str | None = attrs.field(default=None, validator=_opt_short)
    reason: str | None = attrs.field(default=None, validator=optional(text(max_length=500)))
    amount: Money | None = attrs.field(
        default=None, validator=optional(instance_of(Money, "Money"))
    )
    probability: Decimal | None = attrs.field(
        default=None, converter=to_decimal, validator=optional(percentage)
    )

    def _check(self) -> None:
        if self.from_stage is not None and self.from_stage == self.to_stage:
            raise ValidationError("$.to_stage", self.to_stage, "a stage other than from_stage")
