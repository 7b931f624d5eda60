"""Payment verification decisions, and what each one does to a placed order.

When an order is placed the service asks the ``sfakit_verify_payment`` plugin hook for
a :class:`PaymentDecision` (see the plugins page): *approve* it, *hold* it for a person to
approve, or *decline* it, always with a reason. :func:`apply_payment_decision` turns the
decision into the order's next state, the way Stripe's PaymentIntents distinguish
``succeeded``, ``requires_action`` and ``canceled``:

* approve → ``payment_verified`` (card) or ``on_account`` (charged on the account's terms);
* hold → the order stays ``placed`` with its ``hold_reason``, until someone approves it
  (``Sfa.approve_payment``) or cancels it;
* decline → ``cancelled``, the reason kept as its ``cancel_reason``.

:func:`default_payment_decision` is the built-in policy: orders on account terms are
approved, card orders are held for manual approval.

>>> from datetime import datetime, timezone
>>> from sfakit.model import Account, Money, Order, OrderLine, OrderStatus, PaymentMethod
>>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
>>> acme = Account(name="Acme", created_at=at)
>>> order = Order(account_id=acme.id, currency="EUR", created_at=at, status=OrderStatus.PLACED,
...               payment_method=PaymentMethod.CARD, confirmation_number="SO-79F-G3G-KQH",
...               placed_at=at, lines=[OrderLine(product_id="prod_bulb", quantity=10,
...                                              unit_price=Money.of("1.20", "EUR"))])
>>> decision = default_payment_decision(order, acme)
>>> decision.outcome.value, decision.reason
('hold', 'card payments are approved by hand')
>>> apply_payment_decision(order, decision, at=at).hold_reason
'card payments are approved by hand'
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from sfakit.errors import ValidationError
from sfakit.model.checks import enum_of, optional, text
from sfakit.model.orders import Order, OrderStatus, PaymentMethod
from sfakit.model.parties import Account
from sfakit.orders.status import OrderTransitionError, allowed_transitions, confirmed_status
from sfakit.orders.status import transition as _transition

__all__ = [
    "PaymentDecision",
    "PaymentOutcome",
    "apply_payment_decision",
    "default_payment_decision",
]


class PaymentOutcome(enum.StrEnum):
    """What payment verification decided.

    >>> PaymentOutcome("hold") is PaymentOutcome.HOLD
    True
    """

    APPROVE = "approve"
    HOLD = "hold"
    DECLINE = "decline"


@attrs.frozen(kw_only=True)
class PaymentDecision:
    """The answer of payment verification: an outcome, why, and who decided (a plugin's
    name, a rule's, a person's).

    >>> PaymentDecision.hold("amount above the card limit", by="risk").outcome.value
    'hold'
    """

    outcome: PaymentOutcome = attrs.field(validator=enum_of(PaymentOutcome))
    reason: str = attrs.field(validator=text(max_length=1000))
    by: str | None = attrs.field(default=None, validator=optional(text(max_length=200)))

    @classmethod
    def approve(cls, reason: str, *, by: str | None = None) -> PaymentDecision:
        return cls(outcome=PaymentOutcome.APPROVE, reason=reason, by=by)

    @classmethod
    def hold(cls, reason: str, *, by: str | None = None) -> PaymentDecision:
        return cls(outcome=PaymentOutcome.HOLD, reason=reason, by=by)

    @classmethod
    def decline(cls, reason: str, *, by: str | None = None) -> PaymentDecision:
        return cls(outcome=PaymentOutcome.DECLINE, reason=reason, by=by)


def default_payment_decision(order: Order, account: Account) -> PaymentDecision:
    """The built-in policy: approve orders charged to the account on its terms; hold
    card orders until someone approves them by hand."""
    if order.payment_method is PaymentMethod.ON_ACCOUNT:
        return PaymentDecision.approve(
            f"charged to account {account.name!r} on its terms", by="sfakit.default_payments"
        )
    return PaymentDecision.hold("card payments are approved by hand", by="sfakit.default_payments")


def apply_payment_decision(order: Order, decision: PaymentDecision, *, at: datetime) -> Order:
    """The placed ``order`` after ``decision`` (see the module documentation).

    An order that is not ``placed`` raises
    :class:`~sfakit.orders.OrderTransitionError`: its payment was decided already.
    """
    if not isinstance(decision, PaymentDecision):
        raise ValidationError("$.decision", decision, "a PaymentDecision")
    if order.status is not OrderStatus.PLACED:
        target = (
            confirmed_status(order.payment_method)
            if decision.outcome is not PaymentOutcome.DECLINE
            else OrderStatus.CANCELLED
        )
        raise OrderTransitionError(order.id, order.status, target, allowed_transitions(order))
    if decision.outcome is PaymentOutcome.APPROVE:
        return _transition(order, confirmed_status(order.payment_method), at=at)
    if decision.outcome is PaymentOutcome.HOLD:
        return order.evolve(hold_reason=decision.reason)
    return _transition(
        order, OrderStatus.CANCELLED, at=at, cancel_reason=f"payment declined: {decision.reason}"
    )
