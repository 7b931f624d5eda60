"""The order status machine, as data, and the one function that applies it.

::

    draft ──► placed ──► payment_verified (card) ──┐
      │         │    └─► on_account (on terms) ────┴─► shipped ──► delivered
      │         │              │                          │           │
      └─────────┴──────────────┴──► cancelled             └───────────┴──► returned

Each allowed move is one :class:`OrderTransition` in :data:`ORDER_TRANSITIONS`: its
source and target, the details it needs (``carrier`` and ``tracking_number`` to ship, a
``cancel_reason`` to cancel …), the timestamp field it sets, and, for the payment step,
the payment method it is for (a card order is *verified*, an order on account terms is
*charged to the account*). Cancelled and returned are final, as in Odoo's sale orders and
Stripe's order objects: a new order is placed instead of reopening one.

>>> from datetime import datetime, timezone
>>> from sfakit.model import Money, Order, OrderLine, OrderStatus
>>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
>>> draft = Order(account_id="acct_acme", currency="EUR", created_at=at,
...               lines=[OrderLine(product_id="prod_bulb", quantity=1000,
...                                unit_price=Money.of("1.20", "EUR"))])
>>> [str(s) for s in allowed_transitions(draft)]
['placed', 'cancelled']
>>> placed = transition(draft, OrderStatus.PLACED, at=at, confirmation_number="SO-79F-G3G-KQH")
>>> placed.status, placed.placed_at == at
(<OrderStatus.PLACED: 'placed'>, True)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

import attrs

from sfakit.errors import TransitionError, ValidationError
from sfakit.model.checks import enum_of, text, to_tuple, tuple_of
from sfakit.model.checks import optional as optional_value
from sfakit.model.orders import Order, OrderStatus, PaymentMethod

__all__ = [
    "FINAL_STATUSES",
    "ORDER_TRANSITIONS",
    "OrderTransition",
    "OrderTransitionError",
    "allowed_transitions",
    "confirmed_status",
    "is_held",
    "transition",
]

S = OrderStatus

#: Statuses no transition leaves.
FINAL_STATUSES: Final = frozenset({S.CANCELLED, S.RETURNED})

# The fields a transition may set besides status and its stamp: exactly the order's
# status-related fields, so no transition can rewrite lines, prices or the account.
_DETAIL_FIELDS: Final = frozenset(
    {
        "confirmation_number",
        "payment_approved_by",
        "carrier",
        "tracking_number",
        "cancel_reason",
        "return_reason",
    }
)
_STAMP_FIELDS: Final = frozenset(
    {"placed_at", "confirmed_at", "shipped_at", "delivered_at", "cancelled_at", "returned_at"}
)


def _detail_names(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(text(max_length=100))(instance, attribute, value)
    for index, name in enumerate(value):
        if name not in _DETAIL_FIELDS:
            allowed = ", ".join(sorted(_DETAIL_FIELDS))
            raise ValidationError(f"$.{attribute.name}[{index}]", name, f"one of {allowed}")


def _stamp_name(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in _STAMP_FIELDS:
        allowed = ", ".join(sorted(_STAMP_FIELDS))
        raise ValidationError(f"$.{attribute.name}", value, f"one of {allowed}")


@attrs.frozen(kw_only=True)
class OrderTransition:
    """One allowed status change.

    ``required`` details must be given (non-blank), ``optional`` ones may be; both name
    fields of :class:`~sfakit.model.Order`. ``stamp`` is the timestamp field set to the
    moment of the change. ``payment_method`` limits the transition to orders paid that
    way (None: any order).

    >>> ship = OrderTransition(source=OrderStatus.ON_ACCOUNT, target=OrderStatus.SHIPPED,
    ...                        required=("carrier", "tracking_number"), stamp="shipped_at")
    >>> ship in ORDER_TRANSITIONS
    True
    """

    source: OrderStatus = attrs.field(validator=enum_of(OrderStatus))
    target: OrderStatus = attrs.field(validator=enum_of(OrderStatus))
    required: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=_detail_names)
    optional: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=_detail_names)
    stamp: str = attrs.field(validator=_stamp_name)
    payment_method: PaymentMethod | None = attrs.field(
        default=None, validator=optional_value(enum_of(PaymentMethod))
    )

    def applies_to(self, order: Order) -> bool:
        """Whether this transition leaves ``order``'s status for an order paid its way."""
        return self.source is order.status and (
            self.payment_method is None or self.payment_method is order.payment_method
        )


def _cancel(source: OrderStatus) -> OrderTransition:
    return OrderTransition(
        source=source, target=S.CANCELLED, required=("cancel_reason",), stamp="cancelled_at"
    )


def _return(source: OrderStatus) -> OrderTransition:
    return OrderTransition(
        source=source, target=S.RETURNED, required=("return_reason",), stamp="returned_at"
    )


def _ship(source: OrderStatus) -> OrderTransition:
    return OrderTransition(
        source=source,
        target=S.SHIPPED,
        required=("carrier", "tracking_number"),
        stamp="shipped_at",
    )


