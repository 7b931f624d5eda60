"""Products, orders and standing (recurring) orders."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

import attrs
from dateutil.rrule import rrulestr

from sfakit.errors import ValidationError
from sfakit.model.base import Entity, entity_id_field, fix_offsets
from sfakit.model.checks import (
    aware_datetime,
    currency_code,
    decimal_value,
    enum_of,
    id_of,
    instance_of,
    optional,
    plain_date,
    text,
    timezone_name,
    to_decimal,
    to_tuple,
    tuple_of,
)
from sfakit.model.ids import (
    AccountId,
    ContactId,
    OrderId,
    ProductId,
    SalesRepId,
    StandingOrderId,
)
from sfakit.model.money import Money

__all__ = [
    "CatchUpPolicy",
    "LineChange",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Pause",
    "PaymentMethod",
    "PricingPolicy",
    "Product",
    "RecurrenceSpec",
    "StandingOrder",
    "StandingOrderStatus",
]

_opt_short = optional(text(max_length=200))


@attrs.frozen(kw_only=True)
class Product(Entity):
    """Something we sell, with its list price."""

    id: ProductId = entity_id_field("Product")
    sku: str = attrs.field(validator=text(max_length=64))
    name: str = attrs.field(validator=text(max_length=200))
    unit_price: Money = attrs.field(validator=instance_of(Money, "Money"))
    product_line: str | None = attrs.field(default=None, validator=_opt_short)
    active: bool = attrs.field(default=True, validator=instance_of(bool, "true or false"))
    description: str | None = attrs.field(default=None, validator=optional(text(max_length=2000)))


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    decimal_value(instance, attribute, value)
    if value <= 0:
        raise ValidationError(f"$.{attribute.name}", value, "a quantity greater than 0")


@attrs.frozen(kw_only=True)
class OrderLine:
    """One line of an order: a quantity of a product at a unit price.

    >>> OrderLine(product_id="prod_bulb", quantity=1000, unit_price=Money.of("1.20", "EUR")).total
    Money('1200.00', 'EUR')
    """

    product_id: ProductId = attrs.field(validator=id_of("Product"))
    quantity: Decimal = attrs.field(converter=to_decimal, validator=_positive)
    unit_price: Money = attrs.field(validator=instance_of(Money, "Money"))
    description: str | None = attrs.field(default=None, validator=optional(text(max_length=500)))

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


def _check_lines(lines: tuple[OrderLine, ...], currency: str) -> None:
    for index, line in enumerate(lines):
        if line.unit_price.currency != currency:
            raise ValidationError(
                f"$.lines[{index}].unit_price.currency",
                line.unit_price.currency,
                f"{currency!r}, the currency of the order",
            )


class OrderStatus(enum.StrEnum):
    DRAFT = "draft"
    PLACED = "placed"
    PAYMENT_VERIFIED = "payment_verified"
    ON_ACCOUNT = "on_account"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class PaymentMethod(enum.StrEnum):
    CARD = "card"
    ON_ACCOUNT = "on_account"


_order_line = instance_of(OrderLine, "an OrderLine")


@attrs.frozen(kw_only=True)
class Order(Entity):
    """An order: lines in one currency, a confirmation number once placed, a status.

    ``occurrence_key`` is set on orders a standing order created, so the same
    occurrence can never be ordered twice. ``confirmed_at`` is when its payment was
    verified or it was charged to the account; ``hold_reason`` says why payment
    verification held it for manual approval (``payment_approved_by`` then names who
    approved it); ``cancel_reason`` and ``return_reason`` say why it was cancelled or
    returned. :mod:`sfakit.orders` moves an order through its statuses.
    """

    id: OrderId = entity_id_field("Order")
    account_id: AccountId = attrs.field(validator=id_of("Account"))
    contact_id: ContactId | None = attrs.field(default=None, validator=optional(id_of("Contact")))
    currency: str = attrs.field(validator=currency_code)
    lines: tuple[OrderLine, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(_order_line)
    )
    status: OrderStatus = attrs.field(default=OrderStatus.DRAFT, validator=enum_of(OrderStatus))
    payment_method: PaymentMethod = attrs.field(
        default=PaymentMethod.ON_ACCOUNT, validator=enum_of(PaymentMethod)
    )
    confirmation_number: str | None = attrs.field(
        default=None, validator=optional(text(max_length=40))
    )
    owner_id: SalesRepId | None = attrs.field(default=None, validator=optional(id_of("SalesRep")))
    placed_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    shipped_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    delivered_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    carrier: str | None = attrs.field(default=None, validator=_opt_short)
    tracking_number: str | None = attrs.field(default=None, validator=_opt_short)
    standing_order_id: StandingOrderId | None = attrs.field(
        default=None, validator=optional(id_of("StandingOrder"))
    )
    occurrence_key: str | None = attrs.field(default=None, validator=optional(text(max_length=200)))
    # Set by the order status machine (sfakit.orders) as the order moves on.
    confirmed_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    payment_approved_by: str | None = attrs.field(default=None, validator=_opt_short)
    hold_reason: str | None = attrs.field(default=None, validator=optional(text(max_length=1000)))
    cancelled_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    cancel_reason: str | None = attrs.field(default=None, validator=optional(text(max_length=1000)))
    returned_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    return_reason: str | None = attrs.field(default=None, validator=optional(text(max_length=1000)))

    def _check(self) -> None:
        _check_lines(self.lines, self.currency)

    @property
    def total(self) -> Money:
        return Money.sum((line.total for line in self.lines), currency=self.currency)


class StandingOrderStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"


class PricingPolicy(enum.StrEnum):
    """``fixed``: the lines' prices; ``at_occurrence``: the product's price on the day."""

    FIXED = "fixed"
    AT_OCCURRENCE = "at_occurrence"


class CatchUpPolicy(enum.StrEnum):
    """What to do with occurrences missed while no scheduler ran."""

    ALL = "all"
    LATEST = "latest"
    NONE = "none"


_RRULE_EXPECTED: Final = "an RFC 5545 RRULE such as 'FREQ=MONTHLY;INTERVAL=2'"
_DATESTARTS: Final = (datetime(2000, 1, 1), datetime(2000, 1, 1, tzinfo=UTC))


def _rule_parts(value: str, path: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for part in value.split(";"):
        key, sep, text = part.partition("=")
        if not sep or key.upper() in parts:
            raise ValidationError(path, value, f"{_RRULE_EXPECTED}; bad or repeated part {part!r}")
        parts[key.upper()] = text
    return parts


def _rrule_text(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    path = f"$.{attribute.name}"
    if not isinstance(value, str) or not value.strip() or len(value) > 1000:
        raise ValidationError(path, value, _RRULE_EXPECTED)
    if value.upper().startswith(("RRULE:", "DTSTART")):
        raise ValidationError(path, value, f"{_RRULE_EXPECTED}, without 'RRULE:' or DTSTART")
    parts = _rule_parts(value, path)
    for key in ("INTERVAL", "COUNT"):
        if key in parts and not (parts[key].isdigit() and 1 <= int(parts[key]) <= 10_000):
            raise ValidationError(path, value, f"{key} as a whole number from 1 to 10000")
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValidationError(path, value, "COUNT or UNTIL, not both (RFC 5545)")
    # UNTIL is floating with a floating start and UTC ('Z') with a zoned one: either parses.
    for start in _DATESTARTS:
        try:
            rrulestr(value, dtstart=start)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError):
            # dateutil signals a malformed rule with any of these (OverflowError: a number
            # too large for a C long, as in BYHOUR=99999999999999999999).
            continue
        return
    raise ValidationError(path, value, _RRULE_EXPECTED)


@attrs.frozen(kw_only=True)
class RecurrenceSpec:
    """When a standing order repeats: an RRULE, its first occurrence, and the time zone.

    The wall-clock time of ``start`` in ``timezone`` is the anchor every occurrence
    keeps (``FREQ=MONTHLY;INTERVAL=2`` from 31 January keeps to the 31st where it can).

    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> RecurrenceSpec(rule="FREQ=MONTHLY;INTERVAL=2",
    ...                start=datetime(2026, 1, 31, 8, tzinfo=ZoneInfo("Europe/Berlin")),
    ...                timezone="Europe/Berlin").rule
    'FREQ=MONTHLY;INTERVAL=2'
    """

    rule: str = attrs.field(validator=_rrule_text)
    start: datetime = attrs.field(validator=aware_datetime)
    timezone: str = attrs.field(validator=timezone_name)

    def __attrs_post_init__(self) -> None:
        fix_offsets(self)


@attrs.frozen(kw_only=True)
class Pause:
    """A standing order paused from ``start`` to ``end`` (inclusive; None: until resumed).
    Occurrences inside are skipped and recorded, never placed late."""

    start: date = attrs.field(validator=plain_date)
    end: date | None = attrs.field(default=None, validator=optional(plain_date))
    reason: str | None = attrs.field(default=None, validator=_opt_short)

    def __attrs_post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValidationError("$.end", self.end, f"a date on or after {self.start.isoformat()}")


@attrs.frozen(kw_only=True)
class LineChange:
    """New lines for a standing order's occurrences from ``effective_from`` on (a
    local date); earlier occurrences keep the lines they had."""

    effective_from: date = attrs.field(validator=plain_date)
    lines: tuple[OrderLine, ...] = attrs.field(converter=to_tuple, validator=tuple_of(_order_line))
    changed_at: datetime = attrs.field(validator=aware_datetime)
    by: str | None = attrs.field(default=None, validator=_opt_short)

    def __attrs_post_init__(self) -> None:
        if not self.lines:
            raise ValidationError("$.lines", self.lines, "at least one order line")
        fix_offsets(self)


_line_change = instance_of(LineChange, "a LineChange")


@attrs.frozen(kw_only=True)
class StandingOrder(Entity):
    """An order template that repeats on a schedule ("1000 bulbs every two months")."""

    id: StandingOrderId = entity_id_field("StandingOrder")
    account_id: AccountId = attrs.field(validator=id_of("Account"))
    contact_id: ContactId | None = attrs.field(default=None, validator=optional(id_of("Contact")))
    currency: str = attrs.field(validator=currency_code)
    lines: tuple[OrderLine, ...] = attrs.field(converter=to_tuple, validator=tuple_of(_order_line))
    schedule: RecurrenceSpec = attrs.field(
        validator=instance_of(RecurrenceSpec, "a RecurrenceSpec")
    )
    status: StandingOrderStatus = attrs.field(
        default=StandingOrderStatus.ACTIVE, validator=enum_of(StandingOrderStatus)
    )
    pricing: PricingPolicy = attrs.field(
        default=PricingPolicy.FIXED, validator=enum_of(PricingPolicy)
    )
    catch_up: CatchUpPolicy = attrs.field(
        default=CatchUpPolicy.ALL, validator=enum_of(CatchUpPolicy)
    )
    payment_method: PaymentMethod = attrs.field(
        default=PaymentMethod.ON_ACCOUNT, validator=enum_of(PaymentMethod)
    )
    ends_on: date | None = attrs.field(default=None, validator=optional(plain_date))
    owner_id: SalesRepId | None = attrs.field(default=None, validator=optional(id_of("SalesRep")))
    skipped_dates: tuple[date, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(plain_date)
    )
    pauses: tuple[Pause, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(instance_of(Pause, "a Pause"))
    )
    line_changes: tuple[LineChange, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(_line_change)
    )
    handled_until: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    next_due_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))

    def _check(self) -> None:
        if not self.lines:
            raise ValidationError("$.lines", self.lines, "at least one order line")
        _check_lines(self.lines, self.currency)
        previous: date | None = None
        for index, change in enumerate(self.line_changes):
            try:
                _check_lines(change.lines, self.currency)
            except ValidationError as exc:
                raise exc.under(f"$.line_changes[{index}]") from None
            if previous is not None and change.effective_from <= previous:
                raise ValidationError(
                    f"$.line_changes[{index}].effective_from",
                    change.effective_from,
                    f"a date after the previous change's ({previous.isoformat()})",
                )
            previous = change.effective_from

    def lines_on(self, local_date: date) -> tuple[OrderLine, ...]:
        """The lines of the occurrence on ``local_date``: the latest change effective on
        or before it, else the original lines (so past orders never change)."""
        lines = self.lines
        for change in self.line_changes:
            if change.effective_from <= local_date:
                lines = change.lines
        return lines

    def paused_on(self, local_date: date) -> bool:
        """Whether ``local_date`` falls inside a pause (ends inclusive, open end None)."""
        return any(
            p.start <= local_date and (p.end is None or local_date <= p.end) for p in self.pauses
        )