#: Every allowed status change, in the order a UI would offer them.
ORDER_TRANSITIONS: Final[tuple[OrderTransition, ...]] = (
    OrderTransition(
        source=S.DRAFT, target=S.PLACED, required=("confirmation_number",), stamp="placed_at"
    ),
    _cancel(S.DRAFT),
    OrderTransition(
        source=S.PLACED,
        target=S.PAYMENT_VERIFIED,
        optional=("payment_approved_by",),
        stamp="confirmed_at",
        payment_method=PaymentMethod.CARD,
    ),
    OrderTransition(
        source=S.PLACED,
        target=S.ON_ACCOUNT,
        optional=("payment_approved_by",),
        stamp="confirmed_at",
        payment_method=PaymentMethod.ON_ACCOUNT,
    ),
    _cancel(S.PLACED),
    _ship(S.PAYMENT_VERIFIED),
    _cancel(S.PAYMENT_VERIFIED),
    _ship(S.ON_ACCOUNT),
    _cancel(S.ON_ACCOUNT),
    OrderTransition(source=S.SHIPPED, target=S.DELIVERED, stamp="delivered_at"),
    _return(S.SHIPPED),
    _return(S.DELIVERED),
)


class OrderTransitionError(TransitionError):
    """A status change the machine does not allow; ``allowed`` lists the ones it does.

    Nothing was changed.
    """

    def __init__(
        self, order_id: str, current: OrderStatus, target: object, allowed: Iterable[OrderStatus]
    ) -> None:
        self.order_id = order_id
        self.current = current
        self.target = target
        self.allowed = tuple(allowed)
        shown = target.value if isinstance(target, OrderStatus) else repr(target)
        options = ", ".join(s.value for s in self.allowed) or f"none ({current.value} is final)"
        super().__init__(
            f"order {order_id!r} cannot go from {current.value} to {shown}; "
            f"allowed from {current.value}: {options}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (OrderTransitionError, (self.order_id, self.current, self.target, self.allowed))


def _transitions_from(order: Order) -> list[OrderTransition]:
    return [t for t in ORDER_TRANSITIONS if t.applies_to(order)]


def allowed_transitions(order: Order) -> tuple[OrderStatus, ...]:
    """The statuses ``order`` may move to now (empty for a final status)."""
    return tuple(t.target for t in _transitions_from(order))


def confirmed_status(payment_method: PaymentMethod) -> OrderStatus:
    """Where an approved payment takes a placed order: ``payment_verified`` for a card,
    ``on_account`` for an order charged to the account on its terms.

    >>> confirmed_status(PaymentMethod.CARD).value
    'payment_verified'
    """
    return S.PAYMENT_VERIFIED if payment_method is PaymentMethod.CARD else S.ON_ACCOUNT


def is_held(order: Order) -> bool:
    """Whether ``order`` is placed and waiting for a manual payment approval."""
    return order.status is S.PLACED and order.hold_reason is not None


def _last_moment(order: Order) -> tuple[str, datetime]:
    latest = ("created_at", order.created_at)
    for name in sorted(_STAMP_FIELDS):
        value: datetime | None = getattr(order, name)
        if value is not None and value > latest[1]:
            latest = (name, value)
    return latest


def _check_details(rule: OrderTransition, details: dict[str, Any]) -> None:
    allowed = rule.required + rule.optional
    for name, value in details.items():
        if name not in allowed:
            what = ", ".join(allowed) if allowed else "no details"
            raise ValidationError(
                f"$.{name}", value, f"{what} to move an order to {rule.target.value}"
            )
    for name in rule.required:
        if details.get(name) is None:
            raise ValidationError(
                f"$.{name}", expected=f"a {name} to move an order to {rule.target.value}"
            )


def transition(order: Order, target: OrderStatus | str, *, at: datetime, **details: Any) -> Order:
    """``order`` moved to ``target`` at ``at``, with ``details`` set on it.

    Raises :class:`OrderTransitionError` (listing the allowed targets) for a move the
    machine does not allow, and :class:`~sfakit.errors.ValidationError` for a missing or
    unexpected detail, a naive ``at``, an ``at`` before the order's last change, or
    placing an order that has no lines. The order passed in is never changed.
    """
    try:
        wanted = OrderStatus(target)
    except ValueError:
        raise OrderTransitionError(
            order.id, order.status, target, allowed_transitions(order)
        ) from None
    rules = _transitions_from(order)
    rule = next((r for r in rules if r.target is wanted), None)
    if rule is None:
        raise OrderTransitionError(order.id, order.status, wanted, [r.target for r in rules])
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise ValidationError("$.at", at, "a timezone-aware datetime")
    last_field, last = _last_moment(order)
    if at < last:
        raise ValidationError("$.at", at, f"a moment at or after {last_field} ({last.isoformat()})")
    _check_details(rule, details)
    if wanted is S.PLACED and not order.lines:
        raise ValidationError("$.lines", order.lines, "at least one order line to place an order")
    return order.evolve(status=wanted, **{rule.stamp: at}, **details)
